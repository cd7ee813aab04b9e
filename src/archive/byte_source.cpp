#include "archive/byte_source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "base/cancel.hpp"
#include "base/error.hpp"

namespace shmstack {
namespace {

const char* file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "not a file";
}

}  // namespace

FileSource::FileSource(const std::string& path) : path_(path) {
  // O_NONBLOCK so that opening a FIFO cannot wait for a writer forever; the
  // flag is cleared once the file is known to be a regular one.
  fd_ = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd_ < 0) throw_errno("cannot open archive", path);
  struct stat st{};
  if (::fstat(fd_, &st) != 0) {
    int saved = errno;
    ::close(fd_);
    throw_system_error("cannot stat archive " + quote(path), saved);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd_);
    fd_ = -1;
    throw Error("cannot read archive " + quote(path), std::string("not a regular file (") + file_kind(st.st_mode) + ")");
  }
  int flags = ::fcntl(fd_, F_GETFL);
  if (flags < 0 || ::fcntl(fd_, F_SETFL, flags & ~O_NONBLOCK) != 0) {
    int saved = errno;
    ::close(fd_);
    throw_system_error("cannot open archive " + quote(path), saved);
  }
  size_ = static_cast<std::uint64_t>(st.st_size);
  mtime_ns_ = std::int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
  ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
}

FileSource::~FileSource() {
  if (fd_ >= 0) ::close(fd_);
}

std::size_t FileSource::read(char* buffer, std::size_t capacity) {
  for (;;) {
    if (interrupted_) throw Error("cannot read archive " + quote(path_), "reading was stopped");
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
  if (!map_tried_ && size_ > 0) {
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
