#include "base/regular_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/error.hpp"

namespace shmstack {

const char* file_kind(mode_t mode) {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISLNK(mode)) return "a symlink";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "not a file";
}

int open_regular(int dirfd, const std::string& path, int flags, std::string& problem, struct stat* st) {
  int fd = ::openat(dirfd, path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | flags);
  if (fd < 0) {
    problem = std::strerror(errno);
    return -1;
  }
  struct stat own{};
  struct stat& status = st ? *st : own;
  if (::fstat(fd, &status) != 0) {
    problem = std::strerror(errno);
    ::close(fd);
    return -1;
  }
  if (!S_ISREG(status.st_mode)) {
    problem = std::string("not a regular file (") + file_kind(status.st_mode) + ")";
    ::close(fd);
    return -1;
  }
  int old = ::fcntl(fd, F_GETFL);
  if (old < 0 || ::fcntl(fd, F_SETFL, old & ~O_NONBLOCK) != 0) {
    problem = std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

int open_regular_or_throw(const std::string& path, int flags, struct stat* st) {
  std::string problem;
  int fd = open_regular(AT_FDCWD, path, flags, problem, st);
  if (fd < 0) throw Error("cannot open " + quote(path), problem);
  return fd;
}

}  // namespace shmstack
