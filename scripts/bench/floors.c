/* The machine's floors for installing a stack, measured with plain system calls.
 *
 *   floors write  THREADS BYTES DIR     THREADS threads each write BYTES to a new file of their
 *                                       own in DIR (1 MiB write() calls): prints bytes/s
 *   floors create THREADS FILES SIZE DIR  THREADS threads each create FILES files of SIZE bytes
 *                                       in a directory of their own under DIR (open, write,
 *                                       close, as an unpacker does): prints files/s
 *   floors onefile THREADS BYTES DIR pwrite|mmap
 *                                       THREADS threads write one file of BYTES together, in
 *                                       1 MiB ranges taken in turn, with pwrite or by copying
 *                                       into a shared mapping (each range populated first with
 *                                       MADV_POPULATE_WRITE): prints bytes/s. tmpfs takes the
 *                                       inode lock for every write() to a file, so pwrite stays
 *                                       at one writer's speed; page faults do not take it
 *
 * What scripts/bench/node-scaling compares shmstack's unpack with: the same node, the same
 * run, the same thread count. Built by it with `cc -O2 -pthread`; it removes what it wrote. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

struct task {
  int index, threads;
  const char* mode;
  long long bytes, files, size;
  const char* dir;
  int fd;      /* onefile: the shared file */
  char* map;   /* onefile mmap: its mapping */
};

static char buffer[1 << 20];

static void die(const char* what, const char* path) {
  fprintf(stderr, "floors: %s %s: %s\n", what, path, strerror(errno));
  exit(1);
}

static void* work(void* arg) {
  struct task* t = arg;
  char path[4096];
  if (strcmp(t->mode, "onefile") == 0) {
    long long ranges = (t->bytes + (long long)sizeof buffer - 1) / (long long)sizeof buffer;
    for (long long r = t->index; r < ranges; r += t->threads) {
      long long at = r * (long long)sizeof buffer;
      size_t n = t->bytes - at < (long long)sizeof buffer ? (size_t)(t->bytes - at) : sizeof buffer;
      if (t->map) {
        if (madvise(t->map + at, n, MADV_POPULATE_WRITE) != 0 && errno != EINVAL) die("cannot populate", t->dir);
        memcpy(t->map + at, buffer, n);
      } else if (pwrite(t->fd, buffer, n, at) != (ssize_t)n) {
        die("cannot write", t->dir);
      }
    }
    return NULL;
  }
  if (strcmp(t->mode, "write") == 0) {
    snprintf(path, sizeof path, "%s/w%d", t->dir, t->index);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0) die("cannot create", path);
    for (long long left = t->bytes; left > 0;) {
      ssize_t n = write(fd, buffer, left < (long long)sizeof buffer ? (size_t)left : sizeof buffer);
      if (n < 0) die("cannot write", path);
      left -= n;
    }
    if (close(fd) != 0) die("cannot write", path);
    return NULL;
  }
  snprintf(path, sizeof path, "%s/c%d", t->dir, t->index);
  if (mkdir(path, 0755) != 0) die("cannot create", path);
  size_t base = strlen(path);
  for (long long i = 0; i < t->files; ++i) {
    snprintf(path + base, sizeof path - base, "/f%lld", i);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0) die("cannot create", path);
    if (write(fd, buffer, (size_t)t->size) != t->size) die("cannot write", path);
    if (close(fd) != 0) die("cannot write", path);
  }
  return NULL;
}

int main(int argc, char** argv) {
  int creating = argc == 6 && strcmp(argv[1], "create") == 0;
  int onefile = argc == 6 && strcmp(argv[1], "onefile") == 0 &&
                (strcmp(argv[5], "pwrite") == 0 || strcmp(argv[5], "mmap") == 0);
  if (!creating && !onefile && !(argc == 5 && strcmp(argv[1], "write") == 0)) {
    fprintf(stderr, "usage: floors write THREADS BYTES DIR | floors create THREADS FILES SIZE DIR\n"
                    "     | floors onefile THREADS BYTES DIR pwrite|mmap\n");
    return 2;
  }
  int threads = atoi(argv[2]);
  if (threads < 1 || threads > 1024) return 2;
  memset(buffer, 'x', sizeof buffer);
  struct task tasks[1024];
  pthread_t ids[1024];
  struct timespec start, end;
  clock_gettime(CLOCK_MONOTONIC, &start);
  int fd = -1;
  char* map = NULL;
  long long onefile_bytes = onefile ? atoll(argv[3]) : 0;
  char path[4096];
  if (onefile) {  /* created, sized and mapped inside the timed span, as an unpacker does */
    snprintf(path, sizeof path, "%s/onefile", argv[4]);
    fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
    if (fd < 0) die("cannot create", path);
    if (ftruncate(fd, onefile_bytes) != 0) die("cannot size", path);
    if (strcmp(argv[5], "mmap") == 0) {
      map = mmap(NULL, (size_t)onefile_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      if (map == MAP_FAILED) die("cannot map", path);
    }
  }
  for (int i = 0; i < threads; ++i) {
    tasks[i] = (struct task){i, threads, argv[1], 0, 0, 0, onefile ? path : argv[argc - 1], fd, map};
    if (onefile) {
      tasks[i].bytes = onefile_bytes;
    } else if (creating) {
      tasks[i].files = atoll(argv[3]);
      tasks[i].size = atoll(argv[4]);
      if (tasks[i].size < 0 || tasks[i].size > (long long)sizeof buffer) return 2;
    } else {
      tasks[i].bytes = atoll(argv[3]);
    }
    pthread_create(&ids[i], NULL, work, &tasks[i]);
  }
  for (int i = 0; i < threads; ++i) pthread_join(ids[i], NULL);
  if (map && munmap(map, (size_t)onefile_bytes) != 0) die("cannot unmap", path);
  if (fd >= 0 && close(fd) != 0) die("cannot write", path);
  clock_gettime(CLOCK_MONOTONIC, &end);
  double seconds = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
  double amount = onefile ? (double)onefile_bytes : (double)threads * (double)atoll(argv[3]);  /* bytes or files */
  printf("%.0f\n", amount / seconds);
  return 0;
}
