// slowfs: a read-only FUSE passthrough that behaves like a parallel file
// system's metadata server under load, for the import-storm benchmark.
//
//   slowfs SOURCE MOUNTPOINT --delay-us=200 --stats=FILE [FUSE options]
//
// Every metadata operation (getattr, access, readlink, opendir, readdir,
// open) sleeps --delay-us microseconds; reads do not. The file system is run
// single-threaded (-s is added) so operations queue behind each other, as
// they do at one busy metadata server. The kernel caches nothing: entry,
// attribute and negative lookups time out at once, and file pages are
// dropped at each open. Reads are not metadata: a read() inside the file
// costs no getattr (since 2026-12-04; before, the kernel revalidated the
// attributes before every read(), which a client holding a read lock does not). Counts of each operation (and bytes read) are written
// to --stats when the file system is unmounted, and on SIGUSR1 (it is the
// benchmark's measure of metadata load).
//
// Build: cc -O2 -o slowfs slowfs.c $(pkg-config --cflags --libs fuse3)
#define FUSE_USE_VERSION 35
#define _GNU_SOURCE

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { OP_GETATTR, OP_ACCESS, OP_READLINK, OP_OPENDIR, OP_READDIR, OP_OPEN, OP_READ, OP_COUNT };
static const char* op_names[OP_COUNT] = {"getattr", "access", "readlink", "opendir", "readdir", "open", "read"};

static struct {
  int source_fd;       // the directory served, opened before mounting
  unsigned delay_us;
  const char* stats;
  unsigned long long ops[OP_COUNT];
  unsigned long long bytes_read;
  volatile sig_atomic_t dump;
} g;

static void write_stats(void) {
  if (!g.stats) return;
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", g.stats);
  FILE* f = fopen(tmp, "w");
  if (!f) return;
  unsigned long long metadata = 0;
  fprintf(f, "{");
  for (int i = 0; i < OP_COUNT; ++i) {
    fprintf(f, "\"%s\": %llu, ", op_names[i], g.ops[i]);
    if (i != OP_READ) metadata += g.ops[i];
  }
  fprintf(f, "\"metadata\": %llu, \"bytes_read\": %llu, \"delay_us\": %u}\n", metadata, g.bytes_read, g.delay_us);
  fclose(f);
  rename(tmp, g.stats);
}

// One metadata operation: counted, then the server "thinks" for delay_us.
static void metadata_op(int op) {
  g.ops[op]++;
  if (g.dump) {
    g.dump = 0;
    write_stats();
  }
  if (g.delay_us) {
    struct timespec t = {g.delay_us / 1000000, (long)(g.delay_us % 1000000) * 1000};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
  }
}

// FUSE paths start with '/'; relative to the source directory they do not.
static const char* rel(const char* path) { return path[1] ? path + 1 : "."; }

static void* slow_init(struct fuse_conn_info* conn, struct fuse_config* cfg) {
  // A read inside the file asks nothing of the metadata server, as on a client that
  // holds a read lock (Lustre, GPFS): without this the kernel would send a getattr
  // before every read() (attributes never stay valid here).
  conn->want &= ~FUSE_CAP_AUTO_INVAL_DATA;
  cfg->entry_timeout = 0;
  cfg->attr_timeout = 0;
  cfg->negative_timeout = 0;
  cfg->kernel_cache = 0;
  cfg->use_ino = 1;
  return NULL;
}

static void slow_destroy(void* data) {
  (void)data;
  write_stats();
}

static int slow_getattr(const char* path, struct stat* st, struct fuse_file_info* fi) {
  (void)fi;
  metadata_op(OP_GETATTR);
  return fstatat(g.source_fd, rel(path), st, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : -errno;
}

static int slow_access(const char* path, int mask) {
  metadata_op(OP_ACCESS);
  return faccessat(g.source_fd, rel(path), mask, 0) == 0 ? 0 : -errno;
}

static int slow_readlink(const char* path, char* buf, size_t size) {
  metadata_op(OP_READLINK);
  ssize_t n = readlinkat(g.source_fd, rel(path), buf, size - 1);
  if (n < 0) return -errno;
  buf[n] = '\0';
  return 0;
}

static int slow_opendir(const char* path, struct fuse_file_info* fi) {
  metadata_op(OP_OPENDIR);
  int fd = openat(g.source_fd, rel(path), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return -errno;
  DIR* dir = fdopendir(fd);
  if (!dir) {
    int saved = errno;
    close(fd);
    return -saved;
  }
  fi->fh = (uint64_t)(uintptr_t)dir;
  return 0;
}

static int slow_readdir(const char* path, void* buf, fuse_fill_dir_t fill, off_t offset, struct fuse_file_info* fi,
                        enum fuse_readdir_flags flags) {
  (void)path;
  (void)offset;
  (void)flags;
  metadata_op(OP_READDIR);
  DIR* dir = (DIR*)(uintptr_t)fi->fh;
  rewinddir(dir);
  for (struct dirent* e = readdir(dir); e; e = readdir(dir)) {
    struct stat st = {.st_ino = e->d_ino, .st_mode = (mode_t)DTTOIF(e->d_type)};
    if (fill(buf, e->d_name, &st, 0, 0)) break;
  }
  return 0;
}

static int slow_releasedir(const char* path, struct fuse_file_info* fi) {
  (void)path;
  closedir((DIR*)(uintptr_t)fi->fh);
  return 0;
}

static int slow_open(const char* path, struct fuse_file_info* fi) {
  metadata_op(OP_OPEN);
  if ((fi->flags & O_ACCMODE) != O_RDONLY) return -EROFS;
  int fd = openat(g.source_fd, rel(path), fi->flags & ~O_NOFOLLOW);
  if (fd < 0) return -errno;
  fi->fh = (uint64_t)fd;
  fi->keep_cache = 0;
  return 0;
}

static int slow_read(const char* path, char* buf, size_t size, off_t offset, struct fuse_file_info* fi) {
  (void)path;
  g.ops[OP_READ]++;
  ssize_t n = pread((int)fi->fh, buf, size, offset);
  if (n < 0) return -errno;
  g.bytes_read += (unsigned long long)n;
  return (int)n;
}

static int slow_release(const char* path, struct fuse_file_info* fi) {
  (void)path;
  close((int)fi->fh);
  return 0;
}

static const struct fuse_operations slow_ops = {
    .init = slow_init,
    .destroy = slow_destroy,
    .getattr = slow_getattr,
    .access = slow_access,
    .readlink = slow_readlink,
    .opendir = slow_opendir,
    .readdir = slow_readdir,
    .releasedir = slow_releasedir,
    .open = slow_open,
    .read = slow_read,
    .release = slow_release,
};

static void on_usr1(int sig) {
  (void)sig;
  g.dump = 1;
}

struct options {
  unsigned delay_us;
  const char* stats;
};
static const struct fuse_opt option_spec[] = {
    {"--delay-us=%u", offsetof(struct options, delay_us), 0},
    {"--stats=%s", offsetof(struct options, stats), 0},
    FUSE_OPT_END,
};

int main(int argc, char* argv[]) {
  if (argc < 3 || argv[1][0] == '-') {
    fprintf(stderr, "usage: slowfs SOURCE MOUNTPOINT [--delay-us=N] [--stats=FILE] [FUSE options]\n");
    return 2;
  }
  g.source_fd = open(argv[1], O_RDONLY | O_DIRECTORY);
  if (g.source_fd < 0) {
    fprintf(stderr, "slowfs: cannot open %s: %s\n", argv[1], strerror(errno));
    return 1;
  }
  struct options opts = {200, NULL};
  // FUSE parses the rest: the program name, then MOUNTPOINT and its options.
  argv[1] = argv[0];
  struct fuse_args args = FUSE_ARGS_INIT(argc - 1, argv + 1);
  if (fuse_opt_parse(&args, &opts, option_spec, NULL) != 0) return 2;
  g.delay_us = opts.delay_us;
  g.stats = opts.stats;
  fuse_opt_add_arg(&args, "-s");
  fuse_opt_add_arg(&args, "-oro,default_permissions,allow_other,fsname=slowfs");
  struct sigaction sa = {.sa_handler = on_usr1};
  sigaction(SIGUSR1, &sa, NULL);
  return fuse_main(args.argc, args.argv, &slow_ops, NULL);
}
