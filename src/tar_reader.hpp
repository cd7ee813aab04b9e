// Turns an archive byte stream into a libarchive tar reader.
//
// The first bytes decide the path:
//  - a shmstack archive (LZ4 frames with integrity trailers): frames are
//    carved out by a reader thread, verified and decompressed by workers in
//    parallel (ChunkPipeline), and handed in order to libarchive as plain tar;
//  - anything else (.tar.gz from conda-pack, .tar.zst, a plain .tar, an LZ4
//    stream from the lz4 tool): libarchive's own decompression filters read
//    the stream as it comes (Debian's libarchive links zlib, zstd and liblz4,
//    so no external program is ever run).
// Either way the caller gets an `archive*` to walk with next_header(), and
// memory stays bounded: a fixed number of 1 MiB chunks are in flight.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <cstdint>
#include <memory>
#include <string>

#include "byte_source.hpp"

namespace shmstack {

class TarReader {
 public:
  // `threads`: decompression workers (0 = decompress on the reader thread).
  TarReader(ByteSource& source, unsigned threads);
  ~TarReader();
  TarReader(const TarReader&) = delete;
  TarReader& operator=(const TarReader&) = delete;

  // The next entry header, or nullptr at the end. Throws Error naming the
  // archive (and the last good entry) when the stream is damaged.
  archive_entry* next_header();
  // Reads the current entry's data: returns the next block (size 0 at its end).
  struct Block {
    const char* data;
    std::size_t size;
    std::int64_t offset;
  };
  Block read_block();
  // "shmstack" or libarchive's name for the compression it found.
  std::string compression() const;
  // Compressed bytes consumed so far (for progress).
  std::uint64_t bytes_in() const;

  // Throws Error naming the archive and the entry: the current one (`in_entry`)
  // or the last one read successfully.
  [[noreturn]] void fail(const std::string& why, bool in_entry = false) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace shmstack
