// shmstack bcast / run: the MPI commands. Every rank parses the same command
// line, before MPI starts (so --help and usage errors need no MPI); only rank
// 0 prints help, usage errors and the outcome; every rank exits with the same
// status.
#include <cstdlib>
#include <iostream>
#include <optional>
#include <sstream>

#include "archive/activation.hpp"
#include "bcast/bcast.hpp"
#include "cli/cli_support.hpp"
#include "cli/commands.hpp"
#include "cli/eval_guard.hpp"
#include "base/error.hpp"
#include "base/log.hpp"
#include "archive/manifest.hpp"
#include "bcast/mpi_comm.hpp"
#include "install/node_root.hpp"

namespace shmstack::cli {

const CommandSpec kBcastSpec = {
    "bcast", "bcast STACK|DIR... [options]", "Install stacks on every node of an MPI job.",
    "Run it under mpiexec or srun, with any number of ranks per node. World rank 0\n"
    "reads each archive, once (or packs DIR on the fly: no archive file is written\n"
    "anywhere), and broadcasts it in chunks to one leader rank per node, which\n"
    "installs it into ROOT/shmstack-<uid>/<name>-<id12>/ exactly as 'shmstack unpack'\n"
    "does. Nodes that already have a stack take no part in sending it. If any node\n"
    "cannot install (no space, a bad root, a memory cgroup that cannot hold the\n"
    "stacks plus --memory-margin), nothing is sent. On any failure every\n"
    "rank exits 1 and rank 0 names each failed node and why.\n\n"
    "Afterwards, start programs with 'shmstack exec STACK -- PROG' (as a job step,\n"
    "for MPI programs too), or eval what --print-env prints. Rank 0 prints each\n"
    "stack's installed path (the same on every node)."};

const CommandSpec kRunSpec = {
    "run", "run STACK|DIR... [options] -- PROG [ARGS...]",
    "Broadcast stacks, then run PROG on every rank with their environment.",
    "Does what 'shmstack bcast' does, ends MPI, and then every rank replaces itself\n"
    "with PROG, in the stacks' environment (PATH, PYTHONPATH, ... as 'shmstack env'\n"
    "prints). If the broadcast fails, no rank runs PROG and every rank exits 1.\n\n"
    "PROG must not be an MPI program: a process cannot start MPI again after it\n"
    "has ended it. For MPI programs use two job steps:\n"
    "    srun shmstack bcast STACK\n"
    "    srun shmstack exec STACK -- python3 my_mpi_program.py"};

namespace {

struct Settings {
  BcastOptions options;
  bool print_env = false;
  std::string shell = "sh";
};

void add_bcast_options(po::options_description& options, Settings& s, unsigned& chunk_mib, int& fanout) {
  options.add_options()
      ("threads,j", po::value(&s.options.threads)->value_name("T"),
       "per node: decompression threads, and as many file writers; rank 0 also packs "
       "a DIR with T compression threads (default: all cores, at most 8)")
      ("print-env", po::bool_switch(&s.print_env),
       "rank 0 prints the stacks' activation instead of their paths, for eval in "
       "a batch script")
      ("shell", po::value(&s.shell)->value_name("SHELL"),
       "--print-env output for sh (also bash, zsh), csh (tcsh), fish, or json "
       "(default: sh)")
      ("tree", "send through a pipelined k-ary tree of point-to-point messages (the default "
               "up to 8 nodes)")
      ("fanout", po::value(&fanout)->value_name("K"), "children per rank in the tree (default: 2)")
      ("two-tree", "send through two binary trees, half the chunks down each, so that every rank "
                   "sends each chunk at most once (the default from 9 nodes on)")
      ("ibcast", "send with MPI_Ibcast instead of the tree")
      ("chunk-size", po::value(&chunk_mib)->value_name("MIB"), "broadcast chunk size in MiB (default: 2)")
      ("ring", po::value(&s.options.ring)->value_name("N"), "chunks in flight per rank (default: 4; with --two-tree 4 per "
                                                                 "level of the tree, 8 to 64)")
      ("level", po::value(&s.options.level)->value_name("L"), "LZ4 level when packing a DIR (default: 1)")
      ("exclude", po::value(&s.options.excludes)->composing()->value_name("GLOB"),
       "when packing a DIR, leave out entries matching GLOB (repeatable)")
      ("old-prefix", po::value(&s.options.old_prefixes)->composing()->value_name("PREFIX"),
       "when packing a DIR: it was built in PREFIX, relocate what names PREFIX too (repeatable; as pack)");
  add_root_option(options);
  add_memory_margin_option(options);
}

// Parses on every rank; only rank 0 prints help or a usage error. Returns the
// exit code when the command should end here.
std::optional<int> parse_settings(const CommandSpec& spec, const Args& args, Settings& s, int rank) {
  po::options_description options("Options");
  s.options.threads = default_threads(8);
  unsigned chunk_mib = 2;
  int fanout = 2;
  add_bcast_options(options, s, chunk_mib, fanout);
  po::options_description arguments;
  arguments.add_options()("stack", po::value(&s.options.stacks)->required()->value_name("STACK"), "stacks");
  po::positional_options_description positional;
  positional.add("stack", -1);
  po::variables_map vm;
  std::ostringstream discard;
  std::streambuf* saved = rank == 0 ? nullptr : std::cout.rdbuf(discard.rdbuf());
  try {
    bool go_on = parse(spec, args, options, arguments, positional, vm);
    if (saved) std::cout.rdbuf(saved);
    if (!go_on) return 0;
    if (s.options.threads == 0) throw UsageError(std::string(spec.name) + ": -j must be at least 1");
    if (chunk_mib == 0 || chunk_mib > 1024)
      throw UsageError(std::string(spec.name) + ": --chunk-size must be 1 to 1024 MiB");
    if (vm.count("ring") && (s.options.ring < 2 || s.options.ring > 64)) throw UsageError(std::string(spec.name) + ": --ring must be 2 to 64");
    if (fanout < 1 || fanout > 64) throw UsageError(std::string(spec.name) + ": --fanout must be 1 to 64");
    if (vm.count("ibcast") && (vm.count("tree") || vm.count("fanout")))
      throw UsageError(std::string(spec.name) + ": --ibcast sends no tree (no --tree or --fanout with it)");
    if (vm.count("two-tree") && (vm.count("ibcast") || vm.count("fanout") || vm.count("tree")))
      throw UsageError(std::string(spec.name) + ": --two-tree has its own shape (no --tree, --ibcast or --fanout with it)");
    s.options.fanout = vm.count("ibcast") ? 0 : fanout;
    if (vm.count("two-tree")) s.options.two_tree = true;
    if (vm.count("tree") || vm.count("fanout") || vm.count("ibcast")) s.options.two_tree = false;
    parse_shell(s.shell);
    s.options.memory_margin = memory_margin_from(vm, spec.name);
  } catch (const UsageError&) {
    if (saved) std::cout.rdbuf(saved);
    if (rank != 0) return static_cast<int>(ExitCode::usage);
    throw;
  }
  s.options.chunk_bytes = std::uint64_t{chunk_mib} << 20;
  s.options.pack_threads = s.options.threads;
  s.options.root = root_from(vm);
  return std::nullopt;
}

// This process's rank as the launcher tells it (MPICH's hydra, Open MPI,
// Slurm), before MPI is initialised; 0 when run alone.
int launcher_rank() {
  for (const char* name : {"PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "SLURM_PROCID"}) {
    if (const char* value = std::getenv(name)) return std::atoi(value);
  }
  return 0;
}

// Rank 0 says how it went; every rank returns the same status.
int report(const BcastOutcome& outcome, const Settings& s, bool print_paths) {
  if (mpi::Comm::world().rank() != 0) return outcome.ok ? 0 : 1;
  for (const std::string& line : outcome.summary) log::info("%s", line.c_str());
  for (const std::string& line : outcome.problems) log::error("%s", line.c_str());
  if (!outcome.ok) {
    if (outcome.problems.empty()) log::error("the broadcast failed on another rank (see its messages)");
    return static_cast<int>(ExitCode::failure);
  }
  // Rank 0's node has every stack now; its records hold the activation
  // (learned while installing, for archives made by other tools).
  UserRoot root(s.options.root, false);
  std::vector<ActiveStack> stacks;
  for (const StackPlan& stack : outcome.plan.stacks) {
    std::optional<InstalledStack> installed = root.installed(stack.manifest.dir_name());
    if (!installed) throw Error("stack " + quote(stack.manifest.name) + " is not installed on " + host_name(), "it was removed while the broadcast ended");
    stacks.push_back({installed->path, installed->manifest.activation});
  }
  if (s.print_env) {
    std::cout << render(activation_edits(stacks), parse_shell(s.shell), current_environment());
  } else if (print_paths) {
    for (const ActiveStack& stack : stacks) std::cout << stack.prefix << "\n";
  }
  std::cout.flush();
  return 0;
}

void label_lines(const mpi::Comm& world) {
  if (world.size() > 1) log::set_prefix("[" + host_name() + ":" + std::to_string(world.rank()) + "] ");
  // srun without a PMI plugin MPICH speaks starts every task as an MPI job of
  // its own: each would read the archive, and each would print.
  const char* tasks = std::getenv("SLURM_NTASKS");
  if (world.size() == 1 && tasks && std::atoi(tasks) > 1 && launcher_rank() == 0)
    log::warn("srun started %s tasks, but each one is an MPI job of its own rank: run 'srun --mpi=pmi2 ...' "
              "(or set MpiDefault=pmi2) so that they broadcast",
              tasks);
}

}  // namespace

int cmd_bcast(const Args& args) {
  Settings s;
  if (asks_for_eval(args, "--print-env")) guard_eval_output(Shell::sh);
  if (std::optional<int> code = parse_settings(kBcastSpec, args, s, launcher_rank())) return *code;
  if (s.print_env) guard_eval_output(parse_shell(s.shell));
  mpi::MpiSession session(nullptr, nullptr);
  mpi::Comm world = mpi::Comm::world();
  label_lines(world);
  return report(broadcast(s.options), s, true);
}

int cmd_run(const Args& args) {
  auto [ours, command] = split_command(args);
  Settings s;
  std::vector<std::string> keys;
  if (std::optional<int> code = parse_settings(kRunSpec, ours, s, launcher_rank())) return *code;
  if (command.empty()) {
    if (launcher_rank() != 0) return static_cast<int>(ExitCode::usage);
    throw UsageError("run: missing '-- PROG [ARGS...]'");
  }
  {
    mpi::MpiSession session(nullptr, nullptr);
    mpi::Comm world = mpi::Comm::world();
    label_lines(world);
    BcastOutcome outcome = broadcast(s.options);
    if (int code = report(outcome, s, false)) return code;
    for (const StackPlan& stack : outcome.plan.stacks) keys.push_back(stack.manifest.dir_name());
  }  // MPI ends here: PROG runs outside it
  exec_with_stacks(s.options.root, keys, command);
}

}  // namespace shmstack::cli
