// Opening a file that must be a regular one, without ever waiting.
//
// open(2) of a FIFO waits for a writer, forever if none comes, and a device
// file can do anything. Every file shmstack reads for its content was looked
// at first (pack's walk, an archive named on the command line, a marker under
// a node root) and may have been replaced since, by a user on the same node or
// by a tree changing under pack. open_regular() opens with O_NONBLOCK (a FIFO
// opens at once instead of waiting), checks the kind with fstat, and clears
// O_NONBLOCK again: a path that is no longer a regular file is an error, not a
// hang.
#pragma once

#include <sys/stat.h>

#include <string>

namespace shmstack {

// Opens `path` (relative to `dirfd`; AT_FDCWD: the working directory) for
// reading, with `flags` added (O_NOFOLLOW, ...). Returns the descriptor, or -1
// with `problem` saying why: strerror's text when it cannot be opened ("No
// such file or directory"), "not a regular file (a FIFO)" when it is of
// another kind. `st`, when given, receives the file's status once it is open
// (so st_mode stays as the caller set it when the open itself failed).
int open_regular(int dirfd, const std::string& path, int flags, std::string& problem, struct stat* st = nullptr);

// The same, throwing Error("cannot open " + quoted path, problem).
int open_regular_or_throw(const std::string& path, int flags, struct stat* st = nullptr);

// The kind of file `mode` names, for messages: "a directory", "a FIFO", ...
const char* file_kind(mode_t mode);

}  // namespace shmstack
