// The manifest: the first entry of every archive pack makes, and the record
// an installed stack keeps in `.shmstack/manifest.json`.
//
// It tells a reader, before any data, what the stack is (name, id), how big it
// is (entries, bytes, and `disk_bytes`, the tmpfs footprint with every file
// rounded up to a page) and how to activate it. The id (format 2) covers
// every entry's path, type, mode, size, mtime and link target, every regular
// file's content (XXH3-64 of its bytes) and the settings that shape the
// install (activation recipe, relocation): two packs of an unchanged tree with
// the same settings get the same id, so an installed copy is reused, and
// anything else gets another id (doc/design.md, "Stack identity").
// Format 1 archives (ids of metadata only) still install: their id is mixed
// with their settings when read (id_basis "metadata").
// Archives made by other tools have no manifest; one is synthesized from the
// archive's file name and identity (path, size, mtime; id_basis "archive").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "archive/walk.hpp"

namespace shmstack {

inline constexpr int kManifestFormat = 2;
inline constexpr const char* kManifestEntry = ".shmstack/manifest.json";
inline constexpr std::uint64_t kPageSize = 4096;

struct Activation {
  std::string kind = "plain";  // "prefix" (bin/python3 + lib/python3.*/site-packages), "target", "plain"
  std::vector<std::string> path;             // relative dirs for PATH ("." is the stack itself)
  std::vector<std::string> pythonpath;       // relative dirs for PYTHONPATH
  std::vector<std::string> ld_library_path;  // relative dirs for LD_LIBRARY_PATH
  std::vector<std::pair<std::string, std::string>> set;  // VAR, VALUE ("{prefix}": the install path)
  bool operator==(const Activation&) const = default;
};

// The recipe `detect_activation` gives for `kind` ("prefix", "target", "plain").
Activation activation_for_kind(const std::string& kind, bool has_bin);
// "" when the recipe is well-formed: a known kind, directories relative and
// inside the stack ("." or a normalised path), valid variable names.
std::string check_activation(const Activation& activation);

// Files that name the stack's old location (relocation.hpp).
struct Relocation {
  std::vector<std::string> prefixes;  // absolute paths the tree was packed from (or built in)
  std::vector<std::string> files;     // relative paths of text to rewrite when installing
  std::vector<std::string> binaries;  // relative paths of ELF files whose search paths become $ORIGIN-relative
  bool operator==(const Relocation&) const = default;
};

struct Manifest {
  int format = kManifestFormat;
  std::string name;
  std::string id;  // 16 hex digits
  // What the id covers: "content" (pack, format 2), "metadata" (a format 1
  // archive: metadata and settings, not the files' bytes), "archive"
  // (synthesized: the archive file's path, size and mtime).
  std::string id_basis = "content";
  std::uint64_t entries = 0;
  std::uint64_t bytes = 0;
  std::uint64_t disk_bytes = 0;
  std::string source;   // absolute path of the packed directory (or the archive)
  std::string created;  // UTC, ISO 8601
  std::string host;
  std::string tool;     // "shmstack 0.1.0"
  Activation activation;
  Relocation relocation;
  bool synthesized = false;  // no manifest in the archive

  std::string id12() const { return id.substr(0, 12); }
  std::string dir_name() const { return name + "-" + id12(); }
};

// The metadata fingerprint of the entries (format 1's whole id).
std::string fingerprint(const std::vector<WalkEntry>& entries);
// The format 2 id: every entry's metadata, each file's content digest
// (`content[i]`, content_digest.hpp; 0 for other entries) and the settings.
std::string stack_id(const std::vector<WalkEntry>& entries, const std::vector<std::uint64_t>& content,
                     const Activation& activation, const Relocation& relocation);
// The id a format 1 manifest installs under: its own id mixed with its
// settings (which format 1 ids did not cover).
std::string upgraded_id(const std::string& format1_id, const Activation& activation, const Relocation& relocation);
// True when an installed stack's manifest and an archive's describe the same
// install: same name, id, id basis and (for packed archives) sizes and settings.
bool same_identity(const Manifest& installed, const Manifest& archive);
// Looks at entries no deeper than kActivationDepth levels ("lib/python3.12/site-packages",
// or "env/lib/python3.12/site-packages"). A tree whose top holds nothing to
// activate but one directory ('tar czf env.tar.gz env') is activated as that
// directory: PATH gets env/bin, and so on.
Activation detect_activation(const std::vector<WalkEntry>& entries);
inline constexpr std::size_t kActivationDepth = 4;
// The only entry at the top of `entries` when it is a directory, or "".
std::string sole_top_directory(const std::vector<WalkEntry>& entries);
// Fills everything but name/source/created/host/tool from the walk.
Manifest manifest_for(const std::vector<WalkEntry>& entries);

// Bounds on a manifest's counts: more than any node holds, small enough that
// sums over a few stacks and a page per entry cannot wrap.
inline constexpr std::uint64_t kMaxStackBytes = std::uint64_t{1} << 60;
inline constexpr std::uint64_t kMaxStackEntries = std::uint64_t{1} << 48;

// The most memory `entries` entries holding `bytes` bytes can take in a
// tmpfs: the bytes rounded up to a page, and a page per entry.
std::uint64_t most_disk_bytes(const Manifest& manifest);
// "" when `disk_bytes` agrees with `bytes` and `entries` (at least the bytes,
// whole pages, at most most_disk_bytes()); else why not. A manifest read
// from an archive must pass this: the space and memory checks trust
// disk_bytes, and extraction holds the archive to it.
std::string manifest_size_problem(const Manifest& manifest);

// True when `text` is valid UTF-8 (JSON text must be).
bool is_utf8(std::string_view text);
// "" when every string of `manifest` can be written as JSON text; else which
// field is not valid UTF-8, and its value (escaped). Checked before any work
// whose result would be lost when the manifest cannot be written.
std::string manifest_text_problem(const Manifest& manifest);

std::string to_json(const Manifest& manifest, bool pretty = true);
// Throws Error("invalid manifest in <where>", why): for bad JSON, a wrong
// type, a count out of its bound, a bad name, id, activation or relocation
// list. A missing disk_bytes reads as most_disk_bytes() (at most kMaxStackBytes).
Manifest parse_manifest(std::string_view text, const std::string& where);
// For an archive without a manifest: name from the file name, id from
// (absolute path, size, mtime), sizes unknown (0).
Manifest synthesize_manifest(const std::string& archive_path, std::uint64_t size, std::int64_t mtime_ns);

std::string utc_now_iso8601();
std::string host_name();

}  // namespace shmstack
