// Garbage collection in a node's stack root (shmstack gc).
//
// Collects what interrupted or killed work leaves behind, never what live
// work is using: staging and removal directories whose process is gone,
// stack directories without install.json (an install that died after its
// rename) whose lock is free, and, when asked, installed stacks older than a
// given age whose lock is free. Removal renames first, so a half-removed
// stack is never taken for a whole one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "install/node_root.hpp"

namespace shmstack {

struct GcItem {
  std::string path;
  std::string why;
};

// Removes (or with `dry_run`, only lists) the garbage in `root`.
std::vector<GcItem> collect_garbage(const UserRoot& root, std::optional<std::int64_t> older_than_seconds,
                                    bool dry_run);

// "<prefix><name>-<id12>-<pid>" -> id12 and pid; false if it does not parse.
bool parse_work_dir(const std::string& dir_name, const std::string& prefix, std::string& id12, long& pid);

}  // namespace shmstack
