// Leaks pack can see without running anything: places outside the stack that
// the stack will reach for at run time, on the shared file system.
//
//  - a .pth file line, or a pyvenv.cfg value (home, executable, base-prefix,
//    ...; not the informational "command"), that is an absolute path;
//  - an ELF RPATH or RUNPATH entry that is absolute and outside the stack, or
//    inside it where relocation cannot make it $ORIGIN-relative in place
//    (relocation.hpp); $ORIGIN-relative entries are fine;
//  - a symlink whose target (absolute, or relative and climbing out) lies
//    outside the stack;
//  - a script's shebang (its interpreter, an absolute argument such as
//    Spack's sbang and the interpreter sbang runs, or the interpreter of
//    pip's '''exec' form for long paths) that names a path outside the stack.
// A path inside the source directory is fine where relocation rewrites it
// (text files, symlinks), and a path in a system directory
// (base/path_class.hpp) is always fine: those exist on every node. The
// checks are pure functions of the text or the target; find_leaks() reads
// the files of a walk that may carry them (.pth, pyvenv.cfg, and executable
// or *.so* files for ELF or a shebang); an ELF file it cannot read is noted
// with --verbose.
//
// What pack says about them is grouped (group_leaks): one line per place
// named, with how many files name it and what to do. Where a leaked path is
// the tree's own layout under another prefix (RUNPATH '/old/prefix/lib' in a
// tree with lib/), the tree was built there: --old-prefix relocates all of
// them. A venv whose pyvenv.cfg home is outside the tree gets one line: its
// interpreter and standard library stay outside the stack.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "archive/walk.hpp"

namespace shmstack {

struct Leak {
  std::string path;    // in the stack, relative to its root
  std::string reason;  // one line: "RUNPATH entry '/x' is outside the stack"
  std::string kind;    // what names it, plural: "RUNPATH entries", ".pth lines", "symlinks", ...
  std::string names;   // the absolute place it names, normalised (a venv: its interpreter's prefix)
  bool unrelocatable = false;  // names where the stack was packed from; relocation cannot rewrite it
  bool venv = false;           // a value of the stack's own pyvenv.cfg
};

// Leaks that name one place, and what to do about them.
struct LeakGroup {
  enum class Remedy {
    old_prefix,     // the tree's own layout under `prefix`: pack with --old-prefix
    outside,        // elsewhere: it must exist on every node
    unrelocatable,  // the packed prefix, in ELF files relocation cannot rewrite in place
    venv,           // a venv's interpreter and standard library
  };
  std::string prefix;
  Remedy remedy = Remedy::outside;
  std::vector<std::string> kinds;  // in the order first seen
  std::size_t files = 0;           // distinct files
  std::size_t leaks = 0;
};

// Absolute paths in a .pth file / a pyvenv.cfg outside `prefixes` (the
// source directory's spellings) and outside system directories.
std::vector<std::string> pth_leaks(std::string_view text, const std::vector<std::string>& prefixes);
std::vector<std::string> pyvenv_cfg_leaks(std::string_view text, const std::vector<std::string>& prefixes);
// Why a RPATH/RUNPATH entry leaks, or "" when it does not. `unrelocatable`:
// why the file's search paths cannot be relocated, "" when they can.
std::string search_path_leak(const std::string& entry, const std::vector<std::string>& prefixes,
                             const std::string& unrelocatable = "");
// The absolute paths a script's first bytes make the kernel or sh run:
// "#!/opt/py/bin/python3 -u" gives "/opt/py/bin/python3"; an absolute
// argument counts too ("#!/bin/sh /spack/bin/sbang", and the interpreter on
// the second line that sbang runs); pip's form for long
// paths ("#!/bin/sh" then "'''exec' "/long/bin/python" "$0" "$@"") gives the
// exec'd one. Empty for anything else.
std::vector<std::string> shebang_paths(std::string_view head);
// Why a symlink at `path` (relative to the stack root `root`) leaks, or "".
std::string symlink_leak(const std::string& path, const std::string& target, const std::string& root,
                         const std::vector<std::string>& prefixes);

// All of the above over a walk of `root`; `prefixes` are `root`'s spellings.
// The files are read on `threads` threads; the leaks, and the notes logged
// with -v, come in the walk's order whatever the count.
std::vector<Leak> find_leaks(const std::string& root, const std::vector<WalkEntry>& entries,
                             const std::vector<std::string>& prefixes, unsigned threads = 1);

// The home of a pyvenv.cfg ("home = /opt/py/bin"), or "".
std::string pyvenv_home(std::string_view text);

// The leaks grouped by the place they name; `entries` (the walk) tell where
// the tree's own layout appears under another prefix. Most files first.
std::vector<LeakGroup> group_leaks(const std::vector<Leak>& leaks, const std::vector<WalkEntry>& entries);
// The warning for a group: "3 files name '/old/prefix' (RUNPATH entries): ...".
std::string describe(const LeakGroup& group);

// One warning per group, each leak as an info line (--verbose), and the
// summary "N possible leaks to outside the stack in M files" for the caller.
std::string warn_leaks(const std::vector<Leak>& leaks, const std::vector<WalkEntry>& entries);

}  // namespace shmstack
