// Becoming the job's user, for the Slurm Prolog and Epilog (which slurmd runs
// as root). Done first, before any file is touched: every path the job names
// is then opened with exactly the rights its owner has.
#pragma once

#include <sys/types.h>

namespace shmstack {

// As root: takes `uid`'s supplementary groups (initgroups), then `gid` and
// `uid` as real, effective and saved IDs, for good, and checks that root
// cannot be regained. As anyone else: succeeds only when already `uid`.
// Throws Error when any step fails.
void become_user(uid_t uid, gid_t gid);

}  // namespace shmstack
