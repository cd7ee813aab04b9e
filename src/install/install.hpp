// The node install protocol (DESIGN §5), shared by unpack and, later, bcast.
//
//   read the first entry: the manifest (or synthesize one)
//   -> open the user root (ownership checks) -> already installed? done
//   -> flock the stack id -> installed meanwhile? done (reuse)
//   -> clear a leftover without install.json -> statvfs check
//   -> memory cgroup check (footprint + margin) -> staging dir
//   -> extract every entry (relocating listed files to the final path)
//   -> check counts against the manifest -> write records -> rename staging
//   to <name>-<id12>
//
// A stack counts as installed only when .shmstack/install.json exists. For a
// conda-pack archive it is written after the rename, once conda-unpack has
// run in the final location; if that fails the stack is removed.
//
// Nothing half-written is ever visible under the final name: any error or
// signal unwinds through Staging, which removes the staging directory.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "archive/byte_source.hpp"
#include "archive/manifest.hpp"
#include "archive/tar_reader.hpp"
#include "install/install_times.hpp"
#include "install/memory_cgroup.hpp"
#include "install/node_root.hpp"

namespace shmstack {

// How long conda-unpack may run: $SHMSTACK_CONDA_UNPACK_TIMEOUT seconds (a
// positive integer), else 600.
std::chrono::seconds default_conda_unpack_timeout();

struct InstallOptions {
  std::string root;       // resolved ROOT
  unsigned threads = 1;   // decompression workers and file writers each
  bool progress = false;
  std::string archive_path;   // recorded in install.json (resolved)
  std::string archive_given;  // recorded too: as the user wrote it, made absolute
  std::string via;            // recorded: the command installing it
  // A conda-pack archive's bin/conda-unpack is code from the archive: run it
  // (spawn.hpp: time limit, nothing it starts survives), or refuse the archive
  // with `conda_unpack_refusal` as the reason (the root-started Prolog without
  // the site's opt-in).
  bool conda_unpack = true;
  std::string conda_unpack_refusal;
  std::chrono::seconds conda_unpack_timeout = default_conda_unpack_timeout();
  std::vector<std::string> conda_unpack_environment;  // empty: this process's
  MemoryMargin memory_margin;  // free memory to leave in the caller's memory cgroup (memory_cgroup.hpp)
  // How long to wait while another process installs or removes the same
  // stack; past it the install fails naming the holder (the Slurm hooks).
  std::chrono::milliseconds lock_wait = kWaitForever;
};

struct InstallResult {
  InstalledStack stack;
  bool already_present = false;
  std::uint64_t entries = 0;
  std::uint64_t bytes = 0;
  std::string compression;
  InstallTimes times;
};

// The manifest, if `entry` (an archive's first) is .shmstack/manifest.json:
// reads and parses its data. Throws Error for one that is too big or invalid.
std::optional<Manifest> read_manifest_entry(TarReader& reader, archive_entry* entry, const std::string& archive);

// `fallback` names the stack when the archive has no manifest.
InstallResult install_archive(ByteSource& source, const Manifest& fallback, const InstallOptions& options);

// The manifest install_archive falls back on for an archive file without one:
// named and identified from the file (path, size, mtime); its tmpfs footprint is
// at least the archive's size (a lower bound for the space check).
Manifest fallback_manifest(const std::string& archive_path, const FileSource& source);

// The manifest of the archive file at `archive_path` (its first entry), or the
// fallback for one without: what it would install as. Reads the first entry only.
Manifest archive_manifest(const std::string& archive_path);

// Convenience for a file on disk.
InstallResult install_file(const std::string& archive_path, const InstallOptions& options);

}  // namespace shmstack
