// Writes tar entries into a private staging directory, safely.
//
// The staging directory is new and empty and only this process writes in
// it, so the extractor knows every path that exists there: it keeps a map
// path -> kind. That map is how "resolve parents without following links" is
// enforced cheaply: an entry is written only if each of its parents is a
// directory the extractor itself created; a parent that is a symlink (or a
// file) from the archive is refused. Entry names are first checked lexically
// (path_check.hpp). Files are created with O_EXCL|O_NOFOLLOW.
//
// Refused: absolute names, "..", control characters, names under the reserved
// ".shmstack/", devices, FIFOs, sockets, hard links to anything but an
// earlier file or symlink of this archive, a directory replacing a non-
// directory or the reverse. Sanitised: setuid/setgid bits are dropped.
// Preserved: content, permission bits, mtimes to the nanosecond (directories
// get theirs in finish(), after their contents are written).
//
// Relocation: files the manifest lists get the final install path written in
// place of the old prefix, and absolute symlinks into the old prefix are
// moved (relocation.hpp).
//
// Every file's bytes go to a FileWriterPool, straight from the decoded chunk
// when they lie in one: a small file as one job, a large file -- created and
// sized here -- as ranges that several writers write at once (pwritev at
// their offsets; the last one sets its mtime and closes it). Parsing and all
// metadata operations (directories, symlinks, hard links, unlinks) happen on
// the calling thread, in archive order. Limits (declared bytes and entries) stop an archive that
// carries more than its manifest said.
#pragma once

#include <archive_entry.h>
#include <sys/types.h>
#include <time.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "install/file_writer.hpp"
#include "archive/manifest.hpp"
#include "archive/tar_reader.hpp"

namespace shmstack {

struct ExtractOptions {
  unsigned writer_threads = 0;
  std::uint64_t max_bytes = UINT64_MAX;    // file bytes the archive may hold
  std::uint64_t max_entries = UINT64_MAX;
  std::uint64_t max_disk_bytes = UINT64_MAX;  // the same, each file rounded up to a page (tmpfs memory)
  std::string archive_name;                // for messages
  Relocation relocation;                   // files naming the old location...
  std::string new_prefix;                  // ...get this one (the final install path)
};

class Extractor {
 public:
  Extractor(int staging_fd, std::string staging_path, ExtractOptions options);
  ~Extractor();
  Extractor(const Extractor&) = delete;
  Extractor& operator=(const Extractor&) = delete;

  // Writes the current entry of `reader` (header and data).
  void extract(TarReader& reader, archive_entry* entry);
  // Waits for pending writes and applies directory modes and mtimes.
  void finish();
  // Hands small files gathered so far to the writers (see TarReader's wait hook).
  void flush() { writers_->flush(); }

  // For -v: the writers' busy seconds (summed) and the caller's waits for them.
  double write_seconds() const { return writers_->write_seconds(); }
  double wait_seconds() const { return writers_->wait_seconds(); }

  std::uint64_t entries() const { return entries_; }
  std::uint64_t bytes() const { return bytes_; }
  std::uint64_t disk_bytes() const { return disk_bytes_; }

 private:
  enum class Kind { directory, file, symlink };
  struct DirMeta {
    std::string path;
    mode_t mode;
    timespec mtime;
  };

  [[noreturn]] void refuse(const std::string& entry, const std::string& why) const;
  void ensure_parent(const std::string& entry, const std::string& path);
  void make_directory(const std::string& path, mode_t mode, timespec mtime, bool explicit_entry);
  void make_room(const std::string& entry, const std::string& path, bool directory);
  void write_file(TarReader& reader, archive_entry* entry, const std::string& path);
  void write_small_file(TarReader& reader, FileJob job, std::uint64_t size);
  void write_large_file(TarReader& reader, const std::string& path, mode_t mode, timespec mtime, std::uint64_t size);
  void write_relocated_binary(TarReader& reader, FileJob job, std::uint64_t size);
  // Copies the entry's data, starting with `block`, into buffer[filled, size)
  // (buffer[0, filled) is already set).
  void read_entry_data(TarReader& reader, const std::string& path, std::uint64_t size, char* buffer,
                       TarReader::Block block, std::size_t filled = 0);

  int fd_;
  std::string staging_path_;
  ExtractOptions options_;
  std::unordered_map<std::string, Kind> known_;
  std::unordered_set<std::string> relocate_;   // text to rewrite
  std::unordered_set<std::string> binaries_;   // ELF search paths to rewrite
  std::unordered_map<std::string, std::size_t> dir_index_;
  std::vector<DirMeta> dirs_;
  std::unique_ptr<FileWriterPool> writers_;
  std::uint64_t entries_ = 0;
  std::uint64_t bytes_ = 0;
  std::uint64_t disk_bytes_ = 0;
};

}  // namespace shmstack
