// Leaks pack can see without running anything: places outside the stack that
// the stack will reach for at run time, on the shared file system.
//
//  - a .pth file line, or a pyvenv.cfg value (home, executable, base-prefix,
//    ...; not the informational "command"), that is an absolute path;
//  - an ELF RPATH or RUNPATH entry that is absolute and outside the stack, or
//    inside it where relocation cannot make it $ORIGIN-relative in place
//    (relocation.hpp); $ORIGIN-relative entries are fine;
//  - a symlink whose target (absolute, or relative and climbing out) lies
//    outside the stack.
// A path inside the source directory is fine where relocation rewrites it
// (text files, symlinks), and a path in a system directory
// (base/path_class.hpp) is always fine: those exist on every node. The
// checks are pure functions of the text or the target; find_leaks() reads
// the files of a walk that may carry them (.pth, pyvenv.cfg, and executable
// or *.so* files for ELF); an ELF file it cannot read is noted with --verbose.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "archive/walk.hpp"

namespace shmstack {

struct Leak {
  std::string path;    // in the stack, relative to its root
  std::string reason;  // one line: "RUNPATH entry '/x' is outside the stack"
};

// Absolute paths in a .pth file / a pyvenv.cfg outside `prefixes` (the
// source directory's spellings) and outside system directories.
std::vector<std::string> pth_leaks(std::string_view text, const std::vector<std::string>& prefixes);
std::vector<std::string> pyvenv_cfg_leaks(std::string_view text, const std::vector<std::string>& prefixes);
// Why a RPATH/RUNPATH entry leaks, or "" when it does not. `unrelocatable`:
// why the file's search paths cannot be relocated, "" when they can.
std::string search_path_leak(const std::string& entry, const std::vector<std::string>& prefixes,
                             const std::string& unrelocatable = "");
// Why a symlink at `path` (relative to the stack root `root`) leaks, or "".
std::string symlink_leak(const std::string& path, const std::string& target, const std::string& root,
                         const std::vector<std::string>& prefixes);

// All of the above over a walk of `root`; `prefixes` are `root`'s spellings.
std::vector<Leak> find_leaks(const std::string& root, const std::vector<WalkEntry>& entries,
                             const std::vector<std::string>& prefixes);

// One warning per leak (the first 100, then how many more), and the summary
// line "N possible leaks to outside the stack (listed above)" for the caller.
std::string warn_leaks(const std::vector<Leak>& leaks);

}  // namespace shmstack
