// The sub-commands. Each takes the words after its name, returns an exit
// code, and throws Error/UsageError/Interrupted for cli::run to report.
#pragma once

#include <string>
#include <vector>

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

// The whole front end: dispatch, --help/--version, and the one place that
// turns an escaped error into a message and an exit code.
int run(int argc, char** argv);

}  // namespace shmstack::cli
