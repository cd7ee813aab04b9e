// Turns an archive byte stream into a libarchive tar reader.
//
// The first bytes decide the path:
//  - a shmstack archive (LZ4 frames with integrity trailers): frames are
//    carved out by a reader thread, verified and decompressed by workers in
//    parallel (ChunkPipeline), and handed in order to libarchive as plain tar.
//    A regular file is mapped and its frames are used where they lie (no copy
//    into a read buffer and again into a chunk; mapped_file.hpp says how a
//    file truncated meanwhile becomes an error); a stream is read;
//  - anything else (.tar.gz from conda-pack, .tar.zst, a plain .tar, an LZ4
//    stream from the lz4 tool): libarchive's own decompression filters read
//    the stream as it comes (Debian's libarchive links zlib, zstd and liblz4,
//    so no external program is ever run).
// Either way the caller walks entries with next_header() and read_block().
//
// The whole unpack pipeline, and who owns a decoded chunk when:
//
//   reader thread        workers (N)            caller's thread (parser)      file writers (N)
//   carve frame -> ----> XXH3 + LZ4 decode ---> libarchive parses the      -> a small file: open,
//   acquire() a chunk    into chunk.out          chunk in order; a file's      write, futimens,
//                                                Block keeps the chunk         close; a range of a
//                                                (shared_ptr); a large file    large file: pwritev
//                                                is created and sized here     at its offset (the
//                                                                              last one closes it);
//                                                                              dropping the job
//                                                                              drops its hold
//
// A chunk returns to the pool when libarchive has moved past it *and* every
// file job referring to it has been written: files are handed to the writers
// without copying. The pool is bounded (2N+2 chunks of 1 MiB), so memory is
// too, and back-pressure reaches the reader. Because a held chunk is not free,
// the caller's batch of not-yet-handed-on jobs is flushed (the wait hook)
// before the parser waits for the next chunk; a batch never waits on the
// parser, so the pipeline cannot deadlock.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "archive/byte_source.hpp"

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
    // When set, `data` stays valid for as long as this is held (it points
    // into a decoded chunk, which returns to the pool when the last holder
    // lets go); otherwise it is valid only until the next call. Every hold
    // must be dropped before the TarReader is destroyed.
    std::shared_ptr<const void> keep;
  };
  Block read_block();
  // Called before the reader may wait for the next decoded chunk. A caller
  // that holds chunks (through Block::keep) in work it has not handed on yet
  // must hand it on here: the pool is bounded, and a held chunk is not free.
  void set_wait_hook(std::function<void()> hook);
  // "shmstack" or libarchive's name for the compression it found.
  std::string compression() const;
  // Compressed bytes consumed so far (for progress).
  std::uint64_t bytes_in() const;
  // For -v: seconds the decoding workers spent (summed over them; 0 for
  // another tool's archive, decoded by libarchive while parsing), and seconds
  // the caller's thread waited for the next decoded chunk.
  double decode_seconds() const;
  double wait_seconds() const;
  // ...and seconds the frame reader waited for a free chunk (all held).
  double pool_wait_seconds() const;

  // Throws Error naming the archive and the entry: the current one (`in_entry`)
  // or the last one read successfully.
  [[noreturn]] void fail(const std::string& why, bool in_entry = false) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace shmstack
