// A sorted, lstat-only walk of the tree to pack.
//
// Produces every entry under the root (not the root itself) in a fixed
// order: depth first, names of a directory sorted bytewise, a directory
// before its contents. Nothing is read but metadata; symlinks are recorded,
// never followed; a file seen again by (device, inode) becomes a hard link
// to its first path. Sockets, FIFOs and devices are skipped with a warning
// (they cannot be installed); an unreadable directory is an error (a stack
// with a silent hole would be worse than none). Two descriptors are open
// whatever the depth (base/dir_walk.hpp), two per thread in the parallel walk.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace shmstack {

struct WalkEntry {
  enum class Type { file, directory, symlink, hardlink };
  std::string path;  // relative to the root, "a/b/c"
  Type type = Type::file;
  mode_t mode = 0;   // permission bits only
  std::uint64_t size = 0;
  std::int64_t mtime_sec = 0;
  std::int64_t mtime_nsec = 0;
  std::string link;  // symlink target, or the first path of a hard link
};

// Exclusion, as in .gitignore: a pattern with a '/' is matched (fnmatch)
// against the whole relative path, one without against each entry's own name;
// a trailing '/' matches directories only ("tests/"), a leading one anchors
// at the top ("/build"); an excluded directory is not descended into.
bool is_excluded(const std::string& relative_path, bool is_directory, const std::vector<std::string>& patterns);

struct WalkLimits {
  // Entries deeper than this many levels are not listed (1: the top only).
  std::size_t max_depth = static_cast<std::size_t>(-1);
  // A directory that cannot be opened for lack of permission is listed but
  // not entered, instead of failing the walk.
  bool skip_unreadable = false;
};

// With `threads` > 1 the directories are listed by that many threads (on a
// parallel file system each stat is a round trip to a server); the result is
// the same, entry for entry, errors included.
std::vector<WalkEntry> walk_tree(const std::string& root, const std::vector<std::string>& excludes,
                                 const WalkLimits& limits = {}, unsigned threads = 1);

}  // namespace shmstack
