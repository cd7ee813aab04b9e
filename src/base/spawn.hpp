// Running a helper program during an install (conda-unpack), safely under MPI
// and under the Slurm hooks.
//
// Never fork() while MPI may be initialised (DESIGN §7): programs are started
// with posix_spawn and waited for. The helper's stdout goes to our stderr (a
// TaskProlog's stdout is read by Slurm as commands), its stdin is /dev/null.
// It runs in a session and process group of its own, with a time limit; when
// it returns (or is stopped: time out, SIGINT/SIGTERM to us) its whole process
// group is killed, and so is every process it left behind, even one that
// detached with setsid(): this process is a child subreaper
// (PR_SET_CHILD_SUBREAPER) while the helper runs, so such orphans become its
// children, and all of its new children are killed and reaped before
// run_program returns. Nothing an archive's code starts outlives the install.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace shmstack {

// Runs argv[0] (a path) with `argv` and the environment `env` ("NAME=VALUE"),
// in directory `cwd`; returns its exit status (128+N if killed by signal N).
// `timeout` > 0: killed after that long, and Error thrown. Throws Error if it
// cannot be started, Interrupted on SIGINT/SIGTERM (after the cleanup).
int run_program(const std::vector<std::string>& argv, const std::vector<std::string>& env, const std::string& cwd,
                std::chrono::seconds timeout = std::chrono::seconds{0});

// conda-pack archives carry bin/conda-unpack, which rewrites the environment's
// old prefix in place and must run where the environment finally lives.
// Runs it in `prefix` (with the environment's own python when it has one),
// with `env` (empty: this process's) and PATH starting with `prefix`/bin, for
// at most `timeout`; throws Error naming the stack when it fails.
void run_conda_unpack(const std::string& prefix, std::chrono::seconds timeout, const std::vector<std::string>& env);

}  // namespace shmstack
