#include "install/gc.hpp"

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <fcntl.h>

#include "base/error.hpp"

namespace shmstack {
namespace {

bool process_alive(long pid) { return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM); }

bool is_id12(const std::string& s) {
  return s.size() == 12 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// "<name>-<id12>" -> id12, or "" when the name has no id.
std::string id_of(const std::string& dir_name) {
  std::size_t dash = dir_name.rfind('-');
  return dash == std::string::npos || !is_id12(dir_name.substr(dash + 1)) ? "" : dir_name.substr(dash + 1);
}

std::vector<std::string> entries(const UserRoot& root) {
  std::vector<std::string> names = entry_names(root.fd(), ".", root.path());
  names.erase(std::remove(names.begin(), names.end(), ".locks"), names.end());
  return names;
}

}  // namespace

bool parse_work_dir(const std::string& dir_name, const std::string& prefix, std::string& id12, long& pid) {
  if (dir_name.rfind(prefix, 0) != 0) return false;
  std::size_t dash = dir_name.rfind('-');
  if (dash == std::string::npos || dash + 1 >= dir_name.size() || dash <= prefix.size()) return false;
  std::string digits = dir_name.substr(dash + 1);
  if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 9) return false;
  pid = std::stol(digits);
  id12 = id_of(dir_name.substr(0, dash));
  return !id12.empty();
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
    std::string id12;
    long pid = 0;
    if (parse_work_dir(name, ".staging-", id12, pid) || parse_work_dir(name, ".removing-", id12, pid)) {
      if (!process_alive(pid)) remove(name, "left by process " + std::to_string(pid) + ", which is gone");
      continue;
    }
    if (name[0] == '.' || id_of(name).empty()) continue;  // not ours to judge
    StackLock lock(root, id_of(name), false);
    if (!lock.held()) continue;  // being installed or removed right now
    // Decided under the lock: an install cannot complete meanwhile.
    std::optional<InstalledStack> stack = root.installed(name);
    if (!stack) {
      remove(name, "incomplete install (no install record)");
    } else if (older_than_seconds && now - stack->record.installed_epoch > *older_than_seconds) {
      RemovalGuard guard(root, id_of(name));  // held while removing: no exec starts on it meanwhile
      if (!guard.in_use())
        remove(name, "installed " + std::to_string((now - stack->record.installed_epoch) / 86400) + " days ago");
    }
  }
  return found;
}

}  // namespace shmstack
