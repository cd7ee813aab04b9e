// Tests what the broadcast's ranks exchange (plan, answers, reports) and the
// lines rank 0 draws from them, without MPI.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "bcast/bcast_plan.hpp"
#include "base/error.hpp"

namespace {

using namespace shmstack;

Plan two_stacks() {
  Plan plan;
  plan.chunk_bytes = 1 << 20;
  plan.ring = 6;
  plan.fanout = 2;
  for (const char* name : {"numpy", "tools"}) {
    StackPlan s;
    s.manifest.name = name;
    s.manifest.id = std::string(name) == "numpy" ? "0123456789abcdef" : "fedcba9876543210";
    s.manifest.entries = 1000;
    s.manifest.bytes = 50 << 20;
    s.manifest.disk_bytes = 60 << 20;
    s.manifest.activation.kind = "target";
    s.manifest.activation.pythonpath = {"."};
    s.source = std::string("/lustre/envs/") + name + ".tar.lz4";
    s.source_given = s.source;
    s.archive_bytes = 20 << 20;
    plan.stacks.push_back(s);
  }
  return plan;
}

}  // namespace

TEST_CASE("the plan survives the trip to every rank") {
  Plan plan = two_stacks();
  plan.stacks[1].directory = true;
  plan.stacks[1].archive_bytes = 0;
  Plan back = parse_plan(to_json(plan));
  CHECK(back.error.empty());
  CHECK(back.chunk_bytes == plan.chunk_bytes);
  CHECK(back.ring == 6);
  CHECK(back.fanout == 2);
  CHECK_FALSE(back.two_tree);
  plan.two_tree = true;
  CHECK(parse_plan(to_json(plan)).two_tree);
  REQUIRE(back.stacks.size() == 2);
  CHECK(back.stacks[0].manifest.id == "0123456789abcdef");
  CHECK(back.stacks[0].manifest.disk_bytes == plan.stacks[0].manifest.disk_bytes);
  CHECK(back.stacks[0].manifest.activation.pythonpath == std::vector<std::string>{"."});
  CHECK(back.stacks[0].archive_bytes == 20 << 20);
  CHECK(back.stacks[1].directory);
  CHECK(back.stacks[1].archive_bytes == 0);

  Plan failed;
  failed.error = "cannot open archive '/x.tar.lz4': No such file or directory";
  CHECK(parse_plan(to_json(failed)).error == failed.error);
  CHECK_THROWS_AS(parse_plan("{\"error\": 3}"), Error);
  CHECK_THROWS_AS(parse_plan("not json"), Error);
}

TEST_CASE("answers and reports survive the trip to rank 0") {
  NodeAnswer answer{"node7", {Need::present, Need::needs, Need::cannot}, "why not"};
  NodeAnswer a = parse_answer(to_json(answer));
  CHECK(a.host == "node7");
  CHECK(a.needs == answer.needs);
  CHECK(a.why == "why not");

  NodeReport report{"node7", {}};
  report.stacks.push_back({"installed", "", 1.5, 10, 1000, 400, {1.4, 0.3, 0.2, 0.1, 1.1, 2.2}, 4});
  report.stacks.push_back({"failed", "disk full", 0.2, 0, 0, 100, {}, 0});
  NodeReport r = parse_report(to_json(report));
  CHECK(r.host == "node7");
  REQUIRE(r.stacks.size() == 2);
  CHECK(r.stacks[0].outcome == "installed");
  CHECK(r.stacks[0].seconds == doctest::Approx(1.5));
  CHECK(r.stacks[0].received == 400);
  CHECK(r.stacks[0].threads == 4);
  CHECK(r.stacks[0].times.total == doctest::Approx(1.4));
  CHECK(r.stacks[0].times.write == doctest::Approx(2.2));
  CHECK(r.stacks[1].error == "disk full");
}

TEST_CASE("the space check counts the stacks a node needs, together, and names both sizes") {
  Plan plan = two_stacks();
  std::uint64_t one = plan.stacks[0].manifest.disk_bytes;
  CHECK(space_problem(plan, {Need::needs, Need::present}, "nodeB", "/dev/shm/shmstack-7", one, 0).empty());
  std::string both = space_problem(plan, {Need::needs, Need::needs}, "nodeB", "/dev/shm/shmstack-7", one, 0);
  CHECK(both.find("nodeB") != std::string::npos);
  CHECK(both.find("'numpy', 'tools'") != std::string::npos);
  CHECK(both.find(std::to_string(2 * one) + " bytes") != std::string::npos);
  CHECK(both.find(std::to_string(one) + " bytes) free") != std::string::npos);
  CHECK(space_problem(plan, {Need::present, Need::present}, "nodeB", "/r", 0, 0).empty());
  std::string inodes = space_problem(plan, {Need::needs, Need::present}, "nodeB", "/r", one * 2, 500);
  CHECK(inodes.find("inodes") != std::string::npos);
}

TEST_CASE("a node's needs add up to the footprint its memory cgroup must hold") {
  Plan plan = two_stacks();
  Needed one = needed_by(plan, {Need::present, Need::needs});
  CHECK(one.bytes == plan.stacks[1].manifest.disk_bytes);
  CHECK(one.entries == 1016);
  CHECK(one.names == "stack 'tools'");
  Needed both = needed_by(plan, {Need::needs, Need::needs});
  CHECK(both.bytes == 2 * plan.stacks[0].manifest.disk_bytes);
  CHECK(both.names == "stacks 'numpy', 'tools'");
  Needed none = needed_by(plan, {Need::present, Need::cannot});
  CHECK(none.bytes == 0);
  CHECK(none.names.empty());
}

TEST_CASE("rank 0 names each node that cannot take part or failed, and why") {
  std::vector<NodeAnswer> answers = {{"nodeA", {Need::needs}, ""}, {"nodeB", {Need::cannot}, "no space"}};
  CHECK(control_problems(answers) == std::vector<std::string>{"nodeB: no space"});

  Plan plan = two_stacks();
  std::vector<NodeReport> reports(2);
  reports[0] = {"nodeA", {{"installed", "", 1, 1, 1, 1, {}, 0}, {"present", "", 0, 0, 0, 0, {}, 0}}};
  reports[1] = {"nodeB", {{"installed", "", 1, 1, 1, 1, {}, 0}, {"failed", "corrupt archive", 0, 0, 0, 0, {}, 0}}};
  CHECK(install_failures(plan, reports) == std::vector<std::string>{"nodeB: cannot install 'tools': corrupt archive"});
  reports.pop_back();
  CHECK(install_failures(plan, reports).empty());
}

TEST_CASE("the timing summary names the slowest node, and nodes that had the stack") {
  Plan plan = two_stacks();
  std::vector<NodeReport> reports = {
      {"nodeA", {{"installed", "", 0.5, 1000, 50 << 20, 20 << 20, {}, 0}}},
      {"nodeB", {{"present", "", 0, 0, 0, 0, {}, 0}}},
      {"nodeC", {{"installed", "", 0.9, 1000, 50 << 20, 20 << 20, {0.8, 0.5, 0.1, 0, 0.6, 0.4}, 2}}},
  };
  StreamTimes times{0.1, 1.0, 20 << 20};
  std::vector<std::string> lines = stack_summary(plan, 0, times, reports);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0].find("sent to 2 nodes (1 had it)") != std::string::npos);
  CHECK(lines[0].find("slowest: nodeC") != std::string::npos);
  CHECK(lines[0].find("1000 files") != std::string::npos);
  CHECK(lines[0].find("numpy (0123456789ab, 60.0 MiB of memory per node in /dev/shm): ") == 0);
  CHECK(lines[0].find("broadcast 1.00 s (2-ary tree, ring 6)") != std::string::npos);
  plan.fanout = 0;
  CHECK(stack_summary(plan, 0, times, reports)[0].find("broadcast 1.00 s (MPI_Ibcast, ring 6)") != std::string::npos);
  plan.two_tree = true;
  CHECK(stack_summary(plan, 0, times, reports)[0].find("broadcast 1.00 s (two-tree, ring 6)") != std::string::npos);
  CHECK(lines[2] == "  nodeB: present, received nothing");
  CHECK(lines[3].find("nodeC: installed in 0.90 s, received 20") != std::string::npos);
  // where nodeC's install went, as unpack -v says it
  CHECK(lines[3].find("; install 0.80 s: tar parsing and dispatch 0.20 s, waiting for decoded data 0.50 s") !=
        std::string::npos);
  CHECK(lines[3].find("over 2 + 2 threads") != std::string::npos);

  std::vector<NodeReport> many(kNodeLines + 1, {"n", {{"present", "", 0, 0, 0, 0, {}, 0}}});
  std::vector<std::string> short_lines = stack_summary(plan, 0, times, many);
  REQUIRE(short_lines.size() == 1);
  CHECK(short_lines[0].find("nothing sent") != std::string::npos);
}
