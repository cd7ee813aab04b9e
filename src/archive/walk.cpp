#include "archive/walk.hpp"

#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <thread>
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

// What the walk makes of one name: nothing (excluded), a warning (a FIFO,
// socket or device), or an entry. Both walks decide it here.
struct Seen {
  enum class What { excluded, special, entry } what = What::excluded;
  WalkEntry entry;
  bool descend = false;     // a directory within the depth limit
  bool linked = false;      // a regular file with other names: (dev, ino) says which
  std::pair<dev_t, ino_t> inode;
};

class Looker {
 public:
  Looker(const std::string& root, const std::vector<std::string>& excludes, const WalkLimits& limits)
      : root_(root), excludes_(excludes), limits_(limits) {}

  std::string shown(const std::string& relative) const { return relative.empty() ? root_ : root_ + "/" + relative; }

  // `name`, at `path` below the root, in the directory open as `dirfd`.
  Seen look_at(int dirfd, const std::string& name, const std::string& path) const {
    struct stat st{};
    if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) throw_errno("cannot stat", shown(path));
    Seen seen;
    if (is_excluded(path, S_ISDIR(st.st_mode), excludes_)) return seen;
    seen.what = Seen::What::entry;
    WalkEntry& e = seen.entry;
    e.path = path;
    e.mode = st.st_mode & 07777;
    e.mtime_sec = st.st_mtim.tv_sec;
    e.mtime_nsec = st.st_mtim.tv_nsec;
    if (S_ISDIR(st.st_mode)) {
      e.type = WalkEntry::Type::directory;
      seen.descend = static_cast<std::size_t>(std::count(path.begin(), path.end(), '/')) + 1 < limits_.max_depth;
      seen.inode = {st.st_dev, st.st_ino};
    } else if (S_ISREG(st.st_mode)) {
      e.size = static_cast<std::uint64_t>(st.st_size);
      seen.linked = st.st_nlink > 1;
      seen.inode = {st.st_dev, st.st_ino};
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
    } else {
      seen.what = Seen::What::special;
    }
    return seen;
  }

  // Takes what look_at() saw, in the walk's order: a file seen again by
  // (device, inode) becomes a hard link to its first path. Returns whether to
  // descend.
  bool record(Seen& seen, std::vector<WalkEntry>& entries) {
    if (seen.what == Seen::What::excluded) return false;
    if (seen.what == Seen::What::special) {
      log::warn("skipping %s: sockets, FIFOs and devices cannot be packed", quote(shown(seen.entry.path)).c_str());
      return false;
    }
    WalkEntry& e = seen.entry;
    if (seen.linked) {
      auto [it, fresh] = inodes_.emplace(seen.inode, e.path);
      if (!fresh) {
        e.type = WalkEntry::Type::hardlink;
        e.link = it->second;
        e.size = 0;
      }
    }
    entries.push_back(std::move(e));
    return seen.descend;
  }

  bool skips_unreadable(int error) const { return limits_.skip_unreadable && error == EACCES; }

 private:
  const std::string& root_;
  const std::vector<std::string>& excludes_;
  const WalkLimits& limits_;
  std::map<std::pair<dev_t, ino_t>, std::string> inodes_;
};

class SerialWalk : public DirVisitor {
 public:
  explicit SerialWalk(Looker& looker) : looker_(looker) {}

  bool visit(int dirfd, const std::string& name, const std::string& path) override {
    Seen seen = looker_.look_at(dirfd, name, path);
    if (seen.entry.type == WalkEntry::Type::directory) check_cancelled();
    return looker_.record(seen, entries);
  }
  bool cannot_open(const std::string&, int error) override { return looker_.skips_unreadable(error); }

  std::vector<WalkEntry> entries;

 private:
  Looker& looker_;
};

// One directory's names as look_at() saw them, sorted; `error` is what
// stopped its listing after them, thrown where the serial walk would throw it.
struct Listing {
  struct Child {
    Seen seen;
    Listing* below = nullptr;  // its listing, for a directory to descend into
  };
  std::vector<Child> children;
  std::exception_ptr error;
};

// Lists the tree's directories on `threads` threads, as mpifileutils' dwalk
// does: on a parallel file system each stat is a round trip to a server, and
// one thread waits for them one at a time. Each thread takes a directory,
// opens it from the top (open_directory_beneath: no symlink followed),
// checks it is the directory its parent saw (device and inode), looks at
// its names in order and queues the directories among them. Two descriptors
// per thread are open at most. The walk's order is then made by one thread
// from the listings, exactly as the serial walk makes it.
class ParallelWalk {
 public:
  ParallelWalk(int top, Looker& looker) : top_(top), looker_(looker) {}

  std::vector<WalkEntry> run(unsigned threads) {
    Listing& root = listings_.emplace_back();
    queue_.push_back(Task{"", {}, &root});
    std::vector<std::thread> pool;
    for (unsigned i = 0; i < threads; ++i) pool.emplace_back([this] { work(); });
    for (std::thread& t : pool) t.join();
    check_cancelled();
    return in_order(root);
  }

 private:
  struct Task {
    std::string relative;  // "" for the top
    std::pair<dev_t, ino_t> inode;
    Listing* out;
  };

  void work() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      cv_.wait(lock, [&] { return !queue_.empty() || active_ == 0; });
      if (queue_.empty() || cancel_requested()) {
        queue_.clear();
        cv_.notify_all();
        return;
      }
      Task task = std::move(queue_.front());
      queue_.pop_front();
      ++active_;
      lock.unlock();
      try {
        list(task);
      } catch (...) {
        task.out->error = std::current_exception();
      }
      lock.lock();
      --active_;
      cv_.notify_all();
    }
  }

  void list(const Task& task) {
    const std::string shown = looker_.shown(task.relative);
    int fd = open_directory_beneath(top_, task.relative);
    if (fd < 0) {
      int error = errno;
      if (looker_.skips_unreadable(error)) return;
      throw_system_error("cannot open directory " + quote(shown), error);
    }
    struct Closer {
      int fd;
      ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat st{};
    if (::fstat(fd, &st) != 0) throw_errno("cannot stat", shown);
    if (!task.relative.empty() && std::make_pair(st.st_dev, st.st_ino) != task.inode)
      throw Error("cannot walk " + quote(shown), "it was moved while being walked");
    for (std::string& name : read_directory_names(fd, shown)) {
      std::string path = task.relative.empty() ? name : task.relative + "/" + name;
      Listing::Child& child = task.out->children.emplace_back();
      child.seen = looker_.look_at(fd, name, path);
      if (!child.seen.descend) continue;
      std::lock_guard<std::mutex> guard(mutex_);
      child.below = &listings_.emplace_back();
      queue_.push_back(Task{std::move(path), child.seen.inode, child.below});
      cv_.notify_one();
    }
  }

  // Depth first, a directory before its contents; a listing's error is thrown
  // after its children, where the serial walk would have stopped.
  std::vector<WalkEntry> in_order(Listing& root) {
    std::vector<WalkEntry> entries;
    std::vector<std::pair<Listing*, std::size_t>> stack{{&root, 0}};
    while (!stack.empty()) {
      Listing* listing = stack.back().first;
      std::size_t i = stack.back().second++;
      if (i == listing->children.size()) {
        if (listing->error) std::rethrow_exception(listing->error);
        stack.pop_back();
        continue;
      }
      Listing::Child& child = listing->children[i];
      if (looker_.record(child.seen, entries) && child.below) stack.emplace_back(child.below, 0);
    }
    return entries;
  }

  int top_;
  Looker& looker_;
  std::deque<Listing> listings_;  // stable addresses: tasks and children point into it
  std::deque<Task> queue_;
  std::size_t active_ = 0;
  std::mutex mutex_;
  std::condition_variable cv_;
};

}  // namespace

std::vector<WalkEntry> walk_tree(const std::string& root, const std::vector<std::string>& excludes,
                                 const WalkLimits& limits, unsigned threads) {
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw_errno("cannot open directory", root);
  Looker looker(root, excludes, limits);
  std::vector<WalkEntry> entries;
  try {
    check_cancelled();
    if (threads > 1) {
      entries = ParallelWalk(fd, looker).run(threads);
    } else {
      SerialWalk walk(looker);
      walk_directory(fd, root, walk);
      entries = std::move(walk.entries);
    }
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  return entries;
}

}  // namespace shmstack
