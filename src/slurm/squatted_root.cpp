#include "slurm/squatted_root.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

#include "base/error.hpp"
#include "install/node_root.hpp"

namespace shmstack {
namespace {

const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISLNK(mode)) return "a symlink";
  if (S_ISREG(mode)) return "a file";
  return "a special file";
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

std::optional<std::string> set_aside_squatted_root(const std::string& root, uid_t uid) {
  std::string name = "shmstack-" + std::to_string(uid);
  std::string path = root + "/" + name;
  Fd dir(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) throw_errno("cannot use stack root", root);
  struct stat st{};
  if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return std::nullopt;
    throw_errno("cannot check", path);
  }
  if (st.st_uid == uid) return std::nullopt;  // the user's own, whatever it is

  std::string base = name + ".squatted-by-" + std::to_string(st.st_uid) + "-" + std::to_string(std::time(nullptr));
  std::string aside;
  for (int n = 0;; ++n) {
    aside = n == 0 ? base : base + "-" + std::to_string(n);
    if (::renameat2(dir.get(), name.c_str(), dir.get(), aside.c_str(), RENAME_NOREPLACE) == 0) break;
    if (errno == ENOENT) return std::nullopt;  // gone meanwhile
    if (errno != EEXIST || n == 100) throw_errno("cannot set aside", path);
  }
  // Undo if what was renamed is not what was checked and is the user's own.
  struct stat moved{};
  if (::fstatat(dir.get(), aside.c_str(), &moved, AT_SYMLINK_NOFOLLOW) == 0 && moved.st_uid == uid) {
    if (::renameat2(dir.get(), aside.c_str(), dir.get(), name.c_str(), RENAME_NOREPLACE) != 0)
      throw_errno("cannot put back the user's own", root + "/" + aside);
    return std::nullopt;
  }
  return "set aside " + quote(path) + ", " + kind_of(st.st_mode) + " of " + describe_uid(st.st_uid) + " in the way of " +
         describe_uid(uid) + "'s stacks, as " + quote(root + "/" + aside);
}

}  // namespace shmstack
