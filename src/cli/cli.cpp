#include <clocale>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "base/cancel.hpp"
#include "base/error.hpp"
#include "base/log.hpp"
#include "base/version.hpp"
#include "cli/cli_support.hpp"
#include "cli/commands.hpp"
#include "cli/eval_guard.hpp"

namespace shmstack::cli {
namespace {

struct Command {
  const char* name;
  int (*run)(const Args&);
  const char* summary;
};

const Command kCommands[] = {
    {"pack", cmd_pack, "pack a directory into a compressed stack archive"},
    {"unpack", cmd_unpack, "install stack archives on this node (under /dev/shm)"},
    {"info", cmd_info, "print an archive's manifest"},
    {"list", cmd_list, "list the stacks installed on this node"},
    {"rm", cmd_rm, "remove installed stacks from this node"},
    {"gc", cmd_gc, "remove what interrupted installs left behind"},
    {"env", cmd_env, "print the activation of installed stacks (for eval)"},
    {"exec", cmd_exec, "run a program with installed stacks' environment"},
    {"audit", cmd_audit, "run a program as exec would; report the files it touches"},
    {"bcast", cmd_bcast, "install stacks on every node of an MPI job (under mpiexec/srun)"},
    {"run", cmd_run, "bcast, then run a (non-MPI) program on every rank with the stacks"},
    {"slurm", cmd_slurm, "Slurm TaskProlog, Prolog and Epilog (see 'shmstack slurm --help')"},
};

void print_overview(std::ostream& out) {
  out << "Usage: shmstack COMMAND [options] ...\n\n"
         "Pack a Python environment (or any directory) once, install it into every\n"
         "node's /dev/shm, and run from there instead of the shared file system.\n\n"
         "Commands:\n";
  for (const Command& c : kCommands) {
    out << "  " << c.name << std::string(10 - std::strlen(c.name), ' ') << c.summary << "\n";
  }
  out << "\nRun 'shmstack COMMAND --help' for a command's options.\n"
         "Exit status: 0 on success, 1 on failure, 2 on a usage error, 128+N when\n"
         "stopped by signal N (in-progress output is removed).\n";
}

}  // namespace

int run(int argc, char** argv) {
  std::string command = "";
  try {
    install_signal_handlers();
    // Entry names are bytes; a UTF-8 LC_CTYPE lets libarchive store them as
    // standard pax UTF-8 names (others fall back to raw bytes per entry).
    if (!std::setlocale(LC_CTYPE, "C.UTF-8")) std::setlocale(LC_CTYPE, "");
    if (argc < 2) {
      print_overview(std::cerr);
      return static_cast<int>(ExitCode::usage);
    }
    std::string_view first = argv[1];
    if (first == "--help" || first == "-h" || first == "help") {
      print_overview(std::cout);
      return 0;
    }
    if (first == "--version" || first == "-V") {
      std::cout << "shmstack " << kVersion << "\n";
      return 0;
    }
    for (const Command& c : kCommands) {
      if (first == c.name) {
        command = c.name;
        int code = c.run(Args(argv + 2, argv + argc));
        if (code != 0) print_eval_failure();
        return code;
      }
    }
    std::vector<std::string> names;
    for (const Command& c : kCommands) names.emplace_back(c.name);
    throw UsageError("unknown command " + quote(first) + did_you_mean(std::string(first), names));
  } catch (const UsageError& e) {
    print_eval_failure();
    log::error("%s", e.what());
    log::raw(command.empty() ? "Try 'shmstack --help'.\n" : "Try 'shmstack " + command + " --help'.\n");
    return static_cast<int>(ExitCode::usage);
  } catch (const Interrupted& e) {
    print_eval_failure();
    log::error("interrupted by signal %d; nothing was left half-written", e.signal_number());
    return static_cast<int>(ExitCode::interrupted) + e.signal_number();
  } catch (const Error& e) {
    print_eval_failure();
    log::error("%s: %s", e.operation().c_str(), e.reason().c_str());
  } catch (const std::exception& e) {
    print_eval_failure();
    log::error("%s", e.what());
  }
  return static_cast<int>(ExitCode::failure);
}

}  // namespace shmstack::cli
