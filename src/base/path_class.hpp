// Where an absolute path lies, by spelling alone (pure functions, no lookups).
//
// Shared by pack's static leak checks and audit's classification, so that
// both agree on what "a system directory" is: the node's own installation
// (/usr, /lib*, /bin, /sbin, /etc, and /var/cache, which the FHS defines as
// data generated locally by the machine's own programs, e.g. fontconfig's
// cache; not /opt, often a site mount) and the kernel's virtual file systems
// (/proc, /sys, /dev except /dev/shm, /run). These exist on every node and
// are not the shared file system. /tmp, the rest of /var, /home, /opt,
// /dev/shm and everything else are not system directories: a job that
// touches them is shown, not hidden. Paths are compared as text
// after lexical normalisation; symlinks are not resolved (on a merged-/usr
// system /lib and /usr/lib are both system anyway).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace shmstack {

// `path` with "//", "." and ".." removed as text. An absolute path stays
// absolute ("/.." is "/"); a relative one keeps leading ".." components.
std::string normalize_path(std::string_view path);

// `path` is `prefix` or lies below it (component-wise: "/a/bc" is not under
// "/a/b"). Both are compared as given; normalise them first.
bool is_under(std::string_view path, std::string_view prefix);

// True for "/" and paths in the system directories listed above.
bool is_system_path(std::string_view path);

// The system directories, for documentation and --help.
const std::vector<std::string>& system_directories();

}  // namespace shmstack
