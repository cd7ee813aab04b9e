#include "archive/tar_writer.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <ctime>
#include <optional>

#include "archive/read_ahead.hpp"
#include "base/cancel.hpp"
#include "base/error.hpp"

namespace shmstack {

TarWriter::TarWriter(const std::string& root, Output output)
    : output_(std::move(output)), root_(root), buffer_(std::size_t{1} << 20) {
  ar_ = archive_write_new();
  if (!ar_) throw Error("pack", "out of memory");
  archive_write_set_format_pax(ar_);
  archive_write_set_bytes_per_block(ar_, 0);  // no blocking: chunks cut the stream anyway
  if (archive_write_open2(ar_, this, nullptr, &TarWriter::write_callback, nullptr, nullptr) != ARCHIVE_OK)
    fail("cannot start the tar writer");
  entry_ = archive_entry_new();
}

TarWriter::~TarWriter() {
  archive_entry_free(entry_);
  archive_write_free(ar_);
}

void TarWriter::add_manifest(const Manifest& manifest) {
  std::string text = to_json(manifest);
  archive_entry_clear(entry_);
  archive_entry_copy_pathname(entry_, kManifestEntry);
  archive_entry_set_filetype(entry_, AE_IFREG);
  archive_entry_set_perm(entry_, 0644);
  archive_entry_set_size(entry_, static_cast<la_int64_t>(text.size()));
  archive_entry_set_mtime(entry_, std::time(nullptr), 0);
  header(kManifestEntry);
  data(text.data(), text.size(), kManifestEntry);
}

void TarWriter::add(const WalkEntry& e, const std::vector<char>* read_ahead) {
  check_cancelled();
  archive_entry_clear(entry_);
  archive_entry_copy_pathname(entry_, e.path.c_str());
  archive_entry_set_perm(entry_, e.mode);
  archive_entry_set_mtime(entry_, e.mtime_sec, static_cast<long>(e.mtime_nsec));
  switch (e.type) {
    case WalkEntry::Type::directory:
      archive_entry_set_filetype(entry_, AE_IFDIR);
      header(e.path);
      return;
    case WalkEntry::Type::symlink:
      archive_entry_set_filetype(entry_, AE_IFLNK);
      archive_entry_copy_symlink(entry_, e.link.c_str());
      header(e.path);
      return;
    case WalkEntry::Type::hardlink:
      archive_entry_set_filetype(entry_, AE_IFREG);
      archive_entry_copy_hardlink(entry_, e.link.c_str());
      archive_entry_set_size(entry_, 0);
      header(e.path);
      return;
    case WalkEntry::Type::file:
      archive_entry_set_filetype(entry_, AE_IFREG);
      archive_entry_set_size(entry_, static_cast<la_int64_t>(e.size));
      header(e.path);
      file_data(e, read_ahead);
      return;
  }
}

void TarWriter::finish() {
  if (archive_write_close(ar_) != ARCHIVE_OK) fail("cannot finish the tar stream");
}
void TarWriter::fail(const std::string& what) {
  if (error_) std::rethrow_exception(error_);
  throw Error(what, archive_error_string(ar_) ? archive_error_string(ar_) : "libarchive error");
}

void TarWriter::header(const std::string& path) {
  if (archive_write_header(ar_, entry_) < ARCHIVE_WARN) fail("cannot add " + quote(path) + " to the archive");
}

void TarWriter::data(const char* p, std::size_t n, const std::string& path) {
  while (n > 0) {
    la_ssize_t w = archive_write_data(ar_, p, n);
    if (w < 0) fail("cannot add " + quote(path) + " to the archive");
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

void TarWriter::file_data(const WalkEntry& e, const std::vector<char>* read_ahead) {
  if (read_ahead) {
    data(read_ahead->data(), read_ahead->size(), e.path);
    return;
  }
  std::optional<SourceFile> file;
  {
    BusyTime::Span reading(read_time_);
    file.emplace(root_ + "/" + e.path, e.size);
  }
  while (file->left() > 0) {
    std::size_t n;
    {
      BusyTime::Span reading(read_time_);
      n = file->read(buffer_.data(), buffer_.size());
    }
    data(buffer_.data(), n, e.path);
  }
  file->expect_end();
}

la_ssize_t TarWriter::write(const char* p, std::size_t n) {
  try {
    output_(p, n);
    return static_cast<la_ssize_t>(n);
  } catch (...) {
    if (!error_) error_ = std::current_exception();
    archive_set_error(ar_, EIO, "write failed");
    return -1;
  }
}

la_ssize_t TarWriter::write_callback(archive*, void* self, const void* p, size_t n) {
  return static_cast<TarWriter*>(self)->write(static_cast<const char*>(p), n);
}

}  // namespace shmstack
