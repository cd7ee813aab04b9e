// Tests audit's classification, counting, --forbid and the table/JSON output.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "audit/report.hpp"

using namespace shmstack::audit;

namespace {

FileCall call(const char* syscall, const std::string& path) { return FileCall{42, syscall, path}; }

}  // namespace

TEST_CASE("classify: stacks first, then system, then /dev/shm, then outside") {
  std::vector<std::string> stacks = {"/dev/shm/shmstack-1/sci-abc"};
  CHECK(classify("/dev/shm/shmstack-1/sci-abc/numpy/__init__.py", stacks) == Where::stack);
  CHECK(classify("/dev/shm/shmstack-1/sci-abc", stacks) == Where::stack);
  CHECK(classify("/dev/shm/shmstack-1/sci-abcd/x", stacks) == Where::shm);
  CHECK(classify("/dev/shm/shmstack-1", stacks) == Where::shm);
  CHECK(classify("/usr/lib/python3/dist-packages", stacks) == Where::system);
  CHECK(classify("/dev/null", stacks) == Where::system);
  CHECK(classify("/global/home/u/env/lib", stacks) == Where::outside);
  CHECK(classify("/tmp/x", stacks) == Where::outside);
  CHECK(classify("?/rel", stacks) == Where::outside);
  CHECK(classify("/usr/stack/x", {"/usr/stack"}) == Where::stack);  // a stack under /usr is still a stack
}

TEST_CASE("Report counts by class and syscall and groups outside calls by directory") {
  Report r({"/s"}, {});
  r.add(call("openat", "/s/a.py"));
  r.add(call("newfstatat", "/usr/lib/x"));
  r.add(call("openat", "/global/env/lib/m.py"));
  r.add(call("openat", "/global/env/lib/m.py"));
  r.add(call("newfstatat", "/global/env/lib/n.py"));
  r.add(call("getdents64", "/global/env/lib"));
  r.add(call("openat", "/dev/shm/other/x"));
  CHECK(r.count(Where::stack) == 1);
  CHECK(r.count(Where::system) == 1);
  CHECK(r.count(Where::outside) == 4);
  CHECK(r.count(Where::shm) == 1);
  CHECK(r.total() == 7);
  CHECK(r.by_syscall().at("openat") == 4);
  auto top = r.top_directories(10);
  REQUIRE(top.size() == 2);
  CHECK(top[0].first == "/global/env/lib");
  CHECK(top[0].second.calls == 4);
  CHECK(top[0].second.first == std::vector<std::string>{"/global/env/lib/m.py", "/global/env/lib/n.py",
                                                         "/global/env/lib"});
  CHECK(top[1].first == "/dev/shm/other");
  CHECK(top[1].second.where == Where::shm);
  CHECK(r.top_directories(1).size() == 1);
}

TEST_CASE("exit status: --forbid violation 1, else 128+signal, else the program's") {
  Report clean({"/s"}, {"/global"});
  clean.add(call("openat", "/globalx/y"));  // not under /global
  clean.set_outcome(TraceOutcome{false, 3, 1, true});
  CHECK(clean.forbidden_calls() == 0);
  CHECK(clean.exit_status() == 3);
  clean.set_outcome(TraceOutcome{true, 9, 1, true});
  CHECK(clean.exit_status() == 137);

  Report bad({"/s"}, {"/global/"});
  bad.add(call("openat", "/global/a"));
  bad.add(call("openat", "/global/a"));
  bad.add(call("stat", "/global"));
  bad.set_outcome(TraceOutcome{true, 15, 1, true});
  CHECK(bad.forbidden_calls() == 3);
  CHECK(bad.first_forbidden() == std::vector<std::string>{"/global/a", "/global"});
  CHECK(bad.exit_status() == 1);
}

TEST_CASE("render_table names the counts, the directories, the forbidden paths and the exit") {
  Report r({"/s"}, {"/global"});
  r.add(call("openat", "/s/a"));
  r.add(call("openat", "/global/env/x.py"));
  r.set_outcome(TraceOutcome{true, 9, 2, true});
  std::string t = render_table(r, 10);
  CHECK(t.find("2 file-system calls by 2 processes") != std::string::npos);
  CHECK(t.find("in the stacks                 1") != std::string::npos);
  CHECK(t.find("outside                       1") != std::string::npos);
  CHECK(t.find("outside /global/env\n") != std::string::npos);
  CHECK(t.find("first: /global/env/x.py") != std::string::npos);
  CHECK(t.find("FORBIDDEN: 1 calls") != std::string::npos);
  CHECK(t.find("program killed by signal 9; audit exits with 1") != std::string::npos);
  std::string none = render_table(r, 0);  // --top 0: a count, not "nothing outside"
  CHECK(none.find("1 directories outside the stacks and system directories\n") != std::string::npos);
  CHECK(none.find("nothing outside") == std::string::npos);

  Report quiet({"/s"}, {});
  quiet.add(call("openat", "/s/a"));
  quiet.set_outcome(TraceOutcome{false, 0, 1, false});
  std::string q = render_table(quiet, 10);
  CHECK(q.find("nothing outside the stacks and system directories") != std::string::npos);
  CHECK(q.find("(traced without seccomp)") != std::string::npos);
  CHECK(q.find("FORBIDDEN") == std::string::npos);
  CHECK(q.find("program exited with status 0; audit exits with 0") != std::string::npos);
}

TEST_CASE("render_json is one object with the same figures") {
  Report r({"/s"}, {"/global"});
  r.add(call("openat", "/s/a"));
  r.add(call("getdents64", "/global/env"));
  r.add(call("openat", "/tmp/\xff" "bad-utf8"));
  r.set_outcome(TraceOutcome{false, 5, 3, true});
  nlohmann::json j = nlohmann::json::parse(render_json(r, 10));
  CHECK(j["program"]["exit_status"] == 5);
  CHECK(j["exit_status"] == 1);
  CHECK(j["processes"] == 3);
  CHECK(j["tracer"] == "seccomp");
  CHECK(j["calls"]["total"] == 3);
  CHECK(j["calls"]["stack"] == 1);
  CHECK(j["calls"]["outside"] == 2);
  CHECK(j["syscalls"]["openat"] == 2);
  CHECK(j["forbid"]["calls"] == 1);
  CHECK(j["forbid"]["first"][0] == "/global/env");
  CHECK(j["directories_total"] == 2);
  CHECK(j["directories"].size() == 2);
  r.set_outcome(TraceOutcome{true, 11, 1, true});
  CHECK(nlohmann::json::parse(render_json(r, 1))["program"]["signal"] == 11);
  CHECK(nlohmann::json::parse(render_json(r, 1))["directories"].size() == 1);
}
