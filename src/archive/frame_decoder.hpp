// The decoding half of unpack: a shmstack archive's LZ4 frames, carved out,
// verified and decompressed in parallel, handed back in order.
//
//   reader thread                  workers (N, ChunkPipeline)      caller
//   FrameWindow: scan the next -->  XXH3 of the frame == trailer? -> next(): the decoded
//   frame and its trailer, check    LZ4 decode into chunk.out        bytes of frame k,
//   sequence and size, acquire()                                     in order, and a hold
//
// A frame is decoded where it lies when its window can lend it (a mapped file,
// bcast's ring); otherwise it is copied into its chunk. The pool is bounded
// (2N+2 chunks), so memory is too and back-pressure reaches the reader. A
// decoded chunk returns to the pool when the last holder of its hold lets go.
// Every error names the archive and the byte offset; bytes of a mapped file
// that vanished (the file was truncated) are reported as such, not as a
// checksum mismatch.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "archive/byte_source.hpp"
#include "base/busy_time.hpp"

namespace shmstack {

// Is `prefix` the start of a shmstack archive: an LZ4 frame, then our trailer?
bool is_shmstack_archive(const std::vector<char>& prefix);

class FrameDecoder {
 public:
  // Starts the reader thread over `source`, whose first bytes were already
  // read into `prefix`. `threads`: workers (0 = decode on the reader thread).
  // `consumed` counts the archive bytes taken from the source.
  FrameDecoder(ByteSource& source, const std::vector<char>& prefix, std::atomic<std::uint64_t>& consumed,
               unsigned threads);
  // Stops the pipeline and joins the reader; every hold must be dropped first.
  ~FrameDecoder();
  FrameDecoder(const FrameDecoder&) = delete;
  FrameDecoder& operator=(const FrameDecoder&) = delete;

  struct Decoded {
    const char* data = nullptr;  // size 0: the archive ended
    std::size_t size = 0;
    std::shared_ptr<const void> hold;  // keeps `data` valid; dropping it frees the chunk
  };
  // The next frame's tar bytes, in order; throws the first error of any thread.
  Decoded next();
  // Seconds the workers spent verifying and decoding, summed over them.
  double decode_seconds() const;
  // Seconds the reader waited for a free chunk: every chunk was held, by the
  // workers, the caller or (through its holds) the caller's file writers.
  double pool_wait_seconds() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace shmstack
