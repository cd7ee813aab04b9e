// Commands whose standard output a shell evals (`env`, `bcast --print-env`)
// must make that eval fail when they fail. `eval "$(shmstack env X)"` of an
// empty output succeeds, so a `set -e` batch script would run on without the
// stack, importing from the shared file system on every rank. Once a command
// calls guard_eval_output, cli::run prints a line on standard output that
// makes the eval fail (`false`, the same in sh, csh and fish; nothing for
// json, whose reader checks the exit status) whenever the command fails.
#pragma once

#include <string>
#include <vector>

#include "archive/activation.hpp"

namespace shmstack::cli {

void guard_eval_output(Shell shell);
// True when Args hold a flag that asks for eval output (bcast's --print-env),
// looked for before the command line is parsed (a usage error must fail too).
bool asks_for_eval(const std::vector<std::string>& args, const char* flag);
// Called by cli::run once, when a command ends with a non-zero status.
void print_eval_failure();

}  // namespace shmstack::cli
