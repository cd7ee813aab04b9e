// shmstack audit: run a program as 'shmstack exec' would, under the tracer of
// src/audit/, and report where its file-system calls went.
#include <fstream>
#include <iostream>

#include "audit/report.hpp"
#include "audit/tracer.hpp"
#include "base/error.hpp"
#include "base/path_check.hpp"
#include "cli/cli_support.hpp"
#include "cli/commands.hpp"

namespace shmstack::cli {

const CommandSpec kAuditSpec = {
    "audit", "audit STACK... [options] -- PROG [ARGS...]",
    "Run PROG as 'shmstack exec' would and report every file it touches.",
    "Records every file-system call of PROG and all its children (open, openat,\n"
    "the stat family, access, readlink, getdents64, execve, ...; the dynamic\n"
    "loader's too) with ptrace and a seccomp filter, and prints a table on stderr\n"
    "at exit: calls in the stacks, in system directories (/usr, /lib*, /bin,\n"
    "/sbin, /etc, /proc, /sys, /dev but /dev/shm, /run), in the rest of /dev/shm,\n"
    "and outside (everything else: the shared file system, $HOME, /tmp, /opt),\n"
    "with the directories outside the stacks and system that had the most calls.\n"
    "Exit status: PROG's, 128+N if PROG was killed by signal N, 1 if a --forbid\n"
    "prefix was touched (the first paths are named), 1 if PROG cannot be traced.\n"
    "Under MPI, run it per rank (srun -n1 shmstack audit STACK -- python3 app.py).\n"
    "Calls that change the file system (mkdir, unlink, rename, chmod, ...) count\n"
    "too. Not seen: io_uring file access, processes cloned with CLONE_UNTRACED,\n"
    "calls of another ABI (32-bit), paths changed by another thread after the call\n"
    "stopped; audit is a diagnostic, not a sandbox (doc/audit.md). It warns when\n"
    "PROG sets up an io_uring or clones with CLONE_UNTRACED."};

int cmd_audit(const Args& args) {
  auto [ours, command] = split_command(args);
  po::options_description options("Options");
  std::vector<std::string> keys, forbid;
  std::string output;
  std::size_t top = 10;
  po::options_description arguments;
  arguments.add_options()("stack", po::value(&keys)->required()->value_name("STACK"), "stacks to activate");
  options.add_options()
      ("forbid", po::value(&forbid)->composing()->value_name("PREFIX"),
       "exit 1 if any call touched PREFIX or below it (repeatable)")
      ("json", "print the report as JSON instead of a table")
      ("output,o", po::value(&output)->value_name("FILE"), "write the report to FILE instead of stderr")
      ("top", po::value(&top)->value_name("N"), "directories to list (default: 10)");
  add_root_option(options);
  po::positional_options_description positional;
  positional.add("stack", -1);
  po::variables_map vm;
  if (!parse(kAuditSpec, ours, options, arguments, positional, vm)) return 0;
  if (command.empty()) throw UsageError("audit: missing '-- PROG [ARGS...]'");
  for (const std::string& f : forbid)
    if (f.empty()) throw UsageError("audit: --forbid wants a path prefix");

  ExecPlan plan = plan_exec(root_from(vm), keys, command);
  // A stack or prefix may be reached through a symlink: count both spellings.
  std::vector<std::string> stacks, prefixes;
  for (const std::string& dir : plan.stack_dirs) {
    stacks.push_back(lexically_absolute(dir));
    if (std::string real = resolved_path(dir); real != stacks.back()) stacks.push_back(real);
  }
  for (const std::string& f : forbid) {
    prefixes.push_back(lexically_absolute(f));
    if (std::string real = resolved_path(f); real != prefixes.back()) prefixes.push_back(real);
  }
  std::ofstream file;
  if (!output.empty()) {
    file.open(output);
    if (!file) throw_errno("cannot write", output);
  }

  audit::Report report(stacks, prefixes);
  report.set_outcome(audit::trace_program(plan.program, plan.argv, plan.env,
                                          [&](const audit::FileCall& call) { report.add(call); }));
  std::string text = vm.count("json") ? audit::render_json(report, top) : audit::render_table(report, top);
  if (output.empty()) {
    std::cerr << text << std::flush;
  } else if (!(file << text << std::flush)) {
    throw_errno("cannot write", output);
  }
  return report.exit_status();
}

}  // namespace shmstack::cli
