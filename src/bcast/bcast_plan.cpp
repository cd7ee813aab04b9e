#include "bcast/bcast_plan.hpp"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "base/progress.hpp"

namespace shmstack {
namespace {

using nlohmann::json;

const char* need_name(Need need) {
  switch (need) {
    case Need::present:
      return "present";
    case Need::needs:
      return "needs";
    case Need::cannot:
      return "cannot";
  }
  return "cannot";
}

Need parse_need(const std::string& text) {
  if (text == "present") return Need::present;
  if (text == "needs") return Need::needs;
  return Need::cannot;
}

// The JSON here is made by another rank of the same program, so a parse
// error means a broken run, not bad user input; it is still an Error.
json parse_json(const std::string& text, const char* what) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    throw Error(std::string("broadcast: cannot read the ") + what, e.what());
  }
}

std::string seconds(double value) {
  char text[64];
  std::snprintf(text, sizeof text, "%.2f s", value);
  return text;
}

std::string transport_name(const Plan& plan) {
  std::string name = plan.two_tree      ? std::string("two-tree")
                     : plan.fanout > 0 ? std::to_string(plan.fanout) + "-ary tree"
                                        : std::string("MPI_Ibcast");
  return name + ", ring " + std::to_string(plan.ring);
}

}  // namespace

std::string to_json(const Plan& plan) {
  json j;
  j["error"] = plan.error;
  j["chunk_bytes"] = plan.chunk_bytes;
  j["ring"] = plan.ring;
  j["fanout"] = plan.fanout;
  j["two_tree"] = plan.two_tree;
  j["stacks"] = json::array();
  for (const StackPlan& s : plan.stacks) {
    j["stacks"].push_back({{"manifest", to_json(s.manifest, false)},
                           {"source", s.source},
                           {"source_given", s.source_given},
                           {"directory", s.directory},
                           {"archive_bytes", s.archive_bytes}});
  }
  return j.dump();
}

Plan parse_plan(const std::string& text) {
  json j = parse_json(text, "plan");
  Plan plan;
  try {
    plan.error = j.at("error").get<std::string>();
    plan.chunk_bytes = j.at("chunk_bytes").get<std::uint64_t>();
    plan.ring = j.at("ring").get<std::uint64_t>();
    plan.fanout = j.at("fanout").get<int>();
    plan.two_tree = j.at("two_tree").get<bool>();
    for (const json& s : j.at("stacks")) {
      StackPlan stack;
      stack.manifest = parse_manifest(s.at("manifest").get<std::string>(), "the broadcast plan");
      stack.source = s.at("source").get<std::string>();
      stack.source_given = s.at("source_given").get<std::string>();
      stack.directory = s.at("directory").get<bool>();
      stack.archive_bytes = s.at("archive_bytes").get<std::uint64_t>();
      plan.stacks.push_back(std::move(stack));
    }
  } catch (const json::exception& e) {
    throw Error("broadcast: cannot read the plan", e.what());
  }
  return plan;
}

std::string to_json(const NodeAnswer& answer) {
  json needs = json::array();
  for (Need need : answer.needs) needs.push_back(need_name(need));
  return json{{"host", answer.host}, {"needs", needs}, {"why", answer.why}}.dump();
}

NodeAnswer parse_answer(const std::string& text) {
  json j = parse_json(text, "answer of a node");
  NodeAnswer answer;
  try {
    answer.host = j.at("host").get<std::string>();
    for (const json& need : j.at("needs")) answer.needs.push_back(parse_need(need.get<std::string>()));
    answer.why = j.at("why").get<std::string>();
  } catch (const json::exception& e) {
    throw Error("broadcast: cannot read the answer of a node", e.what());
  }
  return answer;
}

std::string to_json(const NodeReport& report) {
  json stacks = json::array();
  for (const StackReport& s : report.stacks) {
    stacks.push_back({{"outcome", s.outcome},
                      {"error", s.error},
                      {"seconds", s.seconds},
                      {"entries", s.entries},
                      {"bytes", s.bytes},
                      {"received", s.received},
                      {"threads", s.threads},
                      {"times", {s.times.total, s.times.wait_decode, s.times.wait_write, s.times.pool_wait,
                                 s.times.decode, s.times.write}}});
  }
  return json{{"host", report.host}, {"stacks", stacks}}.dump();
}

NodeReport parse_report(const std::string& text) {
  json j = parse_json(text, "report of a node");
  NodeReport report;
  try {
    report.host = j.at("host").get<std::string>();
    for (const json& s : j.at("stacks")) {
      StackReport stack;
      stack.outcome = s.at("outcome").get<std::string>();
      stack.error = s.at("error").get<std::string>();
      stack.seconds = s.at("seconds").get<double>();
      stack.entries = s.at("entries").get<std::uint64_t>();
      stack.bytes = s.at("bytes").get<std::uint64_t>();
      stack.received = s.at("received").get<std::uint64_t>();
      stack.threads = s.at("threads").get<unsigned>();
      const json& t = s.at("times");
      stack.times = {t.at(0).get<double>(), t.at(1).get<double>(), t.at(2).get<double>(),
                     t.at(3).get<double>(), t.at(4).get<double>(), t.at(5).get<double>()};
      report.stacks.push_back(std::move(stack));
    }
  } catch (const json::exception& e) {
    throw Error("broadcast: cannot read the report of a node", e.what());
  }
  return report;
}

Needed needed_by(const Plan& plan, const std::vector<Need>& needs) {
  Needed needed;
  int count = 0;
  for (std::size_t i = 0; i < plan.stacks.size() && i < needs.size(); ++i) {
    if (needs[i] != Need::needs) continue;
    needed.bytes += plan.stacks[i].manifest.disk_bytes;
    needed.entries += plan.stacks[i].manifest.entries + 16;
    needed.names += (needed.names.empty() ? "" : ", ") + quote(plan.stacks[i].manifest.name);
    ++count;
  }
  if (count > 0) needed.names = (count == 1 ? "stack " : "stacks ") + needed.names;
  return needed;
}

std::string space_problem(const Plan& plan, const std::vector<Need>& needs, const std::string& host,
                          const std::string& root, std::uint64_t available, std::uint64_t free_inodes) {
  Needed needed = needed_by(plan, needs);
  std::uint64_t bytes = needed.bytes;
  std::uint64_t entries = needed.entries;
  std::string names;
  for (std::size_t i = 0; i < plan.stacks.size() && i < needs.size(); ++i)
    if (needs[i] == Need::needs) names += (names.empty() ? "" : ", ") + quote(plan.stacks[i].manifest.name);
  if (names.empty()) return "";
  std::string what = "not enough space in " + quote(root) + " on " + host + " for " + names + ": ";
  if (available < bytes)
    return what + "needs " + human_bytes(bytes) + " (" + std::to_string(bytes) + " bytes), " + human_bytes(available) +
           " (" + std::to_string(available) + " bytes) free";
  if (free_inodes > 0 && free_inodes < entries)
    return what + "needs " + std::to_string(entries) + " inodes, " + std::to_string(free_inodes) + " free";
  return "";
}

std::vector<std::string> control_problems(const std::vector<NodeAnswer>& answers) {
  std::vector<std::string> lines;
  for (const NodeAnswer& a : answers)
    if (!a.why.empty()) lines.push_back(a.host + ": " + a.why);
  return lines;
}

std::vector<std::string> install_failures(const Plan& plan, const std::vector<NodeReport>& reports) {
  std::vector<std::string> lines;
  for (const NodeReport& r : reports) {
    for (std::size_t i = 0; i < r.stacks.size(); ++i) {
      if (r.stacks[i].outcome != "failed") continue;
      std::string name = i < plan.stacks.size() ? plan.stacks[i].manifest.name : "?";
      lines.push_back(r.host + ": cannot install " + quote(name) + ": " + r.stacks[i].error);
    }
  }
  return lines;
}

std::vector<std::string> stack_summary(const Plan& plan, std::size_t index, const StreamTimes& times,
                                       const std::vector<NodeReport>& reports) {
  const Manifest& m = plan.stacks.at(index).manifest;
  int installed = 0, present = 0;
  double slowest = 0;
  std::string slowest_host;
  std::uint64_t files = 0, bytes = 0;
  for (const NodeReport& r : reports) {
    if (index >= r.stacks.size()) continue;
    const StackReport& s = r.stacks[index];
    if (s.outcome == "present") ++present;
    if (s.outcome != "installed") continue;
    ++installed;
    files = s.entries;
    bytes = s.bytes;
    if (s.seconds >= slowest) {
      slowest = s.seconds;
      slowest_host = r.host;
    }
  }
  std::vector<std::string> lines;
  std::string line = m.name + " (" + m.id12() + ", " + human_bytes(m.disk_bytes) + " of memory per node in /dev/shm): ";
  if (installed == 0) {
    lines.push_back(line + "nothing sent: all " + std::to_string(present) + " nodes had it");
  } else {
    line += human_bytes(times.archive_bytes) + " sent to " + std::to_string(installed) + " node" +
            (installed == 1 ? "" : "s") + " (" + std::to_string(present) + " had it), " + std::to_string(files) +
            " files, " + human_bytes(bytes) + "; read " + seconds(times.read_seconds) + ", broadcast " +
            seconds(times.seconds) + " (" +
            transport_name(plan) + "), unpack " + seconds(slowest) + " (slowest: " + slowest_host + ")";
    if (times.seconds > 0)
      line += ", " + human_bytes(static_cast<std::uint64_t>(static_cast<double>(times.archive_bytes) / times.seconds)) +
              "/s";
    lines.push_back(line);
  }
  if (reports.size() > kNodeLines) return lines;
  for (const NodeReport& r : reports) {
    if (index >= r.stacks.size()) continue;
    const StackReport& s = r.stacks[index];
    std::string node = "  " + r.host + ": " + s.outcome;
    if (s.outcome == "installed") node += " in " + seconds(s.seconds);
    node += ", received " + (s.received ? human_bytes(s.received) : std::string("nothing"));
    if (s.outcome == "installed" && s.threads > 0) node += "; install " + describe_times(s.times, s.threads);
    lines.push_back(node);
  }
  return lines;
}

}  // namespace shmstack
