// The data phase of the broadcast: one archive as a numbered sequence of
// fixed-size messages, moved through a bounded ring of buffers.
//
// Every message is `kHeaderBytes + chunk_bytes` long (MPI wants matching
// counts on every rank); its header says which chunk it is, how many payload
// bytes it carries, and whether the stream ends with it (`last`) or the
// sender failed (`abort`: the payload is the sender's reason).
//
// How many messages there are must be the same on every rank without asking:
//  - an archive of known size has chunks_for(size) of them;
//  - a stream packed on the fly ends at a chunk marked last, which receivers
//    only learn when it arrives. By then they may have posted up to ring-1
//    more receives, so the sender always sends exactly ring-1 empty padding
//    messages after the last one (may_post() is the one rule all ranks follow).
// An abort ends a stream of either kind the same way.
//
// The pump (run on the main thread of every rank in the data communicator):
//
//   root:      fill a free slot from the source -> start (send) -> hand the
//              slot to the local install (if this node needs the stack)
//   others:    start (receive) into a free slot -> arrived? -> hand it to the
//              local install
//   a slot is free again when the transport is done with it and the
//   install thread has read it (ChunkSink::held); at most `ring` slots are
//   in flight, so memory is ring * chunk_bytes whatever the archive's size.
//
// Transports: MPI_Ibcast over the data communicator, a pipelined k-ary tree
// of point-to-point messages (mpi_transport.hpp), and a loopback that records
// and replays messages, for tests without MPI.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "archive/byte_source.hpp"
#include "bcast/chunk_sink.hpp"

namespace shmstack {

inline constexpr std::size_t kHeaderBytes = 32;

struct ChunkHeader {
  enum Flags : std::uint32_t { last = 1, abort = 2 };
  std::uint64_t seq = 0;
  std::uint64_t length = 0;
  std::uint32_t flags = 0;
};

void encode_header(const ChunkHeader& header, char* at);
// Throws Error when `at` is not a chunk header.
ChunkHeader decode_header(const char* at);

struct StreamShape {
  std::uint64_t chunk_bytes = 2 << 20;
  std::size_t ring = 4;
  std::uint64_t known_chunks = 0;  // 0: the stream ends at a chunk marked last

  std::size_t message_bytes() const { return kHeaderBytes + chunk_bytes; }
};

// Chunks for an archive of `bytes` (at least one, which may be empty).
std::uint64_t chunks_for(std::uint64_t bytes, std::uint64_t chunk_bytes);

// May message `seq` be posted, given the last/abort chunk if one has been seen?
bool may_post(const StreamShape& shape, std::uint64_t seq, std::optional<std::uint64_t> end);

// How long the pump waits after `idle_rounds` rounds in a row in which nothing
// moved (0: the first). It polls MPI (progress only happens inside MPI calls,
// and only the main thread may make them), so while the network holds a slot
// (a receive posted, a send to a child in flight) the wait stays short, about
// one chunk's time on a fast link: a forwarding rank that slept longer would
// delay its children's chunks and its own next receive. (200 us: 50 us was 5%
// faster in the 1,024-node simulation but 13% slower with 4 simulated nodes
// on this 2-core machine, where polling takes CPU from the installs; both in
// doc/performance-sim.md.) When every busy slot
// is held by the install alone, the pump waits on the install, which wakes
// it the moment the slot it needs is released: the long cap costs nothing.
inline constexpr std::chrono::microseconds kFirstPause{20};
inline constexpr std::chrono::microseconds kNetworkPauseCap{200};
inline constexpr std::chrono::microseconds kInstallPauseCap{20000};
std::chrono::microseconds idle_pause(unsigned idle_rounds, bool network_busy);

class Transport {
 public:
  virtual ~Transport() = default;
  virtual bool is_root() const = 0;
  // Starts moving message `seq` in `slot`'s buffer: the root sends, others receive.
  virtual void start(std::size_t slot, char* message, std::size_t size, std::uint64_t seq) = 0;
  // Has the message in `slot` arrived? (Always true at the root.) May start forwarding.
  virtual bool arrived(std::size_t slot) = 0;
  // Is the transport done with `slot`'s buffer?
  virtual bool idle(std::size_t slot) = 0;
  // Called on every turn of the pump: moves what waits for no slot (a send
  // to a child that waited for the one before it).
  virtual void poll() {}
};

struct PumpStats {
  std::uint64_t chunks = 0;  // data-carrying messages
  std::uint64_t bytes = 0;   // payload bytes
  double read_seconds = 0;   // root: time spent reading the source
  double seconds = 0;        // the whole stream, on this rank
  std::string abort_reason;  // set when the stream was aborted
};

// Moves one stream. `source` is read at the root only (others pass nullptr);
// `install` (may be null) receives the payload in order. Throws Error only
// on a transport failure; a failing source becomes an abort message. Slot
// memory and pauses come from runtime.hpp (the simulation's seam).
PumpStats pump_stream(Transport& transport, const StreamShape& shape, ByteSource* source, ChunkSink* install);

// Records what the root sends; replays it to a receiving pump (tests).
class LoopbackTransport final : public Transport {
 public:
  explicit LoopbackTransport(std::vector<std::string>* messages, bool root) : messages_(messages), root_(root) {}
  bool is_root() const override { return root_; }
  void start(std::size_t slot, char* message, std::size_t size, std::uint64_t seq) override;
  bool arrived(std::size_t) override { return true; }
  bool idle(std::size_t) override { return true; }
  std::uint64_t started() const { return started_; }

 private:
  std::vector<std::string>* messages_;
  bool root_;
  std::uint64_t started_ = 0;
};

}  // namespace shmstack
