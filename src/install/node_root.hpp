// The per-user stack root on a node, and what lives in it.
//
//   ROOT/shmstack-<uid>/                  mode 0700, a real directory owned by the user
//     <name>-<id12>/                      an installed stack (only ever appears by rename)
//       .shmstack/manifest.json           the stack's manifest
//       .shmstack/install.json            where it came from: archive, job id, time, host
//     .staging-<name>-<id12>-<pid>/       an install in progress (removed on failure)
//     .removing-<id12>-<tag>/             a removal in progress (renamed out of sight first)
//     .locks/<id12>.lock                  flock: one installer or remover per stack id
//     .locks/<id12>.use                   flock: shared by programs started with exec,
//                                         exclusive while the stack is removed
//
// Staging and removal directories are made only while their id's lock is
// held, so a free lock is what marks one as abandoned (gc.hpp); the pid in a
// staging name only tells a reader who made it.
//
// ROOT is --root, else $SHMSTACK_ROOT, else /dev/shm. The user directory is
// created if absent; if present it must not be a symlink, must be owned by
// the user, and must not be writable by others — otherwise we refuse rather
// than write where someone else could interfere, with an error that names the
// entry's owner and what to do. (Anyone can create the name first in a
// world-writable /dev/shm; the Slurm hooks set such an entry aside as root:
// src/slurm/squatted_root.hpp.)
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "archive/manifest.hpp"

namespace shmstack {

// --root, else $SHMSTACK_ROOT, else /dev/shm; made absolute. Error when it
// contains ':' (it would split PATH).
std::string resolve_root(const std::string& option);

// Throws Error unless `root` (ROOT itself, e.g. /dev/shm) is a directory.
void check_stack_root(const std::string& root);

// "uid 1001 (alice)", or "uid 1001" when the name cannot be looked up.
std::string describe_uid(uid_t uid);

// ROOT/shmstack-<euid>: where this user's stacks live under `root`.
std::string user_root_path(const std::string& root);

struct InstallRecord {
  std::string archive;        // resolved (realpath)
  std::string archive_given;  // as given, made absolute without touching the file system
  std::string job_id;
  std::string via;  // the command that installed it: unpack, bcast, slurm prolog, slurm task-prolog
  std::string installed;  // UTC ISO 8601
  std::int64_t installed_epoch = 0;
  std::int64_t installed_ns = 0;  // the same instant in nanoseconds; 0 in records written before it
  std::string host;
};

// True when `a` was installed after `b`: two installs in one second are told
// apart by their nanoseconds (a record without them counts as the second's start).
bool installed_later(const InstallRecord& a, const InstallRecord& b);

struct InstalledStack {
  std::string dir_name;
  std::string path;
  Manifest manifest;
  InstallRecord record;
};

class UserRoot {
 public:
  // Opens (creating if `create`) ROOT/shmstack-<uid> with the safety checks.
  // Without `create`, a user root that does not exist leaves exists() false.
  UserRoot(const std::string& root, bool create);
  ~UserRoot();
  UserRoot(const UserRoot&) = delete;
  UserRoot& operator=(const UserRoot&) = delete;

  const std::string& path() const { return path_; }
  int fd() const { return fd_; }
  bool exists() const { return fd_ >= 0; }

  // The install of `manifest`'s stack, if there is one with the same
  // identity (same_identity); Error when its directory holds another one.
  std::optional<InstalledStack> find(const Manifest& manifest) const;
  // The stack in directory `dir_name`, if it is completely installed.
  std::optional<InstalledStack> installed(const std::string& dir_name) const;
  std::vector<InstalledStack> list() const;
  // The installed stack a command-line word names, from node-local records
  // only: an archive path as given to unpack/bcast (compared as text, never
  // looked up), NAME-ID12, an id prefix of at least 4 hex digits, or a NAME.
  // When several match, the most recently installed one.
  std::optional<InstalledStack> resolve(const std::string& key) const;
  // Refuses (Error) when the file system lacks room or inodes for `manifest`.
  void check_space(const Manifest& manifest) const;
  struct FreeSpace {
    std::uint64_t bytes = 0;
    std::uint64_t inodes = 0;  // 0: the file system does not count them
  };
  FreeSpace free_space() const;

 private:
  std::string path_;
  int fd_ = -1;
};

// How long to wait for a stack's lock: the Slurm hooks never wait without end
// (a hung Prolog or Epilog holds the node), commands run by the user do.
inline constexpr std::chrono::milliseconds kWaitForever = std::chrono::milliseconds::max();

// An exclusive flock on .locks/<id12>.lock, held for the object's lifetime.
// Waiting polls so that SIGINT/SIGTERM still stop the process.
class StackLock {
 public:
  // Waits for the lock up to `max_wait` (0: takes it only if it is free); see held().
  StackLock(const UserRoot& root, const std::string& id12, std::chrono::milliseconds max_wait = kWaitForever);
  ~StackLock();
  StackLock(const StackLock&) = delete;
  StackLock& operator=(const StackLock&) = delete;
  bool held() const { return held_; }
  // "pid 123" (from /proc/locks), or "another process"; for messages when not held.
  std::string holders() const;
  const std::string& path() const { return path_; }
  std::chrono::milliseconds waited() const { return waited_; }

 private:
  std::string path_;
  int fd_ = -1;
  bool held_ = false;
  std::chrono::milliseconds waited_{0};
};

// "waited 30 s for PATH, held by pid 123": why a lock was not taken in time.
std::string lock_timeout_reason(const StackLock& lock);

// A shared flock on .locks/<id12>.use that `exec` takes and leaves open
// across execve (the descriptor is not close-on-exec), so the program it runs,
// and the children it forks, hold it until they end. Waits while the stack is
// being removed; throws Error when it was removed meanwhile.
void hold_in_use(const UserRoot& root, const InstalledStack& stack);

// The exclusive side: taken (without waiting) before a stack is removed and
// held until the removal is done, so no exec starts on it meanwhile. in_use()
// is true when a program holds the shared lock; holders() names their pids.
class RemovalGuard {
 public:
  RemovalGuard(const UserRoot& root, const std::string& id12);
  ~RemovalGuard();
  RemovalGuard(const RemovalGuard&) = delete;
  RemovalGuard& operator=(const RemovalGuard&) = delete;
  bool in_use() const { return !held_; }
  // "pid 123, pid 456" (from /proc/locks), or "a running program".
  std::string holders() const;

 private:
  int fd_ = -1;
  bool held_ = false;
};

// A staging directory; removed with everything in it unless committed.
class Staging {
 public:
  Staging(const UserRoot& root, const Manifest& manifest);
  ~Staging();
  Staging(const Staging&) = delete;
  Staging& operator=(const Staging&) = delete;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  void write_file(const std::string& relative, const std::string& content);
  // Renames the staging directory to its final name.
  void commit(const std::string& final_name);

 private:
  const UserRoot& root_;
  std::string name_;
  std::string path_;
  int fd_ = -1;
  bool committed_ = false;
};

// Why an install is reused, for -v: what its id covers, when and from where
// it was installed.
std::string reuse_reason(const InstalledStack& stack);

inline constexpr const char* kStagingPrefix = ".staging-";
inline constexpr const char* kRemovingPrefix = ".removing-";

// The id12 of a stack directory "<name>-<id12>"; "" when it has none.
std::string stack_dir_id(const std::string& dir_name);
// The id12 a staging or removal directory works for: its last '-'-separated
// field of 12 hex digits (this also reads the names older versions made);
// "" when `dir_name` is neither or names no id.
std::string work_dir_id(const std::string& dir_name);

// Removes the stack (or staging) directory `dir_name`; the caller holds its
// id's lock. It is renamed out of sight first (so a half-removed stack is
// never taken for a whole one), then deleted. Returns
// false if it was already gone. If deleting fails part-way, what is left is a
// removal directory, which gc collects.
bool remove_stack(const UserRoot& root, const std::string& dir_name);

// Creates `relative` under `dirfd` (O_EXCL|O_NOFOLLOW) holding `content`.
void write_new_file(int dirfd, const std::string& relative, const std::string& content, const std::string& shown);

// The contents of a small file under `dirfd` (never following a final
// symlink); empty when it cannot be read.
std::string read_small_file(int dirfd, const std::string& relative);

// The names in directory `relative` under `dirfd` (not "." and ".."); empty
// when it does not exist.
std::vector<std::string> entry_names(int dirfd, const std::string& relative, const std::string& shown);

// Removes `name` under `dirfd` recursively, never following symlinks, with
// two descriptors open whatever the depth (base/dir_walk.hpp).
void remove_tree(int dirfd, const std::string& name, const std::string& shown);

// True when `key` names `stack` as resolve() understands it (`absolute_key`
// is lexically_absolute(key)).
bool stack_matches(const InstalledStack& stack, const std::string& key, const std::string& absolute_key);

std::string to_json(const InstallRecord& record);
InstallRecord parse_install_record(const std::string& text, const std::string& where);

}  // namespace shmstack
