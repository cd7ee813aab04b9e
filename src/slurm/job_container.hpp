// Slurm's job_container/tmpfs, as the Prolog must see it (DESIGN §8, "site
// configurations").
//
// With JobContainerType=job_container/tmpfs every job runs in a mount
// namespace of its own, with a fresh tmpfs on /dev/shm and a private /tmp.
// The Prolog runs in slurmd's namespace: what it writes to the node's
// /dev/shm is invisible to the job. The plugin keeps each job's namespace
// alive as a bind mount at BasePath/<jobid>/.ns (BasePath/<node>/<jobid>/.ns
// where Slurm is built for several slurmd per host, as Debian's is). Where
// that handle exists when the Prolog runs, the Prolog enters the namespace
// (setns, as root, before dropping privileges) and installs into the job's
// own /dev/shm; where it does not (Slurm 22.05 creates it after the Prolog,
// measured), the Prolog refuses, naming the modes that work.
//
// The parsing is pure; finding the files and entering the namespace are the
// two side effects, kept at the bottom.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace shmstack {

// The value of `key` (case-insensitive, as Slurm reads it) in slurm.conf-style
// text: "Key=Value" words, '#' comments. The last one wins; nullopt if absent.
std::optional<std::string> slurm_conf_value(const std::string& text, const std::string& key);

// Whether `node` is in a Slurm host list such as "node[1-3,7],gpu01" or "ALL".
bool hostlist_contains(const std::string& hostlist, const std::string& node);

// The BasePath job_container.conf gives `node`: a "NodeName=LIST BasePath=..."
// line that names it, else the global BasePath. nullopt when none applies.
std::optional<std::string> job_container_base_path(const std::string& text, const std::string& node);

// Where the plugin keeps job `job`'s namespace on `node`, in the order to try.
std::vector<std::string> job_namespace_handles(const std::string& base_path, const std::string& node,
                                               const std::string& job);

// Whether `path` is `dir` or lies below it, comparing the text ("/a/b" is
// under "/a", "/ab" is not).
bool path_is_under(const std::string& path, const std::string& dir);

// `path` resolved as the kernel would (symlinks, "//", ".", ".."; a part that
// does not exist yet is normalised as text), without a trailing '/'.
std::string resolved_for_comparison(const std::string& path);

// Whether `path` lies on a directory job_container/tmpfs replaces in the job's
// namespace (/dev/shm or /tmp): a stack root there is not the job's. Compares
// resolved paths, so "/dev//shm/x", "/dev/shm/../shm" or a symlink to /tmp
// count as well.
bool hidden_by_job_container(const std::string& path);

// What the Prolog must do for a job on this node.
struct JobContainer {
  bool active = false;      // JobContainerType=job_container/tmpfs
  std::string base_path;    // from job_container.conf
  std::string handle;       // the job's .ns when it exists, else empty
};

// Reads `slurm_conf` (and job_container.conf beside it) for job `job` on
// `node`. Not active when slurm.conf names another plugin or none; throws
// Error when it names job_container/tmpfs and job_container.conf cannot be
// read or gives this node no BasePath.
JobContainer find_job_container(const std::string& slurm_conf, const std::string& node, const std::string& job);

// For the Prolog of `job` on `node`, installing into `root`: when
// job_container/tmpfs hides `root` from the job, enters the job's namespace
// and returns a line saying so, or throws Error naming the modes that work
// when the namespace does not exist yet. nullopt when there is nothing to do
// (no such plugin, or `root` is outside what it replaces).
std::optional<std::string> enter_job_container_for_prolog(const std::string& slurm_conf, const std::string& node,
                                                          const std::string& job, const std::string& root);

// Moves this (single-threaded, root) process into the mount namespace held at
// `handle`. Throws Error naming the handle.
void enter_mount_namespace(const std::string& handle);

}  // namespace shmstack
