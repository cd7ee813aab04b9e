// Garbage collection in a node's stack root (shmstack gc).
//
// Collects what interrupted or killed work leaves behind, never what live
// work is using. Whether work is live is judged by the stack's lock only
// (an install or removal holds .locks/<id12>.lock for its whole life), never
// by a process id: a pid means nothing to a process in another PID namespace
// (a container, or a root shared by hosts). So gc removes, each under the
// free lock of its stack id: staging and removal directories, stack
// directories without install.json (an install that died after its rename),
// and, when asked, installed stacks older than a given age. A removal
// directory that names no id (left by an older version) is doomed by its
// name and removed as it is. Removal renames first, so a half-removed stack
// is never taken for a whole one.
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

// The largest --older-than in days: anything larger is a mistake, and its
// seconds would not fit the arithmetic.
inline constexpr double kMaxGcDays = 100000;

// Removes (or with `dry_run`, only lists) the garbage in `root`.
std::vector<GcItem> collect_garbage(const UserRoot& root, std::optional<std::int64_t> older_than_seconds,
                                    bool dry_run);

// "--older-than DAYS" as seconds; nullopt unless DAYS is finite and within
// [0, kMaxGcDays].
std::optional<std::int64_t> gc_age_seconds(double days);

}  // namespace shmstack
