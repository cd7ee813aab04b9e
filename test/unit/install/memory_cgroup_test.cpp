// Tests memory_cgroup: finding the memory cgroup from /proc/self/cgroup and
// mountinfo texts, what is left along fake v1 and v2 trees, the margin's
// syntax and the refusal's wording.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "base/error.hpp"
#include "install/memory_cgroup.hpp"
#include "temp_dir.hpp"

namespace {

using namespace shmstack;
constexpr std::uint64_t MiB = 1 << 20;
const std::string kUnlimitedV1 = "9223372036854771712";

// This machine's kind of mountinfo: v1 controllers and a cgroup2 beside them.
const std::string kHybridMountinfo =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
const std::string kV2Mountinfo =
    "24 1 0:21 / / rw - ext4 /dev/sda1 rw\n"
    "30 24 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";

void put(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << text << "\n";
}

void v1_level(const std::string& dir, const std::string& limit, std::uint64_t usage, std::uint64_t inactive_file = 0) {
  put(dir + "/memory.limit_in_bytes", limit);
  put(dir + "/memory.usage_in_bytes", std::to_string(usage));
  put(dir + "/memory.use_hierarchy", "1");
  put(dir + "/memory.stat", "cache 0\nrss 0\ntotal_inactive_file " + std::to_string(inactive_file) + "\n");
}

}  // namespace

TEST_CASE("the memory cgroup is found from /proc/self/cgroup and mountinfo") {
  std::string proc =
      "9:name=systemd:/\n4:memory:/slurm/uid_1000/job_42/step_0/task_0\n3:cpuset:/\n0::/\n";
  std::optional<CgroupLocation> v1 = find_memory_cgroup(proc, kHybridMountinfo);
  REQUIRE(v1);
  CHECK(v1->version == 1);
  CHECK(v1->mount == "/sys/fs/cgroup/memory");
  CHECK(v1->path == "/slurm/uid_1000/job_42/step_0/task_0");

  std::optional<CgroupLocation> v2 = find_memory_cgroup("0::/system.slice/slurmd.service\n", kV2Mountinfo);
  REQUIRE(v2);
  CHECK(v2->version == 2);
  CHECK(v2->mount == "/sys/fs/cgroup");
  CHECK(v2->path == "/system.slice/slurmd.service");

  // memory in a combined v1 mount, with a mount point that needs unescaping
  std::optional<CgroupLocation> joint = find_memory_cgroup(
      "5:cpu,memory:/a\n", "40 31 0:38 / /sys/fs/cgroup/cpu\\040mem rw - cgroup cgroup rw,cpu,memory\n");
  REQUIRE(joint);
  CHECK(joint->mount == "/sys/fs/cgroup/cpu mem");

  CHECK_FALSE(find_memory_cgroup("4:memory:/x\n", "24 1 0:21 / / rw - ext4 /dev/sda1 rw\n"));
  CHECK_FALSE(find_memory_cgroup("", kHybridMountinfo));
}

TEST_CASE("v1: the tightest level up the hierarchy wins, page cache is not counted as used") {
  test::TempDir fs;
  std::string m = fs / "sys/fs/cgroup/memory";
  v1_level(m, kUnlimitedV1, 5000 * MiB);
  v1_level(m + "/slurm", kUnlimitedV1, 400 * MiB);
  v1_level(m + "/slurm/uid_1000", kUnlimitedV1, 400 * MiB);
  v1_level(m + "/slurm/uid_1000/job_42", std::to_string(1000 * MiB), 820 * MiB, 0);
  v1_level(m + "/slurm/uid_1000/job_42/step_0", kUnlimitedV1, 810 * MiB);
  CgroupLocation at{1, "/sys/fs/cgroup/memory", "/", "/slurm/uid_1000/job_42/step_0"};
  std::optional<CgroupMemory> left = memory_left(at, fs.path());
  REQUIRE(left);
  CHECK(left->cgroup == "/slurm/uid_1000/job_42");
  CHECK(left->limit == 1000 * MiB);
  CHECK(left->left == 180 * MiB);
  CHECK_FALSE(left->swap);

  // reclaimable page cache (the job's input it just read) is not counted
  v1_level(m + "/slurm/uid_1000/job_42", std::to_string(1000 * MiB), 820 * MiB, 300 * MiB);
  CHECK(memory_left(at, fs.path())->left == 480 * MiB);

  // a tie: the job (the outer one), memory alone
  v1_level(m + "/slurm/uid_1000/job_42/step_0", std::to_string(1000 * MiB), 820 * MiB, 300 * MiB);
  put(m + "/slurm/uid_1000/job_42/memory.memsw.limit_in_bytes", std::to_string(1000 * MiB));
  put(m + "/slurm/uid_1000/job_42/memory.memsw.usage_in_bytes", std::to_string(820 * MiB));
  CHECK(memory_left(at, fs.path())->cgroup == "/slurm/uid_1000/job_42");
  CHECK_FALSE(memory_left(at, fs.path())->swap);
  std::filesystem::remove(m + "/slurm/uid_1000/job_42/memory.memsw.limit_in_bytes");

  // a tighter step limit wins over the job's
  v1_level(m + "/slurm/uid_1000/job_42/step_0", std::to_string(900 * MiB), 810 * MiB);
  CHECK(memory_left(at, fs.path())->cgroup == "/slurm/uid_1000/job_42/step_0");
  CHECK(memory_left(at, fs.path())->left == 90 * MiB);

  // memory plus swap, where the kernel accounts it, can be tighter still
  put(m + "/slurm/uid_1000/job_42/memory.memsw.limit_in_bytes", std::to_string(1000 * MiB));
  put(m + "/slurm/uid_1000/job_42/memory.memsw.usage_in_bytes", std::to_string(1000 * MiB + 250 * MiB));
  std::optional<CgroupMemory> swap = memory_left(at, fs.path());
  CHECK(swap->left == 50 * MiB);
  CHECK(swap->swap);
  CHECK(swap->cgroup == "/slurm/uid_1000/job_42");
}

TEST_CASE("v1: charges stop at a parent that is not hierarchical, and no limit anywhere gives no figure") {
  test::TempDir fs;
  std::string m = fs / "mem";
  v1_level(m, kUnlimitedV1, 5000 * MiB);
  v1_level(m + "/a", std::to_string(100 * MiB), 90 * MiB);
  v1_level(m + "/a/b", kUnlimitedV1, 10 * MiB);
  CgroupLocation at{1, "/mem", "/", "/a/b"};
  REQUIRE(memory_left(at, fs.path()));
  CHECK(memory_left(at, fs.path())->left == 10 * MiB);
  put(m + "/a/memory.use_hierarchy", "0");
  CHECK_FALSE(memory_left(at, fs.path()));

  v1_level(m + "/a", kUnlimitedV1, 90 * MiB);
  put(m + "/a/memory.use_hierarchy", "1");
  CHECK_FALSE(memory_left(at, fs.path()));
  CHECK_FALSE(memory_left(CgroupLocation{1, "/nowhere", "/", "/a"}, fs.path()));
}

TEST_CASE("v1: a mount of part of the hierarchy (a container) is entered at its root") {
  test::TempDir fs;
  std::string m = fs / "sys/fs/cgroup/memory";
  v1_level(m, std::to_string(2000 * MiB), 1500 * MiB);  // /docker/abc, mounted as the root here
  v1_level(m + "/job", std::to_string(800 * MiB), 100 * MiB);
  CgroupLocation at{1, "/sys/fs/cgroup/memory", "/docker/abc", "/docker/abc/job"};
  std::optional<CgroupMemory> left = memory_left(at, fs.path());
  REQUIRE(left);
  CHECK(left->cgroup == "/docker/abc");
  CHECK(left->left == 500 * MiB);
}

TEST_CASE("v2: memory.max - memory.current up to the root, 'max' is no limit") {
  test::TempDir fs;
  std::string m = fs / "sys/fs/cgroup";
  put(m + "/memory.stat", "anon 0\n");  // the root has no memory.max
  put(m + "/system.slice/memory.max", "max");
  put(m + "/system.slice/memory.current", std::to_string(700 * MiB));
  put(m + "/system.slice/slurmstepd.scope/job_7/memory.max", std::to_string(512 * MiB));
  put(m + "/system.slice/slurmstepd.scope/job_7/memory.current", std::to_string(400 * MiB));
  put(m + "/system.slice/slurmstepd.scope/job_7/memory.stat", "anon 100\ninactive_file " + std::to_string(16 * MiB));
  put(m + "/system.slice/slurmstepd.scope/job_7/step_0/memory.max", "max");
  put(m + "/system.slice/slurmstepd.scope/job_7/step_0/memory.current", std::to_string(300 * MiB));
  CgroupLocation at{2, "/sys/fs/cgroup", "/", "/system.slice/slurmstepd.scope/job_7/step_0"};
  std::optional<CgroupMemory> left = memory_left(at, fs.path());
  REQUIRE(left);
  CHECK(left->cgroup == "/system.slice/slurmstepd.scope/job_7");
  CHECK(left->left == 128 * MiB);

  put(m + "/system.slice/slurmstepd.scope/job_7/memory.max", "max");
  CHECK_FALSE(memory_left(at, fs.path()));
}

TEST_CASE("the margin: sizes, percentages of the footprint, 0, and the default of 256 MiB or 10%") {
  CHECK(parse_memory_margin("512M", "--memory-margin").bytes == 512 * MiB);
  CHECK(parse_memory_margin("1G", "--memory-margin").bytes == 1024 * MiB);
  CHECK(parse_memory_margin("1.5GiB", "--memory-margin").bytes == 1536 * MiB);
  CHECK(parse_memory_margin("64k", "--memory-margin").bytes == 64 * 1024);
  CHECK(parse_memory_margin("4096", "--memory-margin").bytes == 4096);
  MemoryMargin pct = parse_memory_margin("25%", "--memory-margin");
  CHECK(pct.bytes == 0);
  CHECK(margin_bytes(pct, 400 * MiB) == 100 * MiB);
  MemoryMargin none = parse_memory_margin("0", "--memory-margin");
  CHECK(margin_bytes(none, 400 * MiB) == 0);
  for (const char* bad : {"", "M", "1X", "1.2.3", "-1G", "10%%", "1GB2", "5000%", "1e3"})
    CHECK_THROWS_AS(parse_memory_margin(bad, "--memory-margin"), UsageError);
  CHECK_THROWS_WITH(parse_memory_margin("lots", "SHMSTACK_MEMORY_MARGIN"),
                    doctest::Contains("SHMSTACK_MEMORY_MARGIN: 'lots' is not a size"));

  MemoryMargin standard;
  CHECK(margin_bytes(standard, 100 * MiB) == 256 * MiB);
  CHECK(margin_bytes(standard, 10000 * MiB) == 1000 * MiB);
}

TEST_CASE("the refusal names the stack, the node, both sizes and the cgroup") {
  CgroupMemory job{"/slurm/uid_1000/job_42", 200 * MiB, 180 * MiB, false};
  MemoryMargin none = parse_memory_margin("0", "--memory-margin");
  CHECK_FALSE(memory_problem("stack 'sci-env'", "node3", 180 * MiB, none, job));
  CHECK_FALSE(memory_problem("stack 'sci-env'", "node3", 500 * MiB, none, std::nullopt));
  std::optional<Error> refused = memory_problem("stack 'sci-env'", "node3", 288 * MiB, none, job);
  REQUIRE(refused);
  CHECK(std::string(refused->what()) ==
        "not enough memory for stack 'sci-env' on node3: needs 288.0 MiB of memory in its tmpfs, the memory cgroup "
        "'/slurm/uid_1000/job_42' has 180.0 MiB left (limit 200.0 MiB)");

  std::optional<Error> margin = memory_problem("stack 'sci-env'", "node3", 100 * MiB, MemoryMargin{}, job);
  REQUIRE(margin);
  CHECK(std::string(margin->what()).find("needs 100.0 MiB of memory in its tmpfs plus a 256.0 MiB margin") !=
        std::string::npos);
  CHECK_FALSE(memory_problem("stack 'sci-env'", "node3", 100 * MiB, parse_memory_margin("80M", "-"), job));
  CHECK(memory_problem("stack 'sci-env'", "node3", 100 * MiB, parse_memory_margin("81M", "-"), job));
}
