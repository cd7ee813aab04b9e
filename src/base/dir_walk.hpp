// Depth-first traversal of a directory tree with two descriptors open,
// whatever its depth.
//
// A recursive walk that keeps each level's directory open needs one
// descriptor per level: a path of 2,000 one-letter levels (under PATH_MAX,
// so archives may hold it) runs out of the usual limit of 1,024. This walk
// holds the directory it is in (plus, for a moment, the next one). It goes
// down with openat(O_NOFOLLOW | O_DIRECTORY) and back up through "..",
// checking that ".." is the directory it came from (device and inode), as
// fts does: a tree moved during the walk is an error, never a walk somewhere
// else. Where ".." cannot be looked up (a directory without search
// permission), it reopens the parent from the top, one checked level at a
// time. Each level keeps only the names it has still to visit.
//
// Names come sorted bytewise. The walk stats nothing itself: the visitor
// does, with the descriptor of the directory that holds the name.
#pragma once

#include <string>
#include <vector>

namespace shmstack {

class DirVisitor {
 public:
  virtual ~DirVisitor() = default;
  // `name`, at `relative` below the top, in the directory open as `dirfd`.
  // Returns true to descend into it (then it must be a directory).
  virtual bool visit(int dirfd, const std::string& name, const std::string& relative) = 0;
  // A directory visit() chose could not be opened (`error` is the errno).
  // Returns true to skip it; by default the walk fails.
  virtual bool cannot_open(const std::string& /*relative*/, int /*error*/) { return false; }
  // Every name in directory `name` (at `relative`) was visited; `dirfd` is
  // the directory that holds `name`.
  virtual void leave(int /*dirfd*/, const std::string& /*name*/, const std::string& /*relative*/) {}
};

// Visits everything below the directory open as `top` (borrowed, not
// closed). Errors (Error) name `shown` + "/" + the relative path.
void walk_directory(int top, const std::string& shown, DirVisitor& visitor);

// The names in the directory open as `fd` (borrowed), "." and ".." left out,
// sorted bytewise. Errors name `shown`.
std::vector<std::string> read_directory_names(int fd, const std::string& shown);

// Opens the directory at `relative` ("a/b/c"; "" is `top` itself) below the
// directory open as `top`, following no symlink on the way and never leaving
// `top`: one openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) where the kernel
// has it (Linux 5.6), else, or with `step_by_step`, one O_PATH | O_NOFOLLOW
// step per component (no path length limit). Returns the descriptor, or -1
// with errno set (ELOOP or ENOTDIR: a symlink or a file on the way; EXDEV:
// an empty, "." or ".." component).
int open_directory_beneath(int top, const std::string& relative, bool step_by_step = false);

}  // namespace shmstack
