#include "audit/report.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>

#include "base/path_class.hpp"

namespace shmstack::audit {
namespace {

std::string parent_directory(const std::string& path) {
  std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string exit_text(const TraceOutcome& o) {
  if (o.signaled) return "killed by signal " + std::to_string(o.status);
  return "exited with status " + std::to_string(o.status);
}

}  // namespace

const char* where_name(Where where) {
  switch (where) {
    case Where::stack:
      return "stack";
    case Where::system:
      return "system";
    case Where::shm:
      return "shm";
    case Where::outside:
      return "outside";
  }
  return "outside";
}

Where classify(const std::string& path, const std::vector<std::string>& stacks) {
  if (path.empty() || path[0] != '/') return Where::outside;
  for (const std::string& stack : stacks)
    if (is_under(path, stack)) return Where::stack;
  if (is_system_path(path)) return Where::system;
  if (is_under(path, "/dev/shm")) return Where::shm;
  return Where::outside;
}

Report::Report(std::vector<std::string> stacks, std::vector<std::string> forbid)
    : stacks_(std::move(stacks)), forbid_(std::move(forbid)) {
  for (std::string& s : stacks_) s = normalize_path(s);
  for (std::string& f : forbid_) f = normalize_path(f);
}

void Report::add(const FileCall& call) {
  Where where = classify(call.path, stacks_);
  ++counts_[static_cast<int>(where)];
  ++by_syscall_[call.syscall];
  if (where == Where::shm || where == Where::outside) {
    bool is_directory = std::string_view(call.syscall).rfind("getdents", 0) == 0;
    DirectoryCount& d = directories_[is_directory ? call.path : parent_directory(call.path)];
    d.where = where;
    ++d.calls;
    if (d.first.size() < kFirstPaths && std::find(d.first.begin(), d.first.end(), call.path) == d.first.end())
      d.first.push_back(call.path);
  }
  for (const std::string& f : forbid_) {
    if (!is_under(call.path, f)) continue;
    ++forbidden_calls_;
    if (first_forbidden_.size() < kFirstForbidden &&
        std::find(first_forbidden_.begin(), first_forbidden_.end(), call.path) == first_forbidden_.end())
      first_forbidden_.push_back(call.path);
    break;
  }
}

std::uint64_t Report::total() const { return counts_[0] + counts_[1] + counts_[2] + counts_[3]; }

std::vector<std::pair<std::string, DirectoryCount>> Report::top_directories(std::size_t n) const {
  std::vector<std::pair<std::string, DirectoryCount>> all(directories_.begin(), directories_.end());
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return a.second.calls != b.second.calls ? a.second.calls > b.second.calls : a.first < b.first;
  });
  if (all.size() > n) all.resize(n);
  return all;
}

int Report::exit_status() const {
  if (forbidden_calls_ > 0) return 1;
  if (outcome_.signaled) return 128 + outcome_.status;
  return outcome_.status;
}

std::string render_table(const Report& r, std::size_t top) {
  std::string out = "shmstack audit: " + std::to_string(r.total()) + " file-system calls by " +
                    std::to_string(r.outcome().processes) + " process" +
                    (r.outcome().processes == 1 ? "" : "es") + (r.outcome().seccomp ? "" : " (traced without seccomp)") +
                    "\n";
  char line[256];
  static const std::pair<Where, const char*> rows[] = {{Where::stack, "in the stacks"},
                                                       {Where::system, "system directories"},
                                                       {Where::shm, "other /dev/shm"},
                                                       {Where::outside, "outside"}};
  for (const auto& [where, label] : rows) {
    std::snprintf(line, sizeof line, "  %-20s %10llu\n", label, static_cast<unsigned long long>(r.count(where)));
    out += line;
  }
  std::vector<std::pair<std::string, DirectoryCount>> dirs = r.top_directories(top);
  if (r.directories().empty()) {
    out += "nothing outside the stacks and system directories\n";
  } else if (dirs.empty()) {
    out += std::to_string(r.directories().size()) + " directories outside the stacks and system directories\n";
  } else {
    out += "directories outside the stacks and system directories";
    if (r.directories().size() > dirs.size())
      out += " (top " + std::to_string(dirs.size()) + " of " + std::to_string(r.directories().size()) + ")";
    out += ":\n";
    for (const auto& [dir, d] : dirs) {
      std::snprintf(line, sizeof line, "  %10llu  %-7s ", static_cast<unsigned long long>(d.calls), where_name(d.where));
      out += line + dir + "\n";
      for (const std::string& p : d.first) out += "              first: " + p + "\n";
    }
  }
  if (!r.forbid().empty()) {
    if (r.forbidden_calls() == 0) {
      out += "forbidden prefixes: not touched\n";
    } else {
      out += "FORBIDDEN: " + std::to_string(r.forbidden_calls()) + " calls touched a --forbid prefix, first:\n";
      for (const std::string& p : r.first_forbidden()) out += "  " + p + "\n";
    }
  }
  out += "program " + exit_text(r.outcome()) + "; audit exits with " + std::to_string(r.exit_status()) + "\n";
  return out;
}

std::string render_json(const Report& r, std::size_t top) {
  nlohmann::json j;
  j["program"] = r.outcome().signaled ? nlohmann::json{{"signal", r.outcome().status}}
                                      : nlohmann::json{{"exit_status", r.outcome().status}};
  j["exit_status"] = r.exit_status();
  j["processes"] = r.outcome().processes;
  j["tracer"] = r.outcome().seccomp ? "seccomp" : "ptrace-syscall";
  j["stacks"] = r.stacks();
  j["calls"] = {{"total", r.total()},
                {"stack", r.count(Where::stack)},
                {"system", r.count(Where::system)},
                {"shm", r.count(Where::shm)},
                {"outside", r.count(Where::outside)}};
  j["syscalls"] = r.by_syscall();
  nlohmann::json dirs = nlohmann::json::array();
  for (const auto& [dir, d] : r.top_directories(top))
    dirs.push_back({{"directory", dir}, {"class", where_name(d.where)}, {"calls", d.calls}, {"first", d.first}});
  j["directories"] = dirs;
  j["directories_total"] = r.directories().size();
  j["forbid"] = {{"prefixes", r.forbid()}, {"calls", r.forbidden_calls()}, {"first", r.first_forbidden()}};
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace shmstack::audit
