// Tests the tracer on real programs: children are followed, relative paths
// made absolute, descriptors named, exit status and signals reported; with
// seccomp and in the PTRACE_SYSCALL fallback.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <set>

#include "audit/tracer.hpp"
#include "base/error.hpp"
#include "temp_dir.hpp"

using namespace shmstack::audit;

namespace {

struct Seen {
  std::set<std::string> paths;
  std::set<std::string> syscalls;
};

TraceOutcome run_sh(const std::string& script, Seen& seen) {
  return trace_program("/bin/sh", {"sh", "-c", script}, {"PATH=/usr/bin:/bin"}, [&](const FileCall& c) {
    seen.paths.insert(c.path);
    seen.syscalls.insert(c.syscall);
  });
}

void check_tracing(const shmstack::test::TempDir& dir) {
  std::ofstream(dir / "rel.txt") << "x";
  Seen seen;
  // The child sh opens a relative path after cd; ls lists the directory.
  TraceOutcome o = run_sh("cd '" + dir.path() + "' && (cat rel.txt >/dev/null; ls . >/dev/null); exit 7", seen);
  CHECK_FALSE(o.signaled);
  CHECK(o.status == 7);
  CHECK(o.processes >= 3);
  CHECK(seen.paths.count(dir / "rel.txt") == 1);
  CHECK(seen.paths.count(dir.path()) == 1);  // chdir, getdents64
  CHECK(seen.syscalls.count("execve") == 1);
  CHECK(seen.syscalls.count("getdents64") == 1);
  for (const std::string& p : seen.paths) CHECK_MESSAGE(p[0] == '/', p);

  Seen killed;
  o = run_sh("kill -SEGV $$", killed);
  CHECK(o.signaled);
  CHECK(o.status == 11);
}

}  // namespace

TEST_CASE("trace_program follows children and resolves relative paths (seccomp)") {
  shmstack::test::TempDir dir;
  check_tracing(dir);
}

TEST_CASE("trace_program works without seccomp (PTRACE_SYSCALL fallback)") {
  shmstack::test::TempDir dir;
  ::setenv("SHMSTACK_AUDIT_NO_SECCOMP", "1", 1);
  check_tracing(dir);
  Seen seen;
  CHECK_FALSE(run_sh("true", seen).seccomp);
  ::unsetenv("SHMSTACK_AUDIT_NO_SECCOMP");
  CHECK(run_sh("true", seen).seccomp);
}

TEST_CASE("trace_program: a program that cannot be run is an error") {
  CHECK_THROWS_AS(trace_program("/nonexistent/prog", {"prog"}, {}, [](const FileCall&) {}), shmstack::Error);
}
