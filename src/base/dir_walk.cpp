#include "base/dir_walk.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "base/path_check.hpp"

namespace shmstack {
namespace {

struct Level {
  std::string name;      // in its parent
  std::string relative;  // below the top ("" for the top)
  dev_t dev = 0;
  ino_t ino = 0;
  std::vector<std::string> names;  // still to visit, in reverse order (the next is at the back)
};

class Walk {
 public:
  Walk(int top, const std::string& shown, DirVisitor& visitor) : top_(top), shown_(shown), visitor_(visitor) {}
  ~Walk() { close_current(); }
  Walk(const Walk&) = delete;
  Walk& operator=(const Walk&) = delete;

  void run() {
    Level first;
    identify(top_, "", first);
    first.names = read_names(top_, "");
    levels_.push_back(std::move(first));
    cur_ = top_;
    while (!levels_.empty()) {
      Level& level = levels_.back();
      if (level.names.empty()) {
        up();
        continue;
      }
      std::string name = std::move(level.names.back());
      level.names.pop_back();
      std::string relative = level.relative.empty() ? name : level.relative + "/" + name;
      if (visitor_.visit(cur_, name, relative)) down(name, relative);
    }
  }

 private:
  std::string shown(const std::string& relative) const {
    return relative.empty() ? shown_ : shown_ + "/" + relative;
  }

  void identify(int fd, const std::string& relative, Level& level) const {
    struct stat st{};
    if (::fstat(fd, &st) != 0) throw_errno("cannot stat", shown(relative));
    level.dev = st.st_dev;
    level.ino = st.st_ino;
  }

  // The names still to visit come off the back: sorted the other way round.
  std::vector<std::string> read_names(int fd, const std::string& relative) const {
    std::vector<std::string> names = read_directory_names(fd, shown(relative));
    std::reverse(names.begin(), names.end());
    return names;
  }

  void down(const std::string& name, const std::string& relative) {
    int fd = ::openat(cur_, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      int saved = errno;
      if (visitor_.cannot_open(relative, saved)) return;
      throw_system_error("cannot open directory " + quote(shown(relative)), saved);
    }
    Level level;
    level.name = name;
    level.relative = relative;
    try {
      identify(fd, relative, level);
      level.names = read_names(fd, relative);
    } catch (...) {
      ::close(fd);
      throw;
    }
    close_current();
    cur_ = fd;
    levels_.push_back(std::move(level));
  }

  void up() {
    Level done = std::move(levels_.back());
    levels_.pop_back();
    if (levels_.empty()) return;  // the top: the caller's
    const Level& parent = levels_.back();
    int fd = levels_.size() == 1 ? top_ : ::openat(cur_, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      fd = reopen_from_top();
    } else if (fd != top_ && !same(fd, parent)) {
      ::close(fd);
      throw Error("cannot walk " + quote(shown(done.relative)), "it was moved while being walked");
    }
    close_current();
    cur_ = fd;
    visitor_.leave(cur_, done.name, done.relative);
  }

  bool same(int fd, const Level& level) const {
    struct stat st{};
    return ::fstat(fd, &st) == 0 && st.st_dev == level.dev && st.st_ino == level.ino;
  }

  // The directory of levels_.back(), opened from the top down, each level
  // checked against what was recorded on the way down.
  int reopen_from_top() const {
    int fd = top_;
    for (std::size_t i = 1; i < levels_.size(); ++i) {
      int next = ::openat(fd, levels_[i].name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      int saved = errno;
      if (fd != top_) ::close(fd);
      if (next < 0) throw_system_error("cannot open directory " + quote(shown(levels_[i].relative)), saved);
      if (!same(next, levels_[i])) {
        ::close(next);
        throw Error("cannot walk " + quote(shown(levels_[i].relative)), "it was moved while being walked");
      }
      fd = next;
    }
    return fd;
  }

  void close_current() {
    if (cur_ >= 0 && cur_ != top_) ::close(cur_);
    cur_ = -1;
  }

  int top_;
  const std::string& shown_;
  DirVisitor& visitor_;
  int cur_ = -1;
  std::vector<Level> levels_;
};

}  // namespace

std::vector<std::string> read_directory_names(int fd, const std::string& shown) {
  int copy = ::dup(fd);
  DIR* dir = copy >= 0 ? ::fdopendir(copy) : nullptr;
  if (!dir) {
    int saved = errno;
    if (copy >= 0) ::close(copy);
    throw_system_error("cannot read directory " + quote(shown), saved);
  }
  std::vector<std::string> names;
  errno = 0;
  while (dirent* d = ::readdir(dir)) {
    std::string_view n = d->d_name;
    if (n != "." && n != "..") names.emplace_back(n);
    errno = 0;
  }
  int saved = errno;
  ::closedir(dir);
  if (saved != 0) throw_system_error("cannot read directory " + quote(shown), saved);
  std::sort(names.begin(), names.end());
  return names;
}

void walk_directory(int top, const std::string& shown, DirVisitor& visitor) {
  Walk walk(top, shown, visitor);
  walk.run();
}

int open_directory_beneath(int top, const std::string& relative, bool step_by_step) {
  constexpr int kFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  if (relative.empty()) return ::openat(top, ".", kFlags);
  // Names only: "", "." and ".." are refused whichever way it is opened.
  std::vector<std::string_view> names = split(relative, '/');
  for (std::string_view name : names) {
    if (name.empty() || name == "." || name == "..") {
      errno = EXDEV;  // what openat2 answers for a way out of `top`
      return -1;
    }
  }
  static std::atomic<bool> kernel_has_openat2{true};
  if (!step_by_step && kernel_has_openat2.load(std::memory_order_relaxed)) {
    open_how how{};
    how.flags = kFlags;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    int fd = static_cast<int>(::syscall(SYS_openat2, top, relative.c_str(), &how, sizeof how));
    // ENOSYS: before Linux 5.6 (or a seccomp filter that does not know it);
    // ENAMETOOLONG: a path past PATH_MAX, which the steps below can still open.
    if (fd >= 0 || (errno != ENOSYS && errno != ENAMETOOLONG && errno != EPERM)) return fd;
    if (errno != ENAMETOOLONG) kernel_has_openat2.store(false, std::memory_order_relaxed);
  }
  int fd = top;
  for (std::size_t i = 0; i < names.size(); ++i) {
    bool last = i + 1 == names.size();
    std::string name(names[i]);
    int next = ::openat(fd, name.c_str(), last ? kFlags : O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int saved = errno;
    if (fd != top) ::close(fd);
    if (next < 0) {
      errno = saved;
      return -1;
    }
    fd = next;
  }
  return fd;
}

}  // namespace shmstack
