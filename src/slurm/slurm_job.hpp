// What shmstack keeps about a Slurm job on a node (DESIGN §8), and the pure
// pieces of the Slurm integration.
//
//   ROOT/shmstack-<uid>/.jobs/<jobid>/
//     <name>-<id12>      empty: the job uses this stack (a claim)
//     .prolog.json       what the Prolog did: the stacks in order, or its error
//
// The Prolog and TaskProlog claim every stack they install or reuse; the
// Epilog removes the stacks its job claimed or installed that no other job
// on the node claims. Claims and releases happen under .locks/jobs.lock, so
// an Epilog never removes a stack that a starting job has just claimed.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "install/node_root.hpp"

namespace shmstack {

// A job id, uid or node number as Slurm writes it: 1 to 18 decimal digits
// (so that it always fits the integer it is read into).
bool is_slurm_number(const std::string& s);

// The job as slurmd describes it to a Prolog, Epilog or TaskProlog.
struct SlurmJob {
  std::string id;  // digits only
  uid_t uid = 0;
  gid_t gid = 0;
};

// SLURM_JOB_ID, and with `need_ids` SLURM_JOB_UID and SLURM_JOB_GID, from
// `environ`. Throws Error naming a variable that is missing or malformed.
SlurmJob job_from_environment(const std::vector<std::string>& environ, bool need_ids);

// The archives a job comment asks for: the words "shmstack=PATH[:PATH...]"
// among whitespace- or ';'-separated words, in order. Other words are the
// job's own business and ignored.
std::vector<std::string> stacks_from_comment(const std::string& comment);

// "A:B::C" -> {A, B, C}
std::vector<std::string> split_stack_list(const std::string& list);

// What a TaskProlog prints for Slurm to apply to the task: "export NAME=VALUE"
// for every variable `after` adds or changes over `before`, "unset NAME" for
// every one it drops. Slurm takes the value literally, to the end of the line:
// a value holding a newline cannot be passed and throws Error.
std::string task_prolog_exports(const std::vector<std::string>& before, const std::vector<std::string>& after);

// `text` as TaskProlog "print" lines, which Slurm writes to the task's output.
std::string task_prolog_print(const std::string& text);

struct PrologResult {
  std::vector<std::string> stacks;  // installed stack directories, in the order asked
  std::string error;                // empty on success
};
std::string to_json(const PrologResult& result);
PrologResult parse_prolog_result(const std::string& text, const std::string& where);

// What the Prolog recorded for `job`, if it ran. Needs no lock: the record
// only ever appears whole (written beside, then renamed).
std::optional<PrologResult> read_prolog_result(const UserRoot& root, const std::string& job);

// The job records of one user on one node, locked for the object's lifetime.
class JobRecords {
 public:
  explicit JobRecords(const UserRoot& root);
  // Records that `job` uses the stack `dir_name`. False when that stack is no
  // longer installed (removed since it was installed or found).
  bool claim(const std::string& job, const std::string& dir_name);
  void write_prolog_result(const std::string& job, const PrologResult& result);
  // Forgets `job`; returns the stacks to remove now: those it claimed or
  // installed (install record) that no other job claims.
  std::vector<std::string> release(const std::string& job);
  // Every stack some job other than `job` claims.
  std::vector<std::string> claimed_by_others(const std::string& job) const;

 private:
  std::string make_job_dir(const std::string& job) const;  // .jobs/<job>, created
  const UserRoot& root_;
  StackLock lock_;
};

}  // namespace shmstack
