// Tests what the Prolog reads about Slurm's job_container/tmpfs: slurm.conf
// values, host lists, job_container.conf's BasePath per node, where the job's
// namespace handle lives, which stack roots the plugin hides, and the
// decision on scratch configuration files.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "base/error.hpp"
#include "slurm/job_container.hpp"
#include "temp_dir.hpp"

using namespace shmstack;
using shmstack::test::TempDir;

TEST_CASE("slurm_conf_value: case-insensitive keys, comments, the last one wins") {
  std::string conf =
      "# JobContainerType=job_container/none\n"
      "ClusterName=c1\n"
      "jobcontainertype=job_container/tmpfs   # per-job /tmp and /dev/shm\n"
      "PrologFlags=Contain Prolog=/etc/slurm/prolog\n";
  CHECK(slurm_conf_value(conf, "JobContainerType") == "job_container/tmpfs");
  CHECK(slurm_conf_value(conf, "prologflags") == "Contain");
  CHECK(slurm_conf_value(conf, "Prolog") == "/etc/slurm/prolog");
  CHECK_FALSE(slurm_conf_value(conf, "TaskProlog"));
  CHECK(slurm_conf_value("A=1\nA=2\n", "a") == "2");
}

TEST_CASE("hostlist_contains: names, bracket ranges, padding, ALL") {
  CHECK(hostlist_contains("node1", "node1"));
  CHECK_FALSE(hostlist_contains("node1", "node10"));
  CHECK(hostlist_contains("gpu01,node[1-3,7]", "node7"));
  CHECK(hostlist_contains("gpu01,node[1-3,7]", "node2"));
  CHECK(hostlist_contains("gpu01,node[1-3,7]", "gpu01"));
  CHECK_FALSE(hostlist_contains("gpu01,node[1-3,7]", "node4"));
  CHECK(hostlist_contains("n[01-10]", "n07"));
  CHECK_FALSE(hostlist_contains("n[01-10]", "n7"));
  CHECK(hostlist_contains("rack[1-2]-a", "rack2-a"));
  CHECK_FALSE(hostlist_contains("rack[1-2]-a", "rack2-b"));
  CHECK(hostlist_contains("ALL", "anything"));
  CHECK_FALSE(hostlist_contains("", "node1"));
}

TEST_CASE("job_container_base_path: a NodeName line wins over the global BasePath") {
  std::string conf =
      "AutoBasePath=true\n"
      "BasePath=/var/nvme/jobs   # everyone else\n"
      "NodeName=big[1-4] BasePath=/scratch/local/jobs\n";
  CHECK(job_container_base_path(conf, "node9") == "/var/nvme/jobs");
  CHECK(job_container_base_path(conf, "big3") == "/scratch/local/jobs");
  CHECK(job_container_base_path("NodeName=big1 BasePath=/x\n", "big1") == "/x");
  CHECK_FALSE(job_container_base_path("NodeName=big1 BasePath=/x\n", "small1"));
  CHECK_FALSE(job_container_base_path("AutoBasePath=true\n", "node1"));
}

TEST_CASE("job_namespace_handles: BasePath/JOB/.ns, then BasePath/NODE/JOB/.ns") {
  auto h = job_namespace_handles("/var/jc/", "node2", "42");
  REQUIRE(h.size() == 2);
  CHECK(h[0] == "/var/jc/42/.ns");
  CHECK(h[1] == "/var/jc/node2/42/.ns");
}

TEST_CASE("hidden_by_job_container: /dev/shm and /tmp and what is below them") {
  CHECK(hidden_by_job_container("/dev/shm"));
  CHECK(hidden_by_job_container("/dev/shm/x"));
  CHECK(hidden_by_job_container("/tmp"));
  CHECK(hidden_by_job_container("/tmp/stacks"));
  CHECK_FALSE(hidden_by_job_container("/dev/shmother"));
  CHECK_FALSE(hidden_by_job_container("/run/shmstack"));
  CHECK_FALSE(hidden_by_job_container("/tmpx"));
}

TEST_CASE("hidden_by_job_container compares resolved paths, not text") {
  CHECK(hidden_by_job_container("/dev//shm/x"));
  CHECK(hidden_by_job_container("/dev/shm/"));
  CHECK(hidden_by_job_container("/dev/./shm/x"));
  CHECK(hidden_by_job_container("/dev/shm/../shm/stacks"));
  CHECK(hidden_by_job_container("//tmp/stacks"));
  CHECK_FALSE(hidden_by_job_container("/dev/shm/../other"));
  TempDir dir;
  REQUIRE(::symlink("/dev/shm", (dir.path() + "/shm").c_str()) == 0);
  CHECK(hidden_by_job_container(dir.path() + "/shm"));
  CHECK(hidden_by_job_container(dir.path() + "/shm/not-yet"));
  CHECK(path_is_under("/a/b", "/a"));
  CHECK_FALSE(path_is_under("/ab", "/a"));
}

namespace {
void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }
}  // namespace

TEST_CASE("find_job_container and the Prolog's decision, on scratch configuration files") {
  TempDir dir;
  std::string conf = dir.path() + "/slurm.conf";
  write(conf, "ClusterName=c\n");
  CHECK_FALSE(find_job_container(conf, "node1", "42").active);
  CHECK_FALSE(find_job_container(dir.path() + "/missing.conf", "node1", "42").active);
  CHECK_FALSE(enter_job_container_for_prolog(conf, "node1", "42", "/dev/shm"));

  write(conf, "JobContainerType=job_container/tmpfs\n");
  CHECK_THROWS_WITH_AS(find_job_container(conf, "node1", "42"),
                       doctest::Contains("cannot read job_container/tmpfs's settings"), Error);
  write(dir.path() + "/job_container.conf", "NodeName=other BasePath=/x\n");
  CHECK_THROWS_WITH_AS(find_job_container(conf, "node1", "42"), doctest::Contains("no BasePath for node 'node1'"), Error);

  std::string base = dir.path() + "/jc";
  write(dir.path() + "/job_container.conf", "BasePath=" + base + "\n");
  JobContainer jc = find_job_container(conf, "node1", "42");
  CHECK(jc.active);
  CHECK(jc.base_path == base);
  CHECK(jc.handle.empty());
  // A root the plugin does not hide needs nothing, even without a namespace.
  CHECK_FALSE(enter_job_container_for_prolog(conf, "node1", "42", "/run/shmstack"));
  // /dev/shm without the job's namespace: refused, naming what works.
  CHECK_THROWS_WITH_AS(enter_job_container_for_prolog(conf, "node1", "42", "/dev/shm"),
                       doctest::Contains("use the TaskProlog (SHMSTACK_STACKS) or the pre-step (srun shmstack bcast)"),
                       Error);

  // The handle, as a build for several slurmd per host places it.
  std::filesystem::create_directories(base + "/node1/42");
  write(base + "/node1/42/.ns", "");
  CHECK(find_job_container(conf, "node1", "42").handle == base + "/node1/42/.ns");
  CHECK(find_job_container(conf, "node1", "43").handle.empty());
}
