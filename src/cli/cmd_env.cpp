// shmstack env / exec: activate stacks already installed on this node.
//
// Both resolve stacks from the node-local records only (UserRoot::resolve):
// they never touch the archive, which may live on the shared file system or
// no longer exist. exec computes the new environment as a pure function of
// the current one (activation.hpp) and passes it to execve; it does not
// modify its own environment.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "archive/activation.hpp"
#include "cli/cli_support.hpp"
#include "cli/commands.hpp"
#include "cli/eval_guard.hpp"
#include "base/error.hpp"
#include "install/node_root.hpp"
#include "base/path_check.hpp"

namespace shmstack::cli {

const CommandSpec kEnvSpec = {
    "env", "env STACK... [options]", "Print the activation of stacks installed on this node.",
    "Prints lines that set PATH, PYTHONPATH, LD_LIBRARY_PATH and the stacks' own\n"
    "variables, for 'eval \"$(shmstack env STACK)\"'. Existing values are kept behind\n"
    "the stacks'. With several stacks, the first one's directories come first.\n"
    "STACK is an archive path as given to unpack (compared as text: the archive is\n"
    "not read), NAME-ID12, an id prefix or a NAME; several matches: the latest install."};

const CommandSpec kExecSpec = {
    "exec", "exec STACK... [options] -- PROG [ARGS...]",
    "Run PROG with the environment of stacks installed on this node.",
    "STACK is resolved as for 'shmstack env', from this node's records only: the\n"
    "archive is never read. PROG is looked up in the new PATH. For an MPI program,\n"
    "run 'shmstack exec' under srun/mpiexec after installing with 'shmstack bcast'."};

namespace {

std::vector<ActiveStack> resolve_all(const std::string& root_path, const std::vector<std::string>& keys) {
  UserRoot root(root_path, false);
  std::vector<ActiveStack> stacks;
  for (const std::string& key : keys) {
    std::optional<InstalledStack> s = root.resolve(key);
    if (!s)
      throw Error("stack " + quote(key) + " is not installed on " + host_name(),
                  "nothing in " + quote(root.path()) + " matches it (install it with 'shmstack unpack' first)");
    stacks.push_back({s->path, s->manifest.activation});
  }
  return stacks;
}

// The file execve should run for `program`, searched in `path` (like execvp,
// but in the new environment's PATH).
std::string find_program(const std::string& program, const std::string& path) {
  if (program.find('/') != std::string::npos) return program;
  for (std::string_view dir : split(path, ':')) {
    std::string candidate = (dir.empty() ? std::string(".") : std::string(dir)) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  throw Error("cannot run " + quote(program), "not found in PATH");
}

}  // namespace

int cmd_env(const Args& args) {
  guard_eval_output(Shell::sh);
  po::options_description options("Options");
  std::vector<std::string> keys;
  std::string shell = "sh";
  po::options_description arguments;
  arguments.add_options()("stack", po::value(&keys)->required()->value_name("STACK"), "stacks to activate");
  options.add_options()("shell", po::value(&shell)->value_name("SHELL"),
                        "output for sh (also bash, zsh), csh (tcsh), fish, or json (default: sh)");
  add_root_option(options);
  po::positional_options_description positional;
  positional.add("stack", -1);
  po::variables_map vm;
  if (!parse(kEnvSpec, args, options, arguments, positional, vm)) return 0;
  Shell kind = parse_shell(shell);
  guard_eval_output(kind);

  std::vector<EnvEdit> edits = activation_edits(resolve_all(root_from(vm), keys));
  std::cout << render(edits, kind, current_environment());
  return 0;
}

int cmd_exec(const Args& args) {
  auto [ours, command] = split_command(args);
  po::options_description options("Options");
  std::vector<std::string> keys;
  po::options_description arguments;
  arguments.add_options()("stack", po::value(&keys)->required()->value_name("STACK"), "stacks to activate");
  add_root_option(options);
  po::positional_options_description positional;
  positional.add("stack", -1);
  po::variables_map vm;
  if (!parse(kExecSpec, ours, options, arguments, positional, vm)) return 0;
  if (command.empty()) throw UsageError("exec: missing '-- PROG [ARGS...]'");
  exec_with_stacks(root_from(vm), keys, command);
}

std::pair<Args, Args> split_command(const Args& args) {
  for (std::size_t i = 0; i < args.size(); ++i)
    if (args[i] == "--") return {Args(args.begin(), args.begin() + i), Args(args.begin() + i + 1, args.end())};
  return {args, {}};
}

ExecPlan plan_exec(const std::string& root, const std::vector<std::string>& keys, Args command) {
  std::vector<ActiveStack> stacks = resolve_all(root, keys);
  ExecPlan plan;
  plan.env = apply_edits(current_environment(), activation_edits(stacks));
  std::string path;
  for (const std::string& e : plan.env)
    if (e.rfind("PATH=", 0) == 0) path = e.substr(5);
  plan.program = find_program(command[0], path);
  plan.argv = std::move(command);
  for (const ActiveStack& s : stacks) plan.stack_dirs.push_back(s.prefix);
  return plan;
}

void exec_with_stacks(const std::string& root, const std::vector<std::string>& keys, Args command) {
  ExecPlan plan = plan_exec(root, keys, std::move(command));
  std::vector<char*> argv, envp;
  for (std::string& a : plan.argv) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (std::string& e : plan.env) envp.push_back(e.data());
  envp.push_back(nullptr);
  ::execve(plan.program.c_str(), argv.data(), envp.data());
  throw_errno("cannot run", plan.program);
}

}  // namespace shmstack::cli
