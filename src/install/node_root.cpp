#include "install/node_root.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>
#include <utility>

#include "base/cancel.hpp"
#include "base/dir_walk.hpp"
#include "base/error.hpp"
#include "base/path_check.hpp"
#include "base/progress.hpp"
#include "base/regular_file.hpp"

namespace shmstack {

std::string read_small_file(int dirfd, const std::string& path) {
  // A FIFO planted under the name must not block the open (the Epilog
  // reads these as the user; a hang there would drain the node).
  std::string problem;
  int fd = open_regular(dirfd, path, O_NOFOLLOW, problem);
  if (fd < 0) return {};
  std::string text;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0 && text.size() < (std::size_t{16} << 20))
    text.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return text;
}

std::vector<std::string> entry_names(int dirfd, const std::string& relative, const std::string& shown) {
  std::vector<std::string> names;
  int fd = ::openat(dirfd, relative.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) return names;
  DIR* dir = fd >= 0 ? ::fdopendir(fd) : nullptr;
  if (!dir) throw_errno("cannot read", shown);
  while (dirent* d = ::readdir(dir)) {
    std::string n = d->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
  }
  ::closedir(dir);
  return names;
}

std::string user_root_path(const std::string& root) { return root + "/shmstack-" + std::to_string(::geteuid()); }

std::string resolve_root(const std::string& option) {
  std::string root = "/dev/shm";
  if (!option.empty()) {
    root = option;
  } else if (const char* env = std::getenv("SHMSTACK_ROOT"); env && *env) {
    root = env;
  }
  // Stack paths go into PATH, PYTHONPATH and rewritten shebangs: they must be
  // absolute (a relative one breaks in another directory) and free of ':'.
  if (root.find(':') != std::string::npos)
    throw Error("cannot use stack root " + quote(root), "it contains ':', which would split PATH and PYTHONPATH");
  return lexically_absolute(root);
}

void check_stack_root(const std::string& root) {
  struct stat base{};
  if (::stat(root.c_str(), &base) != 0) throw_errno("cannot use stack root", root);
  if (!S_ISDIR(base.st_mode)) throw Error("cannot use stack root " + quote(root), "not a directory");
}

std::string describe_uid(uid_t uid) {
  std::string text = "uid " + std::to_string(uid);
  std::vector<char> buf(16384);
  passwd pw{};
  passwd* found = nullptr;
  if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found) text += " (" + std::string(pw.pw_name) + ")";
  return text;
}

namespace {

// Why the user root at `path` (lstat `st`) cannot be used (`problem`, empty
// when only its owner is wrong), and what to do about it.
[[noreturn]] void refuse_user_root(const std::string& path, const struct stat& st, const std::string& problem) {
  uid_t me = ::geteuid();
  std::string owner = st.st_uid == me ? "you" : describe_uid(st.st_uid);
  std::string remedy = st.st_uid == me ? "remove it" : "ask " + owner + " or an administrator to remove it";
  throw Error("unsafe stack root " + quote(path),
              problem + (problem.empty() ? "" : ", ") + "owned by " + owner + (st.st_uid == me ? "" : ", not by you (uid " + std::to_string(me) + ")") +
                  ": " + remedy + ", or install elsewhere with --root or SHMSTACK_ROOT");
}

}  // namespace

UserRoot::UserRoot(const std::string& root, bool create) {
  path_ = user_root_path(root);
  check_stack_root(root);
  if (create && ::mkdir(path_.c_str(), 0700) != 0 && errno != EEXIST)
    throw_errno("cannot create", path_);
  fd_ = ::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd_ < 0) {
    int saved = errno;
    struct stat st{};
    if (saved == ENOENT && !create) return;  // nothing installed yet
    if (::lstat(path_.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
      refuse_user_root(path_, st, "it is a symlink (refusing to follow it)");
    if (saved == ENOTDIR && ::lstat(path_.c_str(), &st) == 0) refuse_user_root(path_, st, "not a directory");
    throw_system_error("cannot open stack root " + quote(path_), saved);
  }
  struct stat st{};
  if (::fstat(fd_, &st) != 0) throw_errno("cannot stat", path_);
  if (st.st_uid != ::geteuid()) {
    ::close(fd_);
    fd_ = -1;
    refuse_user_root(path_, st, "");
  }
  if ((st.st_mode & 0077) != 0 && ::fchmod(fd_, 0700) != 0) throw_errno("cannot make private", path_);
}

UserRoot::~UserRoot() {
  if (fd_ >= 0) ::close(fd_);
}

std::optional<InstalledStack> UserRoot::installed(const std::string& dir_name) const {
  if (fd_ < 0) return std::nullopt;
  std::string manifest_text = read_small_file(fd_, dir_name + "/.shmstack/manifest.json");
  std::string record_text = read_small_file(fd_, dir_name + "/.shmstack/install.json");
  if (manifest_text.empty() || record_text.empty()) return std::nullopt;
  InstalledStack s;
  s.dir_name = dir_name;
  s.path = path_ + "/" + dir_name;
  try {
    s.manifest = parse_manifest(manifest_text, quote(s.path));
    s.record = parse_install_record(record_text, quote(s.path));
  } catch (const Error&) {
    return std::nullopt;
  }
  return s;
}

std::optional<InstalledStack> UserRoot::find(const Manifest& manifest) const {
  std::optional<InstalledStack> s = installed(manifest.dir_name());
  if (s && !same_identity(s->manifest, manifest))
    throw Error("cannot install stack " + quote(manifest.name) + " on " + host_name(),
                quote(s->path) + " has the same name and id but other contents or settings (a hand-made or "
                "altered manifest?); remove it first: shmstack rm " + s->dir_name);
  return s;
}

std::string reuse_reason(const InstalledStack& s) {
  std::string basis = s.manifest.id_basis == "content"    ? "same files, contents and settings"
                      : s.manifest.id_basis == "metadata" ? "same file metadata and settings (a format 1 archive: "
                                                            "contents not compared; repack it to compare them)"
                                                          : "same archive file: path, size and mtime";
  return "same stack already in " + s.path + ": id " + s.manifest.id + " (" + basis + "), installed " + s.record.installed +
         " by " + (s.record.via.empty() ? "shmstack" : s.record.via) +
         (s.record.archive.empty() ? "" : " from " + s.record.archive);
}

std::vector<InstalledStack> UserRoot::list() const {
  std::vector<InstalledStack> stacks;
  if (fd_ < 0) return stacks;
  int fd = ::openat(fd_, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR* dir = fd >= 0 ? ::fdopendir(fd) : nullptr;
  if (!dir) throw_errno("cannot read", path_);
  while (dirent* d = ::readdir(dir)) {
    if (d->d_name[0] == '.') continue;
    if (auto s = installed(d->d_name)) stacks.push_back(std::move(*s));
  }
  ::closedir(dir);
  std::sort(stacks.begin(), stacks.end(),
            [](const InstalledStack& a, const InstalledStack& b) { return a.dir_name < b.dir_name; });
  return stacks;
}

bool stack_matches(const InstalledStack& s, const std::string& key, const std::string& absolute_key) {
  if (key == s.manifest.name || key == s.dir_name) return true;
  if (!s.record.archive.empty() && (absolute_key == s.record.archive || absolute_key == s.record.archive_given))
    return true;
  return key.size() >= 4 && key.size() <= s.manifest.id.size() &&
         key.find_first_not_of("0123456789abcdef") == std::string::npos && s.manifest.id.compare(0, key.size(), key) == 0;
}

std::optional<InstalledStack> UserRoot::resolve(const std::string& key) const {
  std::string absolute_key = lexically_absolute(key);
  std::optional<InstalledStack> best;
  for (InstalledStack& s : list()) {
    if (!stack_matches(s, key, absolute_key)) continue;
    if (!best || installed_later(s.record, best->record)) best = std::move(s);
  }
  return best;
}

UserRoot::FreeSpace UserRoot::free_space() const {
  struct statvfs vfs{};
  if (::fstatvfs(fd_, &vfs) != 0) throw_errno("cannot check free space in", path_);
  FreeSpace free;
  free.bytes = std::uint64_t{vfs.f_bavail} * vfs.f_frsize;
  if (vfs.f_files > 0) free.inodes = vfs.f_favail;
  return free;
}

void UserRoot::check_space(const Manifest& manifest) const {
  FreeSpace free = free_space();
  std::uint64_t avail = free.bytes;
  if (avail < manifest.disk_bytes)
    throw Error("not enough space for stack " + quote(manifest.name) + " in " + quote(path_) + " on " + host_name(),
                "needs " + human_bytes(manifest.disk_bytes) + " (" + std::to_string(manifest.disk_bytes) +
                    " bytes), " + human_bytes(avail) + " (" + std::to_string(avail) + " bytes) free");
  if (free.inodes > 0 && free.inodes < manifest.entries + 16)
    throw Error("not enough inodes for stack " + quote(manifest.name) + " in " + quote(path_) + " on " + host_name(),
                "needs " + std::to_string(manifest.entries) + ", " + std::to_string(free.inodes) + " free");
}

StackLock::StackLock(const UserRoot& root, const std::string& id12, std::chrono::milliseconds max_wait) {
  if (::mkdirat(root.fd(), ".locks", 0700) != 0 && errno != EEXIST)
    throw_errno("cannot create", root.path() + "/.locks");
  std::string name = ".locks/" + id12 + ".lock";
  path_ = root.path() + "/" + name;
  fd_ = ::openat(root.fd(), name.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd_ < 0) throw_errno("cannot open lock", path_);
  auto start = std::chrono::steady_clock::now();
  auto deadline = max_wait == kWaitForever ? std::chrono::steady_clock::time_point::max() : start + max_wait;
  for (;;) {
    auto now = std::chrono::steady_clock::now();
    waited_ = std::chrono::duration_cast<std::chrono::milliseconds>(now - start);
    if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) {
      held_ = true;
      return;
    }
    if (errno != EWOULDBLOCK && errno != EINTR) {
      int saved = errno;
      ::close(fd_);
      throw_system_error("cannot lock " + quote(path_), saved);
    }
    if (errno == EWOULDBLOCK && now >= deadline) return;
    try {
      check_cancelled();
    } catch (...) {
      ::close(fd_);
      throw;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

namespace {

// "pid 123, pid 456": the processes holding a flock of `kind` (READ or WRITE)
// on the file open as `fd`, from lines like "1: FLOCK  ADVISORY  READ  1234 00:2b:5678 0 EOF".
std::string flock_holders(int fd, const std::string& kind) {
  struct stat st{};
  std::string pids;
  if (::fstat(fd, &st) != 0) return pids;
  std::string text = read_small_file(AT_FDCWD, "/proc/locks");
  std::string inode = ":" + std::to_string(st.st_ino) + " ";
  for (std::string_view line : split(text, '\n')) {
    if (line.find("FLOCK") == std::string_view::npos || line.find(inode) == std::string_view::npos) continue;
    std::vector<std::string_view> words;
    for (std::string_view w : split(line, ' '))
      if (!w.empty()) words.push_back(w);
    if (words.size() > 4 && words[3] == kind) pids += (pids.empty() ? "pid " : ", pid ") + std::string(words[4]);
  }
  return pids;
}

int open_use_lock(const UserRoot& root, const std::string& id12, int flags) {
  if (::mkdirat(root.fd(), ".locks", 0700) != 0 && errno != EEXIST)
    throw_errno("cannot create", root.path() + "/.locks");
  std::string name = ".locks/" + id12 + ".use";
  int fd = ::openat(root.fd(), name.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | flags, 0600);
  if (fd < 0) throw_errno("cannot open lock", root.path() + "/" + name);
  return fd;
}

}  // namespace

void hold_in_use(const UserRoot& root, const InstalledStack& stack) {
  int fd = open_use_lock(root, stack.manifest.id12(), 0);  // inherited by the program exec runs
  while (::flock(fd, LOCK_SH | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) {
      int saved = errno;
      ::close(fd);
      throw_system_error("cannot lock " + quote(root.path() + "/.locks/" + stack.manifest.id12() + ".use"), saved);
    }
    try {
      check_cancelled();
    } catch (...) {
      ::close(fd);
      throw;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!root.installed(stack.dir_name)) {
    ::close(fd);
    throw Error("stack " + quote(stack.dir_name) + " is not installed on " + host_name(),
                "it was removed while starting");
  }
}

RemovalGuard::RemovalGuard(const UserRoot& root, const std::string& id12) {
  fd_ = open_use_lock(root, id12, O_CLOEXEC);
  held_ = ::flock(fd_, LOCK_EX | LOCK_NB) == 0;
}

RemovalGuard::~RemovalGuard() {
  if (fd_ >= 0) ::close(fd_);
}

std::string RemovalGuard::holders() const {
  std::string pids = flock_holders(fd_, "READ");
  return pids.empty() ? "a running program" : pids;
}

std::string StackLock::holders() const {
  std::string pids = held_ ? "" : flock_holders(fd_, "WRITE");
  return pids.empty() ? "another process" : pids;
}

std::string lock_timeout_reason(const StackLock& lock) {
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(lock.waited()).count();
  return "waited " + std::to_string(seconds) + " s for " + quote(lock.path()) + ", held by " + lock.holders();
}

StackLock::~StackLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

Staging::Staging(const UserRoot& root, const Manifest& manifest) : root_(root) {
  name_ = kStagingPrefix + manifest.dir_name() + "-" + std::to_string(::getpid());
  path_ = root.path() + "/" + name_;
  if (::mkdirat(root.fd(), name_.c_str(), 0700) != 0) {
    if (errno != EEXIST) throw_errno("cannot create staging directory", path_);
    remove_tree(root.fd(), name_, path_);  // left by an earlier process with our pid
    if (::mkdirat(root.fd(), name_.c_str(), 0700) != 0) throw_errno("cannot create staging directory", path_);
  }
  fd_ = ::openat(root.fd(), name_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd_ < 0) throw_errno("cannot open staging directory", path_);
}

Staging::~Staging() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) {
    try {
      remove_tree(root_.fd(), name_, path_);
    } catch (...) {
      // Nothing better to do while already failing; the next gc removes it.
    }
  }
}

void write_new_file(int dirfd, const std::string& relative, const std::string& content, const std::string& shown) {
  int fd = ::openat(dirfd, relative.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) throw_errno("cannot create", shown);
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int saved = errno;
      ::close(fd);
      throw_system_error("cannot write " + quote(shown), saved);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) throw_errno("cannot write", shown);
}

void Staging::write_file(const std::string& relative, const std::string& content) {
  write_new_file(fd_, relative, content, path_ + "/" + relative);
}

std::string stack_dir_id(const std::string& dir_name) {
  std::size_t dash = dir_name.rfind('-');
  if (dash == std::string::npos) return "";
  std::string id12 = dir_name.substr(dash + 1);
  return id12.size() == 12 && id12.find_first_not_of("0123456789abcdef") == std::string::npos ? id12 : "";
}

std::string work_dir_id(const std::string& dir_name) {
  if (dir_name.rfind(kStagingPrefix, 0) != 0 && dir_name.rfind(kRemovingPrefix, 0) != 0) return "";
  std::string found;
  std::size_t start = 0;
  for (;;) {
    std::size_t dash = dir_name.find('-', start);
    std::string token = dir_name.substr(start, dash == std::string::npos ? std::string::npos : dash - start);
    if (token.size() == 12 && token.find_first_not_of("0123456789abcdef") == std::string::npos) found = token;
    if (dash == std::string::npos) return found;
    start = dash + 1;
  }
}

bool remove_stack(const UserRoot& root, const std::string& dir_name) {
  std::string doomed = dir_name;
  if (dir_name.rfind(kRemovingPrefix, 0) != 0) {
    // ".removing-<id12>-<tag>": one shape whatever is removed (a stack or a
    // staging directory), so gc can always tell which lock guards it.
    std::string id12 = work_dir_id(dir_name);
    if (id12.empty()) id12 = stack_dir_id(dir_name);
    std::random_device random;
    for (int attempt = 0;; ++attempt) {
      char tag[16];
      std::snprintf(tag, sizeof tag, "%08x", static_cast<unsigned>(random()));
      doomed = std::string(kRemovingPrefix) + (id12.empty() ? "" : id12 + "-") + tag;
      if (::renameat(root.fd(), dir_name.c_str(), root.fd(), doomed.c_str()) == 0) break;
      if (errno == ENOENT) return false;
      if ((errno != EEXIST && errno != ENOTEMPTY) || attempt == 8)
        throw_errno("cannot remove", root.path() + "/" + dir_name);
    }
  }
  try {
    remove_tree(root.fd(), doomed, root.path() + "/" + doomed);
  } catch (const Error& e) {
    throw Error(e.operation(), e.reason() + " (the rest is out of sight; 'shmstack gc' removes it)");
  }
  return true;
}

void Staging::commit(const std::string& final_name) {
  if (::fchmod(fd_, 0755) != 0) throw_errno("cannot set the mode of", path_);
  if (::renameat(root_.fd(), name_.c_str(), root_.fd(), final_name.c_str()) != 0)
    throw_errno("cannot rename staging directory to", root_.path() + "/" + final_name);
  committed_ = true;
}

namespace {

// Removes what it visits, directories once empty; a name already gone (a
// concurrent remover) is not an error. A directory without full permission
// for its owner gets it first, so a mode-000 directory can be emptied.
class Remover : public DirVisitor {
 public:
  explicit Remover(const std::string& shown) : shown_(shown) {}

  bool visit(int dirfd, const std::string& name, const std::string& relative) override {
    struct stat st{};
    if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) return false;
      throw_errno("cannot remove", shown(relative));
    }
    if (S_ISDIR(st.st_mode)) {
      if ((st.st_mode & 0700) != 0700) ::fchmodat(dirfd, name.c_str(), (st.st_mode & 07777) | 0700, 0);
      return true;
    }
    if (::unlinkat(dirfd, name.c_str(), 0) != 0 && errno != ENOENT) throw_errno("cannot remove", shown(relative));
    return false;
  }

  bool cannot_open(const std::string&, int error) override { return error == ENOENT; }

  void leave(int dirfd, const std::string& name, const std::string& relative) override {
    if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT)
      throw_errno("cannot remove", shown(relative));
  }

 private:
  std::string shown(const std::string& relative) const { return shown_ + "/" + relative; }
  const std::string& shown_;
};

}  // namespace

void remove_tree(int dirfd, const std::string& name, const std::string& shown) {
  struct stat st{};
  if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return;
    throw_errno("cannot remove", shown);
  }
  if (!S_ISDIR(st.st_mode)) {
    if (::unlinkat(dirfd, name.c_str(), 0) != 0 && errno != ENOENT) throw_errno("cannot remove", shown);
    return;
  }
  if ((st.st_mode & 0700) != 0700) ::fchmodat(dirfd, name.c_str(), (st.st_mode & 07777) | 0700, 0);
  int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return;
    throw_errno("cannot remove", shown);
  }
  Remover remover(shown);
  try {
    walk_directory(fd, shown, remover);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) throw_errno("cannot remove", shown);
}

bool installed_later(const InstallRecord& a, const InstallRecord& b) {
  return std::pair(a.installed_epoch, a.installed_ns) > std::pair(b.installed_epoch, b.installed_ns);
}

std::string to_json(const InstallRecord& r) {
  nlohmann::ordered_json j;
  j["archive"] = r.archive;
  j["archive_given"] = r.archive_given;
  j["job_id"] = r.job_id;
  j["via"] = r.via;
  j["installed"] = r.installed;
  j["installed_epoch"] = r.installed_epoch;
  j["installed_ns"] = r.installed_ns;
  j["host"] = r.host;
  return j.dump(2) + "\n";
}

InstallRecord parse_install_record(const std::string& text, const std::string& where) {
  InstallRecord r;
  try {
    auto j = nlohmann::json::parse(text);
    r.archive = j.value("archive", "");
    r.archive_given = j.value("archive_given", "");
    r.job_id = j.value("job_id", "");
    r.via = j.value("via", "");
    r.installed = j.value("installed", "");
    r.installed_epoch = j.value("installed_epoch", std::int64_t{0});
    r.installed_ns = j.value("installed_ns", std::int64_t{0});
    r.host = j.value("host", "");
  } catch (const nlohmann::json::exception& e) {
    throw Error("invalid install record in " + where, e.what());
  }
  return r;
}

}  // namespace shmstack
