#include "slurm/slurm_job.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "archive/activation.hpp"
#include "base/error.hpp"
#include "base/path_check.hpp"

namespace shmstack {
namespace {

std::string require(const std::vector<std::string>& environ, const std::string& name) {
  std::optional<std::string> v = env_value(environ, name);
  if (!v || v->empty()) throw Error("not run by Slurm for a job", name + " is not set");
  if (!is_slurm_number(*v)) throw Error("not run by Slurm for a job", name + "=" + quote(*v) + " is not a number");
  return *v;
}

// A uid or gid: 0 to 2^32-2 ((uid_t)-1 tells setresuid "no change"); never
// cast modulo 2^32, where 4294967296 would be root.
std::uint64_t require_id(const std::vector<std::string>& environ, const std::string& name) {
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint32_t>::max() - 1;
  static_assert(sizeof(uid_t) == 4 && sizeof(gid_t) == 4, "ids are 32 bits");
  std::string text = require(environ, name);
  std::uint64_t id = std::stoull(text);
  if (id > kMax)
    throw Error("not run by Slurm for a job", name + "=" + text + " is out of range (0 to " + std::to_string(kMax) + ")");
  return id;
}

std::map<std::string, std::string> as_map(const std::vector<std::string>& environ) {
  std::map<std::string, std::string> m;
  for (const std::string& e : environ) {
    std::size_t eq = e.find('=');
    if (eq != std::string::npos) m.emplace(e.substr(0, eq), e.substr(eq + 1));
  }
  return m;
}

constexpr const char* kJobs = ".jobs";
constexpr const char* kPrologResult = ".prolog.json";

// .jobs/<job>, for a job id that cannot name anything else.
std::string job_dir(const std::string& job) {
  if (!is_slurm_number(job)) throw Error("invalid Slurm job id " + quote(job), "not a number");
  return std::string(kJobs) + "/" + job;
}

}  // namespace

SlurmJob job_from_environment(const std::vector<std::string>& environ, bool need_ids) {
  SlurmJob job;
  job.id = require(environ, "SLURM_JOB_ID");
  if (need_ids) {
    job.uid = static_cast<uid_t>(require_id(environ, "SLURM_JOB_UID"));
    job.gid = static_cast<gid_t>(require_id(environ, "SLURM_JOB_GID"));
  }
  return job;
}

std::vector<std::string> stacks_from_comment(const std::string& comment) {
  static const std::string kKey = "shmstack=";
  std::vector<std::string> stacks;
  std::size_t i = 0;
  while (i < comment.size()) {
    std::size_t end = comment.find_first_of(" \t\n;", i);
    if (end == std::string::npos) end = comment.size();
    std::string word = comment.substr(i, end - i);
    if (word.compare(0, kKey.size(), kKey) == 0)
      for (std::string& s : split_stack_list(word.substr(kKey.size()))) stacks.push_back(std::move(s));
    i = end + 1;
  }
  return stacks;
}

std::vector<std::string> split_stack_list(const std::string& list) {
  std::vector<std::string> stacks;
  for (std::string_view s : split(list, ':'))
    if (!s.empty()) stacks.emplace_back(s);
  return stacks;
}

std::string task_prolog_exports(const std::vector<std::string>& before, const std::vector<std::string>& after) {
  std::map<std::string, std::string> old = as_map(before);
  std::map<std::string, std::string> now = as_map(after);
  std::string out;
  for (const std::string& e : after) {
    std::string name = e.substr(0, e.find('='));
    auto it = old.find(name);
    const std::string& value = now[name];
    if (it != old.end() && it->second == value) continue;
    if (value.find('\n') != std::string::npos)
      throw Error("cannot pass " + name + " to the task", "its value holds a newline, which a TaskProlog cannot export");
    out += "export " + name + "=" + value + "\n";
  }
  for (const auto& [name, value] : old)
    if (!now.count(name)) out += "unset " + name + "\n";
  return out;
}

std::string task_prolog_print(const std::string& text) {
  std::string out;
  for (std::string_view line : split(text, '\n'))
    if (!line.empty()) out += "print " + std::string(line) + "\n";
  return out;
}

std::string to_json(const PrologResult& result) {
  nlohmann::ordered_json j;
  j["stacks"] = result.stacks;
  j["error"] = result.error;
  return j.dump(2) + "\n";
}

PrologResult parse_prolog_result(const std::string& text, const std::string& where) {
  PrologResult r;
  try {
    auto j = nlohmann::json::parse(text);
    r.stacks = j.at("stacks").get<std::vector<std::string>>();
    r.error = j.value("error", "");
  } catch (const nlohmann::json::exception& e) {
    throw Error("invalid job record " + where, e.what());
  }
  for (const std::string& s : r.stacks)
    if (s.empty() || s[0] == '.' || s.find('/') != std::string::npos)
      throw Error("invalid job record " + where, "it names " + quote(s) + ", which is not a stack directory");
  return r;
}

JobRecords::JobRecords(const UserRoot& root) : root_(root), lock_(root, "jobs") {}

std::string JobRecords::make_job_dir(const std::string& job) const {
  std::string dir = job_dir(job);
  for (const std::string& d : {std::string(kJobs), dir})
    if (::mkdirat(root_.fd(), d.c_str(), 0700) != 0 && errno != EEXIST)
      throw_errno("cannot create", root_.path() + "/" + d);
  return dir;
}

bool JobRecords::claim(const std::string& job, const std::string& dir_name) {
  if (!root_.installed(dir_name)) return false;
  std::string dir = make_job_dir(job);
  std::string file = dir + "/" + dir_name;
  // O_NONBLOCK: a FIFO the user planted under the name fails (ENXIO) instead
  // of blocking the Prolog until someone reads it.
  int fd = ::openat(root_.fd(), file.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
  if (fd < 0) throw_errno("cannot create", root_.path() + "/" + file);
  ::close(fd);
  return true;
}

void JobRecords::write_prolog_result(const std::string& job, const PrologResult& result) {
  std::string dir = make_job_dir(job);
  std::string file = dir + "/" + kPrologResult;
  std::string temporary = file + ".new";
  ::unlinkat(root_.fd(), temporary.c_str(), 0);
  write_new_file(root_.fd(), temporary, to_json(result), root_.path() + "/" + temporary);
  if (::renameat(root_.fd(), temporary.c_str(), root_.fd(), file.c_str()) != 0)
    throw_errno("cannot write", root_.path() + "/" + file);
}

std::optional<PrologResult> read_prolog_result(const UserRoot& root, const std::string& job) {
  std::string file = job_dir(job) + "/" + kPrologResult;
  std::string text = read_small_file(root.fd(), file);
  if (text.empty()) return std::nullopt;
  return parse_prolog_result(text, quote(root.path() + "/" + file));
}

std::vector<std::string> JobRecords::claimed_by_others(const std::string& job) const {
  std::set<std::string> claimed;
  for (const std::string& other : entry_names(root_.fd(), kJobs, root_.path() + "/" + kJobs)) {
    if (other == job) continue;
    std::string dir = std::string(kJobs) + "/" + other;
    for (std::string& s : entry_names(root_.fd(), dir, root_.path() + "/" + dir))
      if (s[0] != '.') claimed.insert(std::move(s));
  }
  return {claimed.begin(), claimed.end()};
}

std::vector<std::string> JobRecords::release(const std::string& job) {
  std::string dir = job_dir(job);
  std::set<std::string> mine;
  for (std::string& s : entry_names(root_.fd(), dir, root_.path() + "/" + dir))
    if (s[0] != '.') mine.insert(std::move(s));
  for (const InstalledStack& s : root_.list())
    if (s.record.job_id == job) mine.insert(s.dir_name);
  remove_tree(root_.fd(), dir, root_.path() + "/" + dir);
  for (const std::string& s : claimed_by_others(job)) mine.erase(s);
  return {mine.begin(), mine.end()};
}

bool is_slurm_number(const std::string& s) {
  return !s.empty() && s.size() <= 18 && s.find_first_not_of("0123456789") == std::string::npos;
}

}  // namespace shmstack
