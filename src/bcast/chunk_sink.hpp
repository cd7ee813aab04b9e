// Where the data phase hands each received chunk: the node's install.
//
// pump_stream (chunk_stream.hpp) calls these on the main thread only. In
// shmstack the sink is ChunkQueue (chunk_queue.hpp), read by the install
// thread; the SimGrid simulation (scripts/bench/sim/) uses a model of an
// install that consumes bytes at a given rate, so the pump, the ring and the
// transports are the same code in both.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace shmstack {

class ChunkSink {
 public:
  virtual ~ChunkSink() = default;
  // Hands over `size` bytes of slot `slot` (not copied: the slot stays held
  // until the sink is done with them). Returns false once the sink stopped.
  virtual bool push(std::size_t slot, const char* data, std::size_t size) = 0;
  // Is the sink still using slot `slot`'s buffer?
  virtual bool held(std::size_t slot) const = 0;
  // The stream is complete / the sender failed for `why`.
  virtual void finish() = 0;
  virtual void abort(const std::string& why) = 0;
  // Waits until `slot` is no longer held (at once if it is not) or `timeout`
  // passes.
  virtual void wait_release(std::size_t slot, std::chrono::microseconds timeout) = 0;
  // Takes no more data: later pushes are dropped.
  virtual void stop() = 0;
};

}  // namespace shmstack
