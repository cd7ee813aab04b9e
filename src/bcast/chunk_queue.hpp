// The hand-off from the broadcast's main thread to a node's install thread.
//
// The main thread (the only one that calls MPI) receives chunks of the archive
// into ring slots and push()es each one here without copying; the install
// thread reads them through the ByteSource interface, as `unpack` reads a
// file, so bcast and unpack share one install engine. It either read()s them
// (a copy) or borrows them with next_piece() (none: LZ4 frames are decoded
// straight out of the slot). A slot stays held() until the install thread
// has read all of it and dropped every hold on it; only then may the main
// thread reuse its buffer. The ring is bounded, so this is where
// back-pressure from a slow node reaches the broadcast.
//
// Either side can end it: finish() (the stream is complete), abort() (the
// sender failed: the reader's next read throws with the sender's reason),
// or stop() from the install thread (it failed or needs no more data): later
// pushes are dropped at once, so the main thread keeps draining the stream
// without the node's help and without blocking.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "archive/byte_source.hpp"
#include "bcast/chunk_sink.hpp"

namespace shmstack {

class ChunkQueue final : public ByteSource, public ChunkSink {
 public:
  ChunkQueue(std::string name, std::size_t slots, std::uint64_t size_hint = 0);

  // Main thread. Returns false (and holds nothing) once the reader stopped.
  bool push(std::size_t slot, const char* data, std::size_t size) override;
  bool held(std::size_t slot) const override;
  void finish() override;
  void abort(const std::string& why) override;
  // Sleeps until `slot` is released or `timeout` passes.
  void wait_release(std::size_t slot, std::chrono::microseconds timeout) override;

  // Install thread.
  std::size_t read(char* buffer, std::size_t capacity) override;
  bool lends_pieces() const override { return true; }
  Piece next_piece() override;
  const std::string& name() const override { return name_; }
  std::uint64_t size_hint() const override { return size_hint_; }
  void interrupt() override { stop(); }
  void stop() override;

 private:
  struct Queued {
    std::size_t slot;
    const char* data;
    std::size_t size;
  };
  // Waits for a queued piece; false at the end of the stream. Throws when stopped or aborted.
  bool wait_piece(std::unique_lock<std::mutex>& lock);
  void release(std::size_t slot);
  std::string name_;
  std::uint64_t size_hint_;
  mutable std::mutex mutex_;
  std::condition_variable arrived_;
  std::condition_variable released_;
  std::deque<Queued> pieces_;
  std::vector<int> holds_;  // per slot: queued (1) plus pieces lent out
  bool finished_ = false;
  bool stopped_ = false;
  std::string abort_reason_;
};

}  // namespace shmstack
