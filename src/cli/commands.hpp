// The sub-commands. Each takes the words after its name, returns an exit
// code, and throws Error/UsageError/Interrupted for cli::run to report.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "install/node_root.hpp"

namespace shmstack::cli {

using Args = std::vector<std::string>;

int cmd_pack(const Args& args);
int cmd_unpack(const Args& args);
int cmd_info(const Args& args);
int cmd_list(const Args& args);
int cmd_rm(const Args& args);
int cmd_gc(const Args& args);
int cmd_env(const Args& args);
int cmd_exec(const Args& args);
int cmd_bcast(const Args& args);
int cmd_run(const Args& args);
int cmd_slurm(const Args& args);
int cmd_audit(const Args& args);

// Shared by exec and run.
// Splits "A B -- C D" into the words before "--" and after it.
std::pair<Args, Args> split_command(const Args& args);
// What exec runs: the program found in the stacks' PATH, its arguments, the
// environment of the stacks `keys` installed on this node (resolved from
// node-local records only), and where those stacks are. Shared by exec, run
// and audit, so that audit runs the program exactly as exec would.
struct ExecPlan {
  std::string program;
  Args argv;
  std::vector<std::string> env;
  std::vector<std::string> stack_dirs;
  std::vector<InstalledStack> stacks;
};
ExecPlan plan_exec(const std::string& root, const std::vector<std::string>& keys, Args command);
// Replaces this process with `command`, in the environment of the stacks
// `keys` installed on this node; the program holds their use locks
// (node_root.hpp: hold_in_use) until it ends.
[[noreturn]] void exec_with_stacks(const std::string& root, const std::vector<std::string>& keys, Args command);

// The whole front end: dispatch, --help/--version, and the one place that
// turns an escaped error into a message and an exit code.
int run(int argc, char** argv);

}  // namespace shmstack::cli
