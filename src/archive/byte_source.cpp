#include "archive/byte_source.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "base/cancel.hpp"
#include "base/error.hpp"

namespace shmstack {

FileSource::FileSource(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw_errno("cannot open archive", path);
  struct stat st{};
  if (::fstat(fd_, &st) != 0) throw_errno("cannot stat archive", path);
  if (S_ISDIR(st.st_mode)) {
    ::close(fd_);
    throw Error("cannot read archive " + quote(path), "is a directory");
  }
  pollable_ = S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || S_ISCHR(st.st_mode);
  size_ = S_ISREG(st.st_mode) ? static_cast<std::uint64_t>(st.st_size) : 0;
  mtime_ns_ = std::int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
  ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
}

FileSource::~FileSource() {
  if (fd_ >= 0) ::close(fd_);
}

void FileSource::wait_readable() {
  for (;;) {
    if (interrupted_) throw Error("cannot read archive " + quote(path_), "reading was stopped");
    check_cancelled();
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, 100);
    if (r > 0) return;
    if (r < 0 && errno != EINTR) throw_errno("cannot read archive", path_);
  }
}

std::size_t FileSource::read(char* buffer, std::size_t capacity) {
  for (;;) {
    if (pollable_) wait_readable();
    ssize_t n = ::read(fd_, buffer, capacity);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno == EINTR) {
      check_cancelled();
      continue;
    }
    throw_errno("cannot read archive", path_);
  }
}

InPlaceBytes* FileSource::in_place() {
  if (!map_tried_ && size_ > 0 && !pollable_) {
    map_tried_ = true;
    try {
      mapping_ = std::make_unique<MappedFile>(fd_, size_, path_);
    } catch (const Error&) {
      // A file system without mmap: read() works everywhere.
    }
  }
  return mapping_.get();
}

}  // namespace shmstack
