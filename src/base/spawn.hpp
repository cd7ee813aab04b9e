// Running a helper program during an install (conda-unpack), safely under MPI.
//
// Never fork() while MPI may be initialised (DESIGN §7): programs are started
// with posix_spawn and waited for. The helper's output goes to our stderr.
#pragma once

#include <string>
#include <vector>

namespace shmstack {

// Runs argv[0] (a path) with `argv` and the environment `env` ("NAME=VALUE"),
// in directory `cwd`; returns its exit status (128+N if killed by signal N).
// Throws Error if it cannot be started.
int run_program(const std::vector<std::string>& argv, const std::vector<std::string>& env, const std::string& cwd);

// conda-pack archives carry bin/conda-unpack, which rewrites the environment's
// old prefix in place and must run where the environment finally lives.
// Runs it in `prefix` (with the environment's own python when it has one);
// throws Error naming the stack when it fails.
void run_conda_unpack(const std::string& prefix);

}  // namespace shmstack
