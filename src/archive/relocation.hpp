// Relocation of prefix stacks: a venv, conda env or interpreter tree names its
// own location as text (console-script shebangs, pyvenv.cfg, bin/activate*,
// .pc and .cmake files, .pth files, _sysconfigdata). Moved into /dev/shm, those
// must name the new location.
//
// At pack time find_prefix_files() reads the likely candidates (everything in
// bin/, executables anywhere that start with "#!", and files named like the
// ones above; at most 4 MiB; text only: a file with a NUL byte is binary and
// never touched) and lists those that contain
// one of the old prefixes; the list goes into the manifest. At install time
// relocate_text() rewrites each listed file, and symlinks whose absolute
// target lies in an old prefix, to the final install path. Other binary
// content is left alone.
//
// ELF files are the exception: an RPATH/RUNPATH entry in an old prefix (a
// pyenv or Spack build names its own lib/ that way) would send the dynamic
// loader to the source directory on every node. find_prefix_binaries() lists
// the ELF files whose entries can be made $ORIGIN-relative in place (the new
// string is no longer than the old; what is left is NUL-padded, as patchelf
// and conda do when they shrink one), and relocate_search_paths() gives the
// edits, the same at pack time (to decide) and at install time (to apply).
// $ORIGIN-relative entries are right wherever the stack is installed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "archive/elf_rpath.hpp"
#include "archive/walk.hpp"

namespace shmstack {

inline constexpr std::uint64_t kMaxRelocatedFile = std::uint64_t{4} << 20;

// Candidates by name: worth reading to see whether they name the prefix.
bool is_relocation_candidate(const WalkEntry& entry);
// Executables not named so, up to kMaxRelocatedFile: candidates when they
// start with "#!" (a script in libexec/ or a package's own bin/).
bool is_script_candidate(const WalkEntry& entry);

// Paths (relative to `root`) of candidate files that contain one of
// `prefixes`, in the walk's order. The files are read on `threads` threads
// (parallel_for: on a parallel file system each open is a round trip).
std::vector<std::string> find_prefix_files(const std::string& root, const std::vector<WalkEntry>& entries,
                                           const std::vector<std::string>& prefixes, unsigned threads = 1);

// `text` with every occurrence of an old prefix (longest first) replaced by
// `new_prefix`, where the prefix is followed by '/', a non-path character or
// the end (so "/opt/env" does not match inside "/opt/env2").
std::string relocate_text(std::string_view text, const std::vector<std::string>& prefixes,
                          const std::string& new_prefix);

// A symlink target inside an old prefix, moved to the new one; others unchanged.
std::string relocate_link(const std::string& target, const std::vector<std::string>& prefixes,
                          const std::string& new_prefix);

// Binaries. Relocated in memory at install time: bigger ones are left alone
// (and reported by pack as leaks).
inline constexpr std::uint64_t kMaxRelocatedBinary = std::uint64_t{256} << 20;

// Files worth reading for an ELF header: executable, or *.so*.
bool is_elf_candidate(const WalkEntry& entry);

// A search-path entry inside an old prefix, as seen from the ELF file at
// `path` (relative to the stack root): "/old/lib" for "lib/python3.11/x.so"
// is "$ORIGIN/../..". "" when the entry is not inside a prefix.
std::string origin_relative(const std::string& entry, const std::string& path,
                            const std::vector<std::string>& prefixes);

// Bytes to write at `offset` of the file (the new string, NUL-padded).
struct BinaryEdit {
  std::uint64_t offset = 0;
  std::string bytes;
};
struct BinaryRelocation {
  std::vector<BinaryEdit> edits;  // empty: nothing names an old prefix
  std::string problem;            // non-empty: an entry does, but cannot be rewritten (why)
};
BinaryRelocation relocate_search_paths(const ElfSearchPaths& elf, const std::string& path,
                                       const std::vector<std::string>& prefixes);

// Paths (relative to `root`) of ELF files up to kMaxRelocatedBinary with
// edits and no problem, in the walk's order; read on `threads` threads.
std::vector<std::string> find_prefix_binaries(const std::string& root, const std::vector<WalkEntry>& entries,
                                              const std::vector<std::string>& prefixes, unsigned threads = 1);

}  // namespace shmstack
