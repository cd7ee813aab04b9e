// A per-user root that someone else got to first, as the root-run Slurm hooks
// deal with it (DESIGN §5 and §8; doc/slurm.md "What a user can and cannot do
// to a node").
//
// /dev/shm is world-writable, so any user can create ROOT/shmstack-<uid> for
// another uid before that user does: a directory, a symlink or a file of
// theirs. shmstack never uses such an entry (UserRoot refuses it, naming the
// owner). Run as root, the Prolog and Epilog set it aside so that the job's
// user can still get a stack root: the entry is renamed, never opened,
// followed or deleted, to ROOT/shmstack-<uid>.squatted-by-<owner>-<time>[-N]
// (renameat2 RENAME_NOREPLACE, so nothing existing is replaced). Renaming is
// one system call whatever the entry holds (deleting a tree someone else built
// as root could take as long as they like, and would destroy the evidence);
// what was in it stays, still theirs, for an administrator to look at.
//
// Only an entry the user does not own is touched: what the user made
// themselves (their own symlink, a file, a mode-000 directory) is theirs to
// fix, and the job's steps say so. Were the name replaced between the check
// and the rename by the user's own directory, the rename is undone.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace shmstack {

// As root: sets ROOT/shmstack-<uid> aside when an entry owned by another uid
// holds the name. Returns a line saying what was done, or nullopt when there
// was nothing to do. Throws Error when it cannot be set aside.
std::optional<std::string> set_aside_squatted_root(const std::string& root, uid_t uid);

}  // namespace shmstack
