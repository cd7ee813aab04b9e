// What audit makes of the calls it saw: each path classified, counted, and
// rendered as a table for people or JSON for scripts (pure functions).
//
// Classes, checked in this order: "stack" (inside one of the installed stack
// directories), "system" (base/path_class.hpp: /usr, /lib*, /bin, /sbin,
// /etc, /proc, /sys, /dev but /dev/shm, /run, and "/" itself), "shm" (the
// rest of /dev/shm: another user's or an older stack, a stack root),
// "outside" (everything else: the shared file system, $HOME, /tmp, /opt, and
// relative paths audit could not place). The directories of "shm" and
// "outside" calls are counted one by one, with the first paths seen in each,
// so that a leak can be found (the parent directory of each path; for
// getdents64, the directory listed). A --forbid prefix is matched by path
// components ("/global" forbids "/global/x", not "/globalx").
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "audit/tracer.hpp"

namespace shmstack::audit {

enum class Where { stack, system, shm, outside };
const char* where_name(Where where);

// `path` is absolute and normalised; `stacks` are normalised directories.
Where classify(const std::string& path, const std::vector<std::string>& stacks);

struct DirectoryCount {
  Where where = Where::outside;
  std::uint64_t calls = 0;
  std::vector<std::string> first;  // up to kFirstPaths distinct paths
};

inline constexpr std::size_t kFirstPaths = 3;
inline constexpr std::size_t kFirstForbidden = 5;

class Report {
 public:
  Report(std::vector<std::string> stacks, std::vector<std::string> forbid);

  void add(const FileCall& call);
  void set_outcome(const TraceOutcome& outcome) { outcome_ = outcome; }

  std::uint64_t count(Where where) const { return counts_[static_cast<int>(where)]; }
  std::uint64_t total() const;
  const std::map<std::string, std::uint64_t>& by_syscall() const { return by_syscall_; }
  const std::map<std::string, DirectoryCount>& directories() const { return directories_; }
  // Directories with the most calls first (ties: by name), at most `n`.
  std::vector<std::pair<std::string, DirectoryCount>> top_directories(std::size_t n) const;
  std::uint64_t forbidden_calls() const { return forbidden_calls_; }
  const std::vector<std::string>& first_forbidden() const { return first_forbidden_; }
  const std::vector<std::string>& stacks() const { return stacks_; }
  const std::vector<std::string>& forbid() const { return forbid_; }
  const TraceOutcome& outcome() const { return outcome_; }

  // audit's own exit status: 1 on a --forbid violation, else 128+N when the
  // program was killed by signal N, else the program's exit status.
  int exit_status() const;

 private:
  std::vector<std::string> stacks_, forbid_;
  std::uint64_t counts_[4] = {0, 0, 0, 0};
  std::map<std::string, std::uint64_t> by_syscall_;
  std::map<std::string, DirectoryCount> directories_;
  std::uint64_t forbidden_calls_ = 0;
  std::vector<std::string> first_forbidden_;
  TraceOutcome outcome_;
};

// The table printed at exit; `top` directories outside the stacks and system.
std::string render_table(const Report& report, std::size_t top);
// One JSON object (see doc/audit.md for its fields), with a final newline.
std::string render_json(const Report& report, std::size_t top);

}  // namespace shmstack::audit
