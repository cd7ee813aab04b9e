// Tests the pure parts of the Slurm integration (job environment, comment,
// TaskProlog lines, the Prolog's record) and the job records on a scratch
// stack root: claims, release, and what another job keeps alive.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "archive/activation.hpp"
#include "base/error.hpp"
#include "archive/manifest.hpp"
#include "install/node_root.hpp"
#include "slurm/slurm_job.hpp"
#include "temp_dir.hpp"

using namespace shmstack;
using Strings = std::vector<std::string>;

TEST_CASE("job_from_environment reads the job and names what is missing or malformed") {
  SlurmJob job = job_from_environment({"SLURM_JOB_ID=42", "SLURM_JOB_UID=1000", "SLURM_JOB_GID=100"}, true);
  CHECK(job.id == "42");
  CHECK(job.uid == 1000);
  CHECK(job.gid == 100);
  CHECK(job_from_environment({"SLURM_JOB_ID=7"}, false).id == "7");
  CHECK_THROWS_WITH_AS(job_from_environment({"SLURM_JOB_ID=7"}, true),
                       "not run by Slurm for a job: SLURM_JOB_UID is not set", Error);
  CHECK_THROWS_WITH_AS(job_from_environment({"SLURM_JOB_ID=../x"}, false),
                       "not run by Slurm for a job: SLURM_JOB_ID='../x' is not a number", Error);
  CHECK_THROWS_AS(job_from_environment({}, false), Error);
  CHECK(env_value({"A=1", "AB=2", "B="}, "A") == "1");
  CHECK(env_value({"A=1", "AB=2", "B="}, "B") == "");
  CHECK_FALSE(env_value({"AB=2"}, "A"));
}

TEST_CASE("job_from_environment refuses a uid or gid past 2^32-2 instead of wrapping it to root") {
  auto ids = [](const std::string& uid, const std::string& gid) {
    return job_from_environment({"SLURM_JOB_ID=1", "SLURM_JOB_UID=" + uid, "SLURM_JOB_GID=" + gid}, true);
  };
  CHECK(ids("4294967294", "0").uid == 4294967294U);
  CHECK_THROWS_WITH_AS(ids("4294967296", "0"),
                       "not run by Slurm for a job: SLURM_JOB_UID=4294967296 is out of range (0 to 4294967294)", Error);
  CHECK_THROWS_WITH_AS(ids("4294967297", "0"),
                       "not run by Slurm for a job: SLURM_JOB_UID=4294967297 is out of range (0 to 4294967294)", Error);
  CHECK_THROWS_WITH_AS(ids("4294967295", "0"),  // (uid_t)-1: "unchanged" to setresuid
                       "not run by Slurm for a job: SLURM_JOB_UID=4294967295 is out of range (0 to 4294967294)", Error);
  CHECK_THROWS_WITH_AS(ids("1000", "999999999999999999"),
                       "not run by Slurm for a job: SLURM_JOB_GID=999999999999999999 is out of range (0 to 4294967294)",
                       Error);
}

TEST_CASE("stacks_from_comment takes the shmstack= words, in order, and ignores the rest") {
  CHECK(stacks_from_comment("") == Strings{});
  CHECK(stacks_from_comment("nightly run") == Strings{});
  CHECK(stacks_from_comment("shmstack=/s/a.tar.lz4") == Strings{"/s/a.tar.lz4"});
  CHECK(stacks_from_comment("run 3; shmstack=/s/a.tar.lz4:/s/b.tar.gz  other=x") ==
        Strings{"/s/a.tar.lz4", "/s/b.tar.gz"});
  CHECK(stacks_from_comment("shmstack=/a shmstack=/b") == Strings{"/a", "/b"});
  CHECK(stacks_from_comment("xshmstack=/a shmstack=") == Strings{});
  CHECK(split_stack_list("a::b:") == Strings{"a", "b"});
}

TEST_CASE("task_prolog_exports prints what changed, literally, and refuses newlines") {
  Strings before = {"PATH=/usr/bin", "HOME=/h", "GONE=1"};
  Strings after = {"PATH=/shm/s/bin:/usr/bin", "HOME=/h", "PYTHONNOUSERSITE=1", "ODD=a b 'c' $d"};
  CHECK(task_prolog_exports(before, after) ==
        "export PATH=/shm/s/bin:/usr/bin\n"
        "export PYTHONNOUSERSITE=1\n"
        "export ODD=a b 'c' $d\n"
        "unset GONE\n");
  CHECK(task_prolog_exports(before, before) == "");
  CHECK_THROWS_AS(task_prolog_exports({}, {"X=a\nexport LD_PRELOAD=/evil.so"}), Error);
  CHECK(task_prolog_print("shmstack: error: one\ntwo\n") == "print shmstack: error: one\nprint two\n");
}

TEST_CASE("the Prolog's record round-trips and names only stack directories") {
  PrologResult r{{"sci-0123456789ab", "tools-ba9876543210"}, ""};
  PrologResult back = parse_prolog_result(to_json(r), "test");
  CHECK(back.stacks == r.stacks);
  CHECK(back.error.empty());
  CHECK(parse_prolog_result(to_json(PrologResult{{}, "cannot open"}), "test").error == "cannot open");
  CHECK_THROWS_AS(parse_prolog_result(R"({"stacks": ["../../etc"]})", "test"), Error);
  CHECK_THROWS_AS(parse_prolog_result(R"({"stacks": [".locks"]})", "test"), Error);
  CHECK_THROWS_AS(parse_prolog_result("not json", "test"), Error);
}

namespace {

// A stack directory that counts as installed (manifest and install record).
std::string fake_install(const UserRoot& root, const std::string& name, const std::string& job) {
  Manifest m = synthesize_manifest("/archives/" + name + ".tar.lz4", 1000, 1);
  std::string dir = m.dir_name();
  REQUIRE(::mkdirat(root.fd(), dir.c_str(), 0755) == 0);
  REQUIRE(::mkdirat(root.fd(), (dir + "/.shmstack").c_str(), 0755) == 0);
  InstallRecord record;
  record.job_id = job;
  write_new_file(root.fd(), dir + "/.shmstack/manifest.json", to_json(m), dir);
  write_new_file(root.fd(), dir + "/.shmstack/install.json", to_json(record), dir);
  return dir;
}

}  // namespace

TEST_CASE("JobRecords: a job releases what it claimed or installed, unless another job claims it") {
  test::TempDir tmp;
  UserRoot root(tmp.path(), true);
  std::string a = fake_install(root, "a", "");    // installed outside any job
  std::string b = fake_install(root, "b", "11");  // installed during job 11 (bcast, unpack)
  std::string c = fake_install(root, "c", "");
  {
    JobRecords records(root);
    CHECK(records.claim("10", a));
    CHECK(records.claim("10", c));
    CHECK(records.claim("12", c));
    CHECK_FALSE(records.claim("10", "gone-0123456789ab"));
    records.write_prolog_result("10", PrologResult{{a, c}, ""});
    REQUIRE(read_prolog_result(root, "10"));
    CHECK(read_prolog_result(root, "10")->stacks == Strings{a, c});
    CHECK_FALSE(read_prolog_result(root, "12"));
    CHECK(records.claimed_by_others("10") == Strings{c});
    CHECK_THROWS_AS(records.claim("../10", a), Error);
  }
  JobRecords records(root);
  CHECK(records.release("10") == Strings{a});  // c stays: job 12 still claims it
  CHECK(records.release("11") == Strings{b});  // installed by job 11, never claimed
  CHECK_FALSE(read_prolog_result(root, "10"));
  CHECK(records.release("12") == Strings{c});
  CHECK(records.release("99") == Strings{});
}
