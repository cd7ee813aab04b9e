#include "install/gc.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <limits>

#include "base/error.hpp"

namespace shmstack {
namespace {

std::vector<std::string> entries(const UserRoot& root) {
  std::vector<std::string> names = entry_names(root.fd(), ".", root.path());
  names.erase(std::remove(names.begin(), names.end(), ".locks"), names.end());
  std::sort(names.begin(), names.end());
  return names;
}

bool is_work_dir(const std::string& name) {
  return name.rfind(kStagingPrefix, 0) == 0 || name.rfind(kRemovingPrefix, 0) == 0;
}

// Seconds from `then` to `now`, saturating (an install record is only as
// sane as the file it was read from).
std::int64_t seconds_since(std::int64_t then, std::int64_t now) {
  std::int64_t age = 0;
  if (__builtin_sub_overflow(now, then, &age)) return then < 0 ? std::numeric_limits<std::int64_t>::max() : 0;
  return age;
}

}  // namespace

std::optional<std::int64_t> gc_age_seconds(double days) {
  if (!std::isfinite(days) || days < 0 || days > kMaxGcDays) return std::nullopt;
  return static_cast<std::int64_t>(days * 86400);
}

std::vector<GcItem> collect_garbage(const UserRoot& root, std::optional<std::int64_t> older_than_seconds,
                                    bool dry_run) {
  std::vector<GcItem> found;
  if (!root.exists()) return found;
  auto remove = [&](const std::string& name, const std::string& why) {
    found.push_back({root.path() + "/" + name, why});
    if (!dry_run) remove_stack(root, name);
  };
  std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
  for (const std::string& name : entries(root)) {
    if (is_work_dir(name)) {
      std::string id12 = work_dir_id(name);
      bool removal = name.rfind(kRemovingPrefix, 0) == 0;
      if (id12.empty()) {
        // Doomed by its name, and no lock guards it: removers tolerate each other.
        if (removal) remove(name, "an abandoned removal");
        continue;  // a staging name without an id is not ours to judge
      }
      // Work on this id holds its lock from start to end: free means abandoned,
      // whichever PID namespace the process that made it lived in.
      StackLock lock(root, id12, std::chrono::milliseconds{0});
      if (lock.held()) remove(name, removal ? "an abandoned removal (its stack's lock is free)"
                                            : "an abandoned install (its stack's lock is free)");
      continue;
    }
    std::string id12 = stack_dir_id(name);
    if (name[0] == '.' || id12.empty()) continue;  // not ours to judge
    StackLock lock(root, id12, std::chrono::milliseconds{0});
    if (!lock.held()) continue;  // being installed or removed right now
    // Decided under the lock: an install cannot complete meanwhile.
    std::optional<InstalledStack> stack = root.installed(name);
    if (!stack) {
      remove(name, "incomplete install (no install record)");
    } else if (std::int64_t age = seconds_since(stack->record.installed_epoch, now);
               older_than_seconds && age > *older_than_seconds) {
      RemovalGuard guard(root, id12);  // held while removing: no exec starts on it meanwhile
      if (!guard.in_use()) remove(name, "installed " + std::to_string(age / 86400) + " days ago");
    }
  }
  return found;
}

}  // namespace shmstack
