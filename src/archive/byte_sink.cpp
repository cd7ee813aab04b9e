#include "archive/byte_sink.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "base/cancel.hpp"
#include "base/error.hpp"

namespace shmstack {

FileSink::FileSink(std::string path, bool replace) : path_(std::move(path)), replace_(replace) {
  temp_ = path_ + ".tmp." + std::to_string(::getpid());
  fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd_ < 0) throw_errno("cannot create output", path_);  // the user's name, not the temporary's
}

FileSink::~FileSink() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(temp_.c_str());
}

void FileSink::write(const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd_, data, size);
    if (n < 0) {
      if (errno == EINTR) {
        check_cancelled();
        continue;
      }
      throw_errno("cannot write output", path_);
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

void FileSink::commit() {
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) throw_errno("cannot write output", path_);
  if (!replace_) {
    // Another process may have created it since pack checked: still refuse.
    if (::renameat2(AT_FDCWD, temp_.c_str(), AT_FDCWD, path_.c_str(), RENAME_NOREPLACE) == 0) {
      committed_ = true;
      return;
    }
    if (errno == EEXIST)
      throw Error("cannot write the archive " + quote(path_), "it exists; pass --force to replace it");
    if (errno != EINVAL && errno != ENOSYS) throw_errno("cannot rename output to", path_);
    // A file system without RENAME_NOREPLACE: check, then rename.
    struct stat st {};
    if (::lstat(path_.c_str(), &st) == 0)
      throw Error("cannot write the archive " + quote(path_), "it exists; pass --force to replace it");
  }
  if (::rename(temp_.c_str(), path_.c_str()) != 0) throw_errno("cannot rename output to", path_);
  committed_ = true;
}

}  // namespace shmstack
