// The content half of a stack's id: an XXH3-64 of each regular file's bytes.
//
// pack reads the tree once for these before it writes the archive (the
// manifest, which carries the id, is the archive's first entry, so the id must
// be known before any file's bytes are written). The files are read by
// `threads` threads, each taking the next file; on a cold shared file system
// this is one more read of the tree, from the page cache on a warm one. Other
// entries (directories, symlinks, hard links) get 0: their identity is their
// metadata. A file that cannot be read is an error, as it would be for pack.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "archive/walk.hpp"

namespace shmstack {

std::vector<std::uint64_t> content_digests(const std::string& root, const std::vector<WalkEntry>& entries,
                                           unsigned threads);

}  // namespace shmstack
