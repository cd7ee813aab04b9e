// shmstack slurm task-prolog | prolog | epilog: the Slurm integration (DESIGN §8).
//
//   TaskProlog (job user, every task): install SHMSTACK_STACKS on the node
//     once (lock; other tasks reuse), add the stacks the Prolog installed for
//     the job, print "export NAME=VALUE" lines for Slurm to apply. A failure
//     prints "print ..." lines (they reach the task's output) and exits 1,
//     which stops the task.
//   Prolog (root, PrologFlags=Alloc): the stacks named in the job comment
//     (shmstack=PATH[:PATH...]) or --stacks; under job_container/tmpfs enter
//     the job's mount namespace, or refuse where it does not exist yet;
//     become the job's user before touching any file; install; record the
//     outcome for the TaskProlog.
//   Epilog (root): become the job's user; remove the stacks the job claimed
//     or installed that no other job on the node claims.
//
// A job that asks for nothing costs one stat() and touches nothing. Job-level
// failures (a missing or corrupt archive) never fail the Prolog, which would
// drain the node: they are recorded and reported to the job by the
// TaskProlog. Nor does anything else a user can cause: once the hook is the
// user, every file it touches is the user's, so every failure from there on
// is logged and the hook exits 0. Only what the node cannot do (a missing
// stack root, becoming the user) fails the Prolog or Epilog. Before dropping
// privileges, both set aside another user's entry squatting the user's root
// (slurm/squatted_root.hpp). No hook waits without end for a lock the user's
// processes hold (another install or removal of the same stack): past
// --lock-wait it logs whose lock it was and goes on (a hung Prolog or Epilog
// holds the node, and slurmd drains a node whose hook times out).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iostream>

#include "archive/activation.hpp"
#include "archive/manifest.hpp"
#include "base/error.hpp"
#include "base/log.hpp"
#include "base/progress.hpp"
#include "cli/cli_support.hpp"
#include "cli/commands.hpp"
#include "install/gc.hpp"
#include "install/install.hpp"
#include "slurm/job_container.hpp"
#include "slurm/privileges.hpp"
#include "slurm/slurm_job.hpp"
#include "slurm/squatted_root.hpp"

namespace shmstack::cli {

const CommandSpec kSlurmSpec = {
    "slurm", "slurm task-prolog|prolog|epilog [options]",
    "Install stacks from Slurm's TaskProlog, Prolog and Epilog.",
    "Commands, run by slurmd (set up in slurm.conf: see shmstack(1), FILES, the examples in\n"
    "PREFIX/share/shmstack/ and doc/slurm.md in the source):\n"
    "  task-prolog  TaskProlog=: installs $SHMSTACK_STACKS (colon-separated archive\n"
    "               paths) once per node and prints 'export' lines for the task\n"
    "  prolog       Prolog= (as root, PrologFlags=Alloc): installs the archives in\n"
    "               the job comment, 'shmstack=PATH[:PATH...]', as the job's user\n"
    "  epilog       Epilog= (as root): removes what the job installed\n"
    "Run 'shmstack slurm COMMAND --help' for each one's options."};

const CommandSpec kTaskPrologSpec = {
    "slurm task-prolog", "slurm task-prolog [options]",
    "Install the task's stacks on this node and print their activation for Slurm.",
    "Reads SHMSTACK_STACKS (colon-separated archive paths) and SLURM_JOB_ID from the\n"
    "task's environment. The first task on a node installs each stack (reading the\n"
    "archive directly); the others wait for it and reuse it. Also activates the\n"
    "stacks the Prolog installed for the job. Prints 'export NAME=VALUE' lines,\n"
    "which Slurm applies to the task. On failure prints the error as 'print' lines\n"
    "(Slurm writes them to the task's output) and exits 1, so the task does not run.\n"
    "Nothing asked: prints nothing, touches nothing."};

const CommandSpec kPrologSpec = {
    "slurm prolog", "slurm prolog [options]", "Install a job's stacks on this node, as the job's user.",
    "Run by slurmd as root (Prolog=, with PrologFlags=Alloc so it runs when the job\n"
    "starts). The stacks are the words 'shmstack=PATH[:PATH...]' in the job comment\n"
    "(sbatch --comment), or --stacks. Becomes SLURM_JOB_UID/SLURM_JOB_GID with the\n"
    "user's groups before touching any file, installs each archive, and records the\n"
    "outcome; the TaskProlog ('shmstack slurm task-prolog') activates the stacks in\n"
    "every task or, if an install failed, stops the tasks with the error. Exits 0\n"
    "unless the node itself cannot serve the job (which makes Slurm drain it):\n"
    "whatever a user can cause (a bad archive, an unusable user directory) is\n"
    "logged. Another user's entry under ROOT/shmstack-<uid> is set aside (renamed\n"
    "to shmstack-<uid>.squatted-by-<owner>-<time>) so the job still gets its stack.\n"
    "Under job_container/tmpfs (JobContainerType in $SLURM_CONF; BasePath from the\n"
    "job_container.conf beside it) the job has its own /dev/shm: the Prolog enters\n"
    "the job's mount namespace (BasePath/[NODE/]JOBID/.ns) where it exists, and\n"
    "otherwise installs nothing and logs why: use the TaskProlog or the pre-step there.\n"
    "Runs no code from an archive (a conda-pack archive's bin/conda-unpack) unless\n"
    "given --run-conda-unpack: such archives fail the job, naming the TaskProlog and\n"
    "the pre-step, which run it (time-limited: SHMSTACK_CONDA_UNPACK_TIMEOUT seconds,\n"
    "600 by default; nothing it starts survives it)."};

const CommandSpec kEpilogSpec = {
    "slurm epilog", "slurm epilog [options]", "Remove what a job installed on this node.",
    "Run by slurmd as root (Epilog=). Becomes the job's user, then removes the stacks\n"
    "the job installed or claimed (Prolog, TaskProlog, or bcast/unpack during the job)\n"
    "unless another job of the user on this node claims them, and what interrupted\n"
    "installs left. With --purge-user, also every other stack of the user that no\n"
    "other job claims: for the wrapper to pass when the user has no other job here.\n"
    "Sets another user's entry under ROOT/shmstack-<uid> aside, as the Prolog does.\n"
    "Exits 0 unless the node cannot serve the job; what a user can cause is logged."};

namespace {

// Installs `archive` (or finds it installed) and claims it for `job`; again
// if an Epilog removed it in between.
InstalledStack install_for_job(const UserRoot& root, const std::string& archive, const InstallOptions& options,
                               const std::string& job) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    InstallResult r = install_file(archive, options);
    JobRecords records(root);
    if (!records.claim(job, r.stack.dir_name)) continue;
    if (r.already_present) {
      log::info("reusing %s for %s", r.stack.path.c_str(), archive.c_str());
    } else {
      log::info("installed %s from %s: %llu entries, %s", r.stack.path.c_str(), archive.c_str(),
                static_cast<unsigned long long>(r.entries), human_bytes(r.bytes).c_str());
    }
    return r.stack;
  }
  throw Error("cannot install " + quote(archive), "another job's Epilog kept removing it");
}

// --lock-wait SECONDS: the longest a hook waits, over all its stacks, for
// locks that other processes of the user hold.
void add_lock_wait_option(po::options_description& options, unsigned default_seconds) {
  options.add_options()("lock-wait", po::value<unsigned>()->default_value(default_seconds)->value_name("SECONDS"),
                        "wait at most this long, over all stacks, while another process installs or removes "
                        "one (0 to 86400)");
}

std::chrono::milliseconds lock_wait_from(const po::variables_map& vm, const char* command) {
  unsigned seconds = vm["lock-wait"].as<unsigned>();
  if (seconds > 86400) throw UsageError(std::string(command) + ": --lock-wait wants 0 to 86400 seconds");
  return std::chrono::seconds{seconds};
}

std::chrono::milliseconds left_until(std::chrono::steady_clock::time_point until) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
  return std::max(left, std::chrono::milliseconds{0});
}

void identify(const SlurmJob& job, const char* role) {
  log::set_prefix("[" + host_name() + " job " + job.id + " " + role + "] ");
  log::set_verbose(true);
}

// As root: another user's entry under the name of the job user's root is set
// aside (squatted_root.hpp); failing that, the job's steps will say whose it is.
void set_aside_squatter(const std::string& root, uid_t uid) {
  if (::geteuid() != 0) return;  // not run by slurmd: only the user's own root is used
  try {
    if (std::optional<std::string> note = set_aside_squatted_root(root, uid)) log::warn("%s", note->c_str());
  } catch (const Error& e) {
    log::error("%s", e.what());
  }
}

// The Epilog's work, as the job's user.
void clean_up_after(const std::string& root_path, const std::string& job, bool purge_user,
                    std::chrono::milliseconds lock_wait) {
  auto until = std::chrono::steady_clock::now() + lock_wait;
  UserRoot root(root_path, false);
  if (!root.exists()) return;
  JobRecords records(root);
  std::vector<std::string> doomed = records.release(job);
  if (purge_user) {
    std::vector<std::string> keep = records.claimed_by_others(job);
    for (const InstalledStack& s : root.list())
      if (std::find(keep.begin(), keep.end(), s.dir_name) == keep.end()) doomed.push_back(s.dir_name);
  }
  for (const std::string& dir : doomed) {
    std::optional<InstalledStack> s = root.installed(dir);
    if (!s) continue;
    StackLock lock(root, s->manifest.id12(), left_until(until));
    if (!lock.held()) {
      log::warn("kept %s: %s (gc or a later Epilog removes it)", s->path.c_str(),
                lock_timeout_reason(lock).c_str());
      continue;
    }
    RemovalGuard guard(root, s->manifest.id12());
    if (guard.in_use()) {
      log::warn("kept %s: in use by %s (another job's 'shmstack exec')", s->path.c_str(), guard.holders().c_str());
      continue;
    }
    if (remove_stack(root, dir)) log::info("removed %s", s->path.c_str());
  }
  for (const GcItem& item : collect_garbage(root, std::nullopt, false))
    log::info("removed %s (%s)", item.path.c_str(), item.why.c_str());
}

// The lines the TaskProlog prints (see task_prolog).
std::string task_prolog_lines(const std::string& root_path, const InstallOptions& options) {
  std::vector<std::string> environ = current_environment();
  SlurmJob job = job_from_environment(environ, false);
  std::vector<std::string> asked = split_stack_list(env_value(environ, "SHMSTACK_STACKS").value_or(""));
  std::string prolog_record = user_root_path(root_path) + "/.jobs/" + job.id + "/.prolog.json";
  bool from_prolog = ::access(prolog_record.c_str(), F_OK) == 0;
  if (asked.empty() && !from_prolog) return "";
  identify(job, "task-prolog");

  UserRoot root(root_path, !asked.empty());
  std::vector<ActiveStack> active;
  for (const std::string& archive : asked) {
    InstalledStack s = install_for_job(root, archive, options, job.id);
    active.push_back({s.path, s.manifest.activation});
  }
  if (from_prolog) {
    std::optional<PrologResult> result = read_prolog_result(root, job.id);
    if (result && !result->error.empty()) throw Error("the Slurm prolog failed on " + host_name(), result->error);
    for (const std::string& dir : result ? result->stacks : std::vector<std::string>{}) {
      std::optional<InstalledStack> s = root.installed(dir);
      if (!s) throw Error("stack " + quote(dir) + " is gone from " + host_name(), "the Slurm prolog installed it for this job");
      active.push_back({s->path, s->manifest.activation});
    }
  }
  return task_prolog_exports(environ, apply_edits(environ, activation_edits(active)));
}

int task_prolog(const Args& args) {
  po::options_description options("Options");
  InstallOptions install;
  install.threads = default_threads(8);
  install.via = "slurm task-prolog";
  options.add_options()("threads,j", po::value(&install.threads)->value_name("T"),
                        "decompression threads, and as many file writers (default: all cores, at most 8)");
  add_root_option(options);
  add_memory_margin_option(options);
  add_lock_wait_option(options, 1800);
  po::variables_map vm;
  if (!parse(kTaskPrologSpec, args, options, {}, {}, vm)) return 0;
  if (install.threads == 0) throw UsageError("slurm task-prolog: -j must be at least 1");
  install.lock_wait = lock_wait_from(vm, "slurm task-prolog");
  install.root = root_from(vm);
  install.memory_margin = memory_margin_from(vm, "slurm task-prolog");
  try {
    std::cout << task_prolog_lines(install.root, install) << std::flush;
    return 0;
  } catch (const Error& e) {
    std::cout << task_prolog_print(std::string("shmstack: error: ") + e.what()) << std::flush;
    throw;
  }
}

int prolog(const Args& args) {
  po::options_description options("Options");
  InstallOptions install;
  install.threads = default_threads(8);
  install.via = "slurm prolog";
  std::string list;
  options.add_options()
      ("stacks", po::value(&list)->value_name("LIST"),
       "colon-separated archive paths, instead of the job comment's shmstack=...")
      ("threads,j", po::value(&install.threads)->value_name("T"),
       "decompression threads, and as many file writers (default: all cores, at most 8)")
      ("run-conda-unpack", "the site allows code from archives in the Prolog: run a conda-pack archive's "
       "bin/conda-unpack (as the user, time-limited); without it such archives are refused");
  add_root_option(options);
  add_memory_margin_option(options);
  add_lock_wait_option(options, 300);
  po::variables_map vm;
  if (!parse(kPrologSpec, args, options, {}, {}, vm)) return 0;
  std::chrono::milliseconds lock_wait = lock_wait_from(vm, "slurm prolog");
  // Code from an archive runs in the root-started Prolog only where the site
  // opted in, with a clean environment (spawn.hpp adds the time limit and the
  // cleanup of what it starts).
  install.conda_unpack = vm.count("run-conda-unpack") > 0;
  install.conda_unpack_refusal =
      "the Slurm Prolog runs no code from an archive unless the site allows it (SHMSTACK_PROLOG_CONDA_UNPACK=1 in "
      "the hooks' settings): install it from the TaskProlog (SHMSTACK_STACKS) or a pre-step (srun shmstack bcast) "
      "instead";
  install.conda_unpack_environment = {"PATH=/usr/local/bin:/usr/bin:/bin"};
  if (install.threads == 0) throw UsageError("slurm prolog: -j must be at least 1");
  install.root = root_from(vm);
  install.memory_margin = memory_margin_from(vm, "slurm prolog");

  std::vector<std::string> environ = current_environment();
  SlurmJob job = job_from_environment(environ, true);
  std::vector<std::string> stacks =
      vm.count("stacks") ? split_stack_list(list)
                         : stacks_from_comment(env_value(environ, "SLURM_JOB_COMMENT").value_or(""));
  if (stacks.empty()) return 0;
  identify(job, "prolog");
  // Only what the node cannot do fails the Prolog (Slurm would drain the
  // node): a stack root missing, the user unknown here. Everything after the
  // privilege drop is the user's own doing, or their job's: logged, exit 0.
  check_stack_root(install.root);
  // job_container/tmpfs: the job's /dev/shm is in its own mount namespace,
  // entered as root; refused (logged, the node stays up) where it is not there yet.
  try {
    std::string node = env_value(environ, "SLURMD_NODENAME").value_or(host_name());
    std::string conf = env_value(environ, "SLURM_CONF").value_or("/etc/slurm/slurm.conf");
    if (std::optional<std::string> note = enter_job_container_for_prolog(conf, node, job.id, install.root))
      log::info("%s", note->c_str());
  } catch (const Error& e) {
    log::error("%s", e.what());
    return 0;
  }
  set_aside_squatter(install.root, job.uid);
  become_user(job.uid, job.gid);

  try {
    UserRoot root(install.root, true);
    PrologResult result;
    try {
      auto until = std::chrono::steady_clock::now() + lock_wait;
      for (const std::string& archive : stacks) {
        install.lock_wait = left_until(until);
        result.stacks.push_back(install_for_job(root, archive, install, job.id).dir_name);
      }
    } catch (const Error& e) {
      result.error = e.what();
      log::error("%s", result.error.c_str());
    }
    JobRecords(root).write_prolog_result(job.id, result);
  } catch (const Error& e) {
    log::error("%s (the job gets no stack from the Prolog; the node stays up)", e.what());
  }
  return 0;
}

int epilog(const Args& args) {
  po::options_description options("Options");
  options.add_options()("purge-user", "also remove the user's other stacks that no other job claims");
  add_root_option(options);
  add_lock_wait_option(options, 30);
  po::variables_map vm;
  if (!parse(kEpilogSpec, args, options, {}, {}, vm)) return 0;
  std::chrono::milliseconds lock_wait = lock_wait_from(vm, "slurm epilog");

  SlurmJob job = job_from_environment(current_environment(), true);
  identify(job, "epilog");
  std::string root_path = root_from(vm);
  check_stack_root(root_path);
  set_aside_squatter(root_path, job.uid);
  become_user(job.uid, job.gid);
  // From here on every file is the user's: nothing fails the Epilog (see prolog).
  try {
    clean_up_after(root_path, job.id, vm.count("purge-user") > 0, lock_wait);
  } catch (const Error& e) {
    log::error("%s (the node stays up)", e.what());
  }
  return 0;
}

}  // namespace

int cmd_slurm(const Args& args) {
  if (args.empty()) throw UsageError("slurm: missing command (task-prolog, prolog or epilog)");
  const std::string& which = args[0];
  Args rest(args.begin() + 1, args.end());
  if (which == "task-prolog") return task_prolog(rest);
  if (which == "prolog") return prolog(rest);
  if (which == "epilog") return epilog(rest);
  if (which == "--help" || which == "-h") {
    std::cout << "Usage: shmstack " << kSlurmSpec.usage << "\n\n"
              << kSlurmSpec.summary << "\n\n"
              << kSlurmSpec.details << "\n";
    return 0;
  }
  throw UsageError("slurm: unknown command " + quote(which) + " (task-prolog, prolog or epilog)" +
                   did_you_mean(which, {"task-prolog", "prolog", "epilog"}));
}

}  // namespace shmstack::cli
