// shmstack env / exec: activate stacks already installed on this node.
//
// Both resolve a NAME, NAME-ID12 or id prefix from the node-local records
// only (UserRoot::resolve). An archive path that names an existing file is
// resolved by identity: its manifest (first entry) is read and the install of
// that identity is used; an archive that changed since it was installed is an
// error that says to install it. An archive path that no longer exists matches
// the records of where stacks came from. exec computes the new environment as a pure function of
// the current one (activation.hpp) and passes it to execve; it does not
// modify its own environment.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "archive/activation.hpp"
#include "cli/cli_support.hpp"
#include "cli/commands.hpp"
#include "cli/eval_guard.hpp"
#include "base/error.hpp"
#include "base/log.hpp"
#include "base/path_check.hpp"
#include "install/install.hpp"
#include "install/node_root.hpp"

namespace shmstack::cli {

const CommandSpec kEnvSpec = {
    "env", "env STACK... [options]", "Print the activation of stacks installed on this node.",
    "Prints lines that set PATH, PYTHONPATH, LD_LIBRARY_PATH and the stacks' own\n"
    "variables, for 'eval \"$(shmstack env STACK)\"'. Existing values are kept behind\n"
    "the stacks'. With several stacks, the first one's directories come first.\n"
    "STACK is NAME-ID12, an id prefix, a NAME (several matches: the latest install),\n"
    "or an archive path: its manifest is read and the install of that archive's\n"
    "identity is used (an archive that changed since it was installed is an error:\n"
    "install it again); an archive that no longer exists matches the installs made\n"
    "from that path. Name the stack to touch nothing on the shared file system.\n"
    "On failure, prints 'false' (nothing for json), so that an eval fails too."};

const CommandSpec kExecSpec = {
    "exec", "exec STACK... [options] -- PROG [ARGS...]",
    "Run PROG with the environment of stacks installed on this node.",
    "STACK is resolved as for 'shmstack env' (-v says which install and why). PROG\n"
    "is looked up in the new PATH. For an MPI program,\n"
    "run 'shmstack exec' under srun/mpiexec after installing with 'shmstack bcast'."};

namespace {

// A word that names an archive file that exists now (not a stack name that
// happens to be a file in the working directory).
bool names_archive_file(const std::string& key) {
  struct stat st{};
  return (key.find('/') != std::string::npos || key.find(".tar") != std::string::npos) &&
         ::stat(key.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// The install of the archive `key` as it is now.
InstalledStack resolve_archive(const UserRoot& root, const std::string& key) {
  Manifest m = archive_manifest(key);
  if (std::optional<InstalledStack> s = root.find(m)) {
    log::info("%s: %s", key.c_str(), reuse_reason(*s).c_str());
    return std::move(*s);
  }
  std::string resolved = resolved_path(key), absolute = lexically_absolute(key);
  std::optional<InstalledStack> earlier;
  for (InstalledStack& s : root.list()) {
    bool from_here = s.record.archive == resolved || s.record.archive_given == absolute;
    if (from_here && (!earlier || installed_later(s.record, earlier->record))) earlier = std::move(s);
  }
  if (earlier)
    throw Error("stack archive " + quote(key) + " changed since it was installed on " + host_name(),
                "it is " + m.dir_name() + " now, but " + earlier->dir_name +
                    " is what was installed from it; install it again with 'shmstack unpack " + key + "'");
  throw Error("stack " + quote(key) + " is not installed on " + host_name(),
              "no install of " + m.dir_name() + " in " + quote(root.path()) +
                  " (install it with 'shmstack unpack' first)");
}

std::vector<InstalledStack> resolve_installed(const UserRoot& root, const std::vector<std::string>& keys) {
  std::vector<InstalledStack> stacks;
  for (const std::string& key : keys) {
    if (names_archive_file(key)) {
      stacks.push_back(resolve_archive(root, key));
      continue;
    }
    std::optional<InstalledStack> s = root.resolve(key);
    if (!s)
      throw Error("stack " + quote(key) + " is not installed on " + host_name(),
                  "nothing in " + quote(root.path()) + " matches it (install it with 'shmstack unpack' first)");
    log::info("%s: using %s (the latest install it names, installed %s)", key.c_str(), s->path.c_str(),
              s->record.installed.c_str());
    stacks.push_back(std::move(*s));
  }
  return stacks;
}

std::vector<ActiveStack> active(const std::vector<InstalledStack>& installed) {
  std::vector<ActiveStack> stacks;
  for (const InstalledStack& s : installed) stacks.push_back({s.path, s.manifest.activation});
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

  UserRoot root(root_from(vm), false);
  std::vector<EnvEdit> edits = activation_edits(active(resolve_installed(root, keys)));
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
  if (command.empty()) {
    // "exec STACK python3 -c 1": the program's options reach our parser.
    for (std::size_t i = 1; i < ours.size(); ++i)
      if (!ours[i].empty() && ours[i][0] == '-' && ours[i] != "-v" && ours[i] != "--verbose" && ours[i] != "--root" &&
          ours[i] != "-h" && ours[i] != "--help" && ours[i - 1] != "--root" &&
          ours[i].rfind("--root=", 0) != 0)
        throw UsageError("exec: unrecognised option " + quote(ours[i]) + " (put '--' before the program: shmstack exec STACK -- " +
                         ours[i - 1] + " " + ours[i] + " ...)");
  }
  if (!parse(kExecSpec, ours, options, arguments, positional, vm)) return 0;
  if (command.empty()) throw UsageError("exec: missing '-- PROG [ARGS...]'");
  exec_with_stacks(root_from(vm), keys, command);
}

std::pair<Args, Args> split_command(const Args& args) {
  for (std::size_t i = 0; i < args.size(); ++i)
    if (args[i] == "--") return {Args(args.begin(), args.begin() + i), Args(args.begin() + i + 1, args.end())};
  return {args, {}};
}

ExecPlan plan_exec(const std::string& root_path, const std::vector<std::string>& keys, Args command) {
  UserRoot root(root_path, false);
  ExecPlan plan;
  plan.stacks = resolve_installed(root, keys);
  std::vector<ActiveStack> stacks = active(plan.stacks);
  plan.env = apply_edits(current_environment(), activation_edits(stacks));
  std::string path;
  for (const std::string& e : plan.env)
    if (e.rfind("PATH=", 0) == 0) path = e.substr(5);
  plan.program = find_program(command[0], path);
  plan.argv = std::move(command);
  for (const ActiveStack& s : stacks) plan.stack_dirs.push_back(s.prefix);
  return plan;
}

void exec_with_stacks(const std::string& root_path, const std::vector<std::string>& keys, Args command) {
  ExecPlan plan = plan_exec(root_path, keys, std::move(command));
  // The program holds each stack's use lock until it ends: rm, gc and the
  // Epilog leave a stack in use alone.
  UserRoot root(root_path, false);
  for (const InstalledStack& s : plan.stacks) hold_in_use(root, s);
  std::vector<char*> argv, envp;
  for (std::string& a : plan.argv) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (std::string& e : plan.env) envp.push_back(e.data());
  envp.push_back(nullptr);
  ::execve(plan.program.c_str(), argv.data(), envp.data());
  throw_errno("cannot run", plan.program);
}

}  // namespace shmstack::cli
