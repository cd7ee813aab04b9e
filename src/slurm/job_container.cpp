#include "slurm/job_container.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/error.hpp"
#include "slurm/slurm_job.hpp"

namespace shmstack {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// The "Key=Value" words of each line, comments dropped.
std::vector<std::vector<std::pair<std::string, std::string>>> conf_lines(const std::string& text) {
  std::vector<std::vector<std::pair<std::string, std::string>>> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (std::size_t hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    std::istringstream words(line);
    std::vector<std::pair<std::string, std::string>> pairs;
    std::string word;
    while (words >> word) {
      std::size_t eq = word.find('=');
      if (eq == std::string::npos || eq == 0) continue;
      pairs.emplace_back(lower(word.substr(0, eq)), word.substr(eq + 1));
    }
    if (!pairs.empty()) lines.push_back(std::move(pairs));
  }
  return lines;
}

std::optional<std::string> read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// "prefix[1-3,07]suffix" style: does `node` match one of the expansions?
bool bracket_matches(const std::string& pattern, const std::string& node) {
  std::size_t open = pattern.find('['), close = pattern.find(']');
  if (open == std::string::npos || close == std::string::npos || close < open) return pattern == node;
  std::string prefix = pattern.substr(0, open), suffix = pattern.substr(close + 1);
  if (node.size() < prefix.size() + suffix.size() || node.compare(0, prefix.size(), prefix) != 0 ||
      node.compare(node.size() - suffix.size(), suffix.size(), suffix) != 0)
    return false;
  std::string number = node.substr(prefix.size(), node.size() - prefix.size() - suffix.size());
  if (!is_slurm_number(number)) return false;
  std::istringstream ranges(pattern.substr(open + 1, close - open - 1));
  std::string range;
  while (std::getline(ranges, range, ',')) {
    std::size_t dash = range.find('-');
    std::string lo = range.substr(0, dash), hi = dash == std::string::npos ? lo : range.substr(dash + 1);
    if (!is_slurm_number(lo) || !is_slurm_number(hi)) continue;
    // Zero-padded ranges (node[01-10]) match only numbers of that width.
    if (lo.size() > 1 && lo[0] == '0' && number.size() != lo.size()) continue;
    unsigned long n = std::stoul(number), a = std::stoul(lo), b = std::stoul(hi);
    if (a <= n && n <= b) return true;
  }
  return false;
}

}  // namespace

std::optional<std::string> slurm_conf_value(const std::string& text, const std::string& key) {
  std::optional<std::string> value;
  for (const auto& line : conf_lines(text))
    for (const auto& [k, v] : line)
      if (k == lower(key)) value = v;
  return value;
}

bool hostlist_contains(const std::string& hostlist, const std::string& node) {
  if (lower(hostlist) == "all") return true;
  // Split at commas outside brackets.
  int depth = 0;
  std::string item;
  for (std::size_t i = 0; i <= hostlist.size(); ++i) {
    char c = i < hostlist.size() ? hostlist[i] : ',';
    if (c == '[') ++depth;
    if (c == ']') --depth;
    if (c == ',' && depth == 0) {
      if (!item.empty() && bracket_matches(item, node)) return true;
      item.clear();
    } else {
      item += c;
    }
  }
  return false;
}

std::optional<std::string> job_container_base_path(const std::string& text, const std::string& node) {
  std::optional<std::string> global, mine;
  for (const auto& line : conf_lines(text)) {
    std::optional<std::string> names, base;
    for (const auto& [k, v] : line) {
      if (k == "nodename") names = v;
      if (k == "basepath") base = v;
    }
    if (!base) continue;
    if (!names) global = base;
    else if (hostlist_contains(*names, node)) mine = base;
  }
  return mine ? mine : global;
}

std::vector<std::string> job_namespace_handles(const std::string& base_path, const std::string& node,
                                               const std::string& job) {
  std::string base = base_path;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  return {base + "/" + job + "/.ns", base + "/" + node + "/" + job + "/.ns"};
}

bool path_is_under(const std::string& path, const std::string& dir) {
  return path == dir || (path.compare(0, dir.size(), dir) == 0 && path.size() > dir.size() && path[dir.size()] == '/');
}

std::string resolved_for_comparison(const std::string& path) {
  std::error_code error;
  std::filesystem::path resolved = std::filesystem::weakly_canonical(path, error);
  if (error) resolved = std::filesystem::path(path).lexically_normal();
  std::string text = resolved.string();
  while (text.size() > 1 && text.back() == '/') text.pop_back();
  return text;
}

bool hidden_by_job_container(const std::string& path) {
  std::string resolved = resolved_for_comparison(path);
  for (const char* dir : {"/dev/shm", "/tmp"})
    if (path_is_under(resolved, dir) || path_is_under(resolved, resolved_for_comparison(dir))) return true;
  return false;
}

JobContainer find_job_container(const std::string& slurm_conf, const std::string& node, const std::string& job) {
  JobContainer jc;
  std::optional<std::string> conf = read_text(slurm_conf);
  if (!conf) return jc;  // no readable slurm.conf here: nothing says there is a container
  std::optional<std::string> type = slurm_conf_value(*conf, "JobContainerType");
  if (!type || lower(*type) != "job_container/tmpfs") return jc;
  jc.active = true;
  std::string dir = slurm_conf.substr(0, slurm_conf.find_last_of('/') + 1);
  std::string jc_conf = (dir.empty() ? std::string("./") : dir) + "job_container.conf";
  std::optional<std::string> text = read_text(jc_conf);
  if (!text) throw_errno("cannot read job_container/tmpfs's settings", jc_conf);
  std::optional<std::string> base = job_container_base_path(*text, node);
  if (!base) throw Error("cannot read job_container/tmpfs's settings " + quote(jc_conf), "no BasePath for node " + quote(node));
  jc.base_path = *base;
  for (const std::string& handle : job_namespace_handles(*base, node, job)) {
    struct stat st{};
    if (::stat(handle.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      jc.handle = handle;
      break;
    }
  }
  return jc;
}

std::optional<std::string> enter_job_container_for_prolog(const std::string& slurm_conf, const std::string& node,
                                                          const std::string& job, const std::string& root) {
  if (!hidden_by_job_container(root)) return std::nullopt;
  JobContainer jc = find_job_container(slurm_conf, node, job);
  if (!jc.active) return std::nullopt;
  if (jc.handle.empty())
    throw Error("cannot install for job " + job + " on " + node,
                "job_container/tmpfs gives the job its own " + root + ", which does not exist yet when the Prolog runs "
                "(no " + job_namespace_handles(jc.base_path, node, job).back() + "), so what the Prolog installs would be "
                "invisible to the job; on this site use the TaskProlog (SHMSTACK_STACKS) or the pre-step (srun shmstack bcast), "
                "or set SHMSTACK_ROOT for the hooks to a node-local directory outside /dev/shm and /tmp");
  enter_mount_namespace(jc.handle);
  return "job_container/tmpfs: entered the job's mount namespace (" + jc.handle + ")";
}

void enter_mount_namespace(const std::string& handle) {
  int fd = ::open(handle.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_errno("cannot open the job's mount namespace", handle);
  int rc = ::setns(fd, CLONE_NEWNS);
  int saved = errno;
  ::close(fd);
  if (rc != 0) throw_system_error("cannot enter the job's mount namespace " + quote(handle), saved);
  // setns leaves the working directory in the old namespace's tree.
  if (::chdir("/") != 0) throw_errno("cannot change directory", "/");
}

}  // namespace shmstack
