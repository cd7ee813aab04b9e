#include "cli/eval_guard.hpp"

#include <algorithm>
#include <iostream>
#include <optional>

namespace shmstack::cli {
namespace {

std::optional<Shell> guarded;

}  // namespace

void guard_eval_output(Shell shell) { guarded = shell; }

bool asks_for_eval(const std::vector<std::string>& args, const char* flag) {
  auto end = std::find(args.begin(), args.end(), "--");
  return std::find(args.begin(), end, flag) != end;
}

void print_eval_failure() {
  if (!guarded || *guarded == Shell::json) return;
  std::cout << "false\n";
  std::cout.flush();
}

}  // namespace shmstack::cli
