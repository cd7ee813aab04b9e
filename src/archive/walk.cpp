#include "archive/walk.hpp"

#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <utility>

#include "base/cancel.hpp"
#include "base/dir_walk.hpp"
#include "base/error.hpp"
#include "base/log.hpp"

namespace shmstack {

bool is_excluded(const std::string& relative_path, bool is_directory, const std::vector<std::string>& patterns) {
  std::size_t slash = relative_path.rfind('/');
  const char* base = relative_path.c_str() + (slash == std::string::npos ? 0 : slash + 1);
  for (std::string pattern : patterns) {
    // As in .gitignore: a trailing '/' means "a directory", a leading one
    // "from DIR's top"; a '/' anywhere else also matches from the top.
    bool directories_only = pattern.size() > 1 && pattern.back() == '/';
    if (directories_only) pattern.pop_back();
    if (directories_only && !is_directory) continue;
    bool whole = pattern.find('/') != std::string::npos;
    if (pattern.size() > 1 && pattern.front() == '/') pattern.erase(0, 1);
    if (fnmatch(pattern.c_str(), whole ? relative_path.c_str() : base, 0) == 0) return true;
  }
  return false;
}

namespace {

class Walker : public DirVisitor {
 public:
  Walker(std::string root, const std::vector<std::string>& excludes, const WalkLimits& limits)
      : root_(std::move(root)), excludes_(excludes), limits_(limits) {}

  bool visit(int dirfd, const std::string& name, const std::string& path) override {
    struct stat st{};
    if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) throw_errno("cannot stat", shown(path));
    if (is_excluded(path, S_ISDIR(st.st_mode), excludes_)) return false;
    WalkEntry e;
    e.path = path;
    e.mode = st.st_mode & 07777;
    e.mtime_sec = st.st_mtim.tv_sec;
    e.mtime_nsec = st.st_mtim.tv_nsec;
    if (S_ISDIR(st.st_mode)) {
      e.type = WalkEntry::Type::directory;
      entries.push_back(std::move(e));
      check_cancelled();
      return static_cast<std::size_t>(std::count(path.begin(), path.end(), '/')) + 1 < limits_.max_depth;
    }
    if (S_ISREG(st.st_mode)) {
      e.size = static_cast<std::uint64_t>(st.st_size);
      if (st.st_nlink > 1) {
        auto [it, fresh] = inodes_.emplace(std::make_pair(st.st_dev, st.st_ino), path);
        if (!fresh) {
          e.type = WalkEntry::Type::hardlink;
          e.link = it->second;
          e.size = 0;
        }
      }
      entries.push_back(std::move(e));
    } else if (S_ISLNK(st.st_mode)) {
      e.type = WalkEntry::Type::symlink;
      // st_size may be 0 (some file systems) or stale: grow until the target fits.
      std::string target(std::max<std::size_t>(static_cast<std::size_t>(st.st_size) + 1, 256), '\0');
      for (;;) {
        ssize_t n = ::readlinkat(dirfd, name.c_str(), target.data(), target.size());
        if (n < 0) throw_errno("cannot read symlink", shown(path));
        if (static_cast<std::size_t>(n) < target.size()) {
          target.resize(static_cast<std::size_t>(n));
          break;
        }
        target.resize(target.size() * 2);
      }
      e.link = std::move(target);
      entries.push_back(std::move(e));
    } else {
      log::warn("skipping %s: sockets, FIFOs and devices cannot be packed", quote(shown(path)).c_str());
    }
    return false;
  }

  bool cannot_open(const std::string&, int error) override { return limits_.skip_unreadable && error == EACCES; }

  std::vector<WalkEntry> entries;

 private:
  std::string shown(const std::string& relative) const { return root_ + "/" + relative; }

  std::string root_;
  const std::vector<std::string>& excludes_;
  const WalkLimits& limits_;
  std::map<std::pair<dev_t, ino_t>, std::string> inodes_;
};

}  // namespace

std::vector<WalkEntry> walk_tree(const std::string& root, const std::vector<std::string>& excludes,
                                 const WalkLimits& limits) {
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw_errno("cannot open directory", root);
  Walker walker(root, excludes, limits);
  try {
    check_cancelled();
    walk_directory(fd, root, walker);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  return std::move(walker.entries);
}

}  // namespace shmstack
