// pack: a directory tree -> a shmstack archive (pax tar in LZ4 frames).
//
// The pipeline (ChunkPipeline, see chunk_pipeline.hpp):
//
//   calling thread: walk (lstat only) -> manifest -> TarWriter (libarchive's
//                   pax writer, reading each file) -> 1 MiB chunks of tar bytes
//   N workers:      compress each chunk as an independent LZ4 frame + trailer
//   sink thread:    write frames in order to the ByteSink, advance progress
//
// The manifest is the first tar entry, so readers know the stack's name, id
// and size before any data (what a tar entry keeps: tar_writer.hpp).
#pragma once

#include <string>
#include <vector>

#include "archive/byte_sink.hpp"
#include "archive/leak_scan.hpp"
#include "archive/manifest.hpp"
#include "archive/walk.hpp"

namespace shmstack {

// Changes to the detected activation recipe (pack's --activate-as, --path...).
struct ActivationOverrides {
  std::string kind;  // empty: keep the detected kind
  std::vector<std::string> path, pythonpath, ld_library_path;
  std::vector<std::pair<std::string, std::string>> set;
};

struct PackOptions {
  std::string dir;
  std::string name;  // empty: the directory's base name
  unsigned threads = 1;  // compression workers (1 = compress inline)
  int level = 1;         // LZ4F level: <= 2 fast, 3..12 high compression
  std::vector<std::string> excludes;
  // Where else the tree's files say they live (absolute): the prefix it was
  // built or installed in before it was copied to `dir`. Relocated like `dir`.
  std::vector<std::string> old_prefixes;
  bool progress = false;
  ActivationOverrides activation;
};

// The detected recipe with the overrides applied: another kind replaces the
// recipe, directories are added after the detected ones, variables replace
// ones of the same name. Throws Error when the result is not well-formed.
Activation apply_overrides(Activation detected, const ActivationOverrides& overrides, bool has_bin);

struct PackPlan {
  std::vector<WalkEntry> entries;
  Manifest manifest;
  std::vector<Leak> leaks;  // static leak checks (leak_scan.hpp) over the same walk
};

// Walks the tree, builds the manifest and runs the static leak checks.
PackPlan plan_pack(const PackOptions& options);

// Streams the archive into `sink` (does not commit it). Returns archive bytes.
std::uint64_t write_archive(const PackOptions& options, const PackPlan& plan, ByteSink& sink);

}  // namespace shmstack
