// The pax tar stream of a tree, written through libarchive.
//
// TarWriter turns the manifest and the walk's entries into tar headers and
// each file's bytes, and hands the stream, as libarchive produces it, to an
// output function (pack cuts it into chunks for the LZ4 workers). It knows
// nothing of frames or threads. uid/gid are not stored; mtimes are, to the
// nanosecond (pax). A file that changes size while it is read is an error:
// the archive would contradict its manifest. An exception thrown by the
// output passes through libarchive and out of the call that wrote.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "archive/manifest.hpp"
#include "archive/walk.hpp"
#include "base/busy_time.hpp"

namespace shmstack {

class TarWriter {
 public:
  using Output = std::function<void(const char* bytes, std::size_t size)>;

  // Files are read from under `root` (the walk's paths are relative to it).
  TarWriter(const std::string& root, Output output);
  ~TarWriter();
  TarWriter(const TarWriter&) = delete;
  TarWriter& operator=(const TarWriter&) = delete;

  // The manifest, as the first entry (kManifestEntry).
  void add_manifest(const Manifest& manifest);
  // A file's bytes are read from the tree, or taken from `read_ahead` when
  // given (ReadAhead read them: exactly the entry's size).
  void add(const WalkEntry& entry, const std::vector<char>* read_ahead = nullptr);
  // The end of the tar stream: everything is in the output once this returns.
  void finish();
  // For -v: seconds spent opening and reading the tree's files.
  double read_seconds() const { return read_time_.seconds(); }

 private:
  [[noreturn]] void fail(const std::string& what);
  void header(const std::string& path);
  void data(const char* p, std::size_t n, const std::string& path);
  void file_data(const WalkEntry& e, const std::vector<char>* read_ahead);
  la_ssize_t write(const char* p, std::size_t n);
  static la_ssize_t write_callback(archive*, void* self, const void* p, size_t n);

  Output output_;
  std::string root_;
  std::vector<char> buffer_;
  archive* ar_ = nullptr;
  archive_entry* entry_ = nullptr;
  std::exception_ptr error_;
  BusyTime read_time_;
};

}  // namespace shmstack
