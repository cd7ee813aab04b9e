#include "archive/byte_source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "base/cancel.hpp"
#include "base/error.hpp"
#include "base/regular_file.hpp"

namespace shmstack {

FileSource::FileSource(const std::string& path) : path_(path) {
  struct stat st{};
  std::string problem;
  fd_ = open_regular(AT_FDCWD, path, 0, problem, &st);
  // st_mode is set once the file opened: then it is of the wrong kind.
  if (fd_ < 0) throw Error((st.st_mode ? "cannot read archive " : "cannot open archive ") + quote(path), problem);
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
