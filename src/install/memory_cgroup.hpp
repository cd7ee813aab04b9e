// How much memory the caller's memory cgroup has left, and whether a stack's
// tmpfs footprint fits in it (DESIGN §9: a stack in /dev/shm is memory).
//
// Pages written to a tmpfs are charged to the writer's memory cgroup. Under
// Slurm's task/cgroup with ConstrainRAMSpace=yes that is the job's cgroup
// (/slurm/uid_U/job_J/...), so a stack larger than what the job has left is
// OOM-killed mid-install. Before writing, installers compare the footprint
// plus a margin with what is left:
//
//   v1 (memory controller mounted by itself): at every level from the
//      process's cgroup up to the hierarchy's root while charges propagate
//      (memory.use_hierarchy), memory.limit_in_bytes - memory.usage_in_bytes,
//      and the same with memory.memsw.* where present;
//   v2 (the unified hierarchy, cgroup2): memory.max - memory.current at every
//      level up to the root;
//   at each level the reclaimable page cache (inactive_file in memory.stat)
//   is not counted as used: the kernel drops it before it kills anyone, and a
//   job that just read its input would otherwise be refused. The smallest
//   figure wins and names its cgroup.
//
// Where the process sits is read from /proc/self/cgroup, where the controller
// is mounted from /proc/self/mountinfo; nothing is hard-coded. Everything
// reads files under a root given as a parameter ("" = the real one), so the
// tests run on fake trees. No limit found, or nothing readable: no figure
// (the check is skipped, never guessed).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"

namespace shmstack {

// Where this process's memory cgroup is.
struct CgroupLocation {
  int version = 0;         // 1 or 2
  std::string mount;       // the controller's mount point, e.g. /sys/fs/cgroup/memory
  std::string mount_root;  // the part of the hierarchy mounted there (usually "/")
  std::string path;        // as /proc/self/cgroup names it, e.g. /slurm/uid_1000/job_42/step_0
};

// From the texts of /proc/self/cgroup and /proc/self/mountinfo: the v1 memory
// hierarchy if one is mounted, else the v2 one; nullopt when neither.
std::optional<CgroupLocation> find_memory_cgroup(const std::string& proc_cgroup, const std::string& mountinfo);

// The tightest limit along the way up.
struct CgroupMemory {
  std::string cgroup;  // the cgroup holding the tightest limit, e.g. /slurm/uid_1000/job_42
  std::uint64_t limit = 0;
  std::uint64_t left = 0;
  bool swap = false;  // the figure is v1's memory.memsw (memory plus swap)
};

// What is left under `location`, reading files below `fs_root`; nullopt when
// no level has a limit.
std::optional<CgroupMemory> memory_left(const CgroupLocation& location, const std::string& fs_root = "");

// The same for this process (reads /proc/self/...).
std::optional<CgroupMemory> caller_memory_left(const std::string& fs_root = "");

// --memory-margin / $SHMSTACK_MEMORY_MARGIN: how much memory must stay free
// beside the stacks, for the installer itself and the program after it.
struct MemoryMargin {
  std::uint64_t bytes = 256ull << 20;  // at least this much
  double fraction = 0.10;              // and at least this fraction of the footprint
  std::string given;                   // as the user wrote it; "" for the default
};

// "512M", "1G", "300k", "123" (bytes), "10%" (of the footprint), "0" (no
// margin). Throws UsageError naming `option`.
MemoryMargin parse_memory_margin(const std::string& text, const std::string& option);
// --memory-margin if given, else $SHMSTACK_MEMORY_MARGIN, else the default;
// `command` prefixes a usage error ("unpack").
MemoryMargin memory_margin_from(const std::optional<std::string>& option, const std::string& command);

std::uint64_t margin_bytes(const MemoryMargin& margin, std::uint64_t footprint);

// Nothing when `footprint` plus the margin fits in what `memory` has left
// (or no limit was found), else the Error that refuses: "not enough memory
// for <names> on <host>", both sizes, the margin and the cgroup. `names`
// is e.g. "stack 'sci-env'".
std::optional<Error> memory_problem(const std::string& names, const std::string& host, std::uint64_t footprint,
                                    const MemoryMargin& margin, const std::optional<CgroupMemory>& memory);

}  // namespace shmstack
