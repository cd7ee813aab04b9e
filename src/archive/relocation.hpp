// Relocation of prefix stacks: a venv, conda env or interpreter tree names its
// own location as text (console-script shebangs, pyvenv.cfg, bin/activate*,
// .pc and .cmake files, .pth files, _sysconfigdata). Moved into /dev/shm, those
// must name the new location.
//
// At pack time find_prefix_files() reads the likely candidates (everything in
// bin/, and files named like the ones above; at most 4 MiB; text only: a file
// with a NUL byte is binary and never touched) and lists those that contain
// one of the old prefixes; the list goes into the manifest. At install time
// relocate_text() rewrites each listed file, and symlinks whose absolute
// target lies in an old prefix, to the final install path. Binary files are
// left alone: conda's use $ORIGIN-relative RUNPATHs.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "archive/walk.hpp"

namespace shmstack {

inline constexpr std::uint64_t kMaxRelocatedFile = std::uint64_t{4} << 20;

// Candidates by name: worth reading to see whether they name the prefix.
bool is_relocation_candidate(const WalkEntry& entry);

// Paths (relative to `root`) of candidate files that contain one of `prefixes`.
std::vector<std::string> find_prefix_files(const std::string& root, const std::vector<WalkEntry>& entries,
                                           const std::vector<std::string>& prefixes);

// `text` with every occurrence of an old prefix (longest first) replaced by
// `new_prefix`, where the prefix is followed by '/', a non-path character or
// the end (so "/opt/env" does not match inside "/opt/env2").
std::string relocate_text(std::string_view text, const std::vector<std::string>& prefixes,
                          const std::string& new_prefix);

// A symlink target inside an old prefix, moved to the new one; others unchanged.
std::string relocate_link(const std::string& target, const std::vector<std::string>& prefixes,
                          const std::string& new_prefix);

}  // namespace shmstack
