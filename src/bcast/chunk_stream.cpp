#include "bcast/chunk_stream.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>

#include "base/cancel.hpp"
#include "base/error.hpp"
#include "bcast/runtime.hpp"

namespace shmstack {
namespace {

constexpr char kMagic[4] = {'S', 'H', 'S', 'C'};

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

void put64(char* at, std::uint64_t value) {
  for (int i = 0; i < 8; ++i) at[i] = static_cast<char>((value >> (8 * i)) & 0xff);
}

std::uint64_t get64(const char* at) {
  std::uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value |= std::uint64_t{static_cast<unsigned char>(at[i])} << (8 * i);
  return value;
}

// The root's side of a stream: fills each message from the source.
class Filler {
 public:
  Filler(ByteSource& source, const StreamShape& shape) : source_(source), shape_(shape) {}

  void fill(char* message, std::uint64_t seq, PumpStats& stats) {
    ChunkHeader header;
    header.seq = seq;
    if (!done_) {
      auto start = Clock::now();
      try {
        header.length = read_full(message + kHeaderBytes, shape_.chunk_bytes);
        bool ended = header.length < shape_.chunk_bytes;
        if (shape_.known_chunks && ended && seq + 1 < shape_.known_chunks)
          throw Error("cannot read archive " + quote(source_.name()), "it became shorter while being sent");
        if (ended || (shape_.known_chunks && seq + 1 == shape_.known_chunks)) {
          header.flags = ChunkHeader::last;
          done_ = true;
        }
      } catch (const Error& e) {
        std::string why = e.what();
        why.resize(std::min<std::size_t>(why.size(), shape_.chunk_bytes));
        std::memcpy(message + kHeaderBytes, why.data(), why.size());
        header.length = why.size();
        header.flags = ChunkHeader::abort;
        done_ = true;
      }
      stats.read_seconds += seconds_since(start);
    }
    encode_header(header, message);
  }

 private:
  std::size_t read_full(char* at, std::uint64_t capacity) {
    std::size_t got = 0;
    while (got < capacity) {
      std::size_t n = source_.read(at + got, capacity - got);
      if (n == 0) break;
      got += n;
    }
    return got;
  }

  ByteSource& source_;
  const StreamShape& shape_;
  bool done_ = false;  // the last (or abort) message has been filled: the rest is padding
};

}  // namespace

void encode_header(const ChunkHeader& header, char* at) {
  std::memset(at, 0, kHeaderBytes);
  std::memcpy(at, kMagic, 4);
  put64(at + 4, header.flags);
  put64(at + 12, header.seq);
  put64(at + 20, header.length);
}

ChunkHeader decode_header(const char* at) {
  if (std::memcmp(at, kMagic, 4) != 0) throw Error("broadcast stream", "a message is not a chunk (bad magic)");
  ChunkHeader header;
  header.flags = static_cast<std::uint32_t>(get64(at + 4));
  header.seq = get64(at + 12);
  header.length = get64(at + 20);
  return header;
}

std::uint64_t chunks_for(std::uint64_t bytes, std::uint64_t chunk_bytes) {
  return std::max<std::uint64_t>(1, (bytes + chunk_bytes - 1) / chunk_bytes);
}

bool may_post(const StreamShape& shape, std::uint64_t seq, std::optional<std::uint64_t> end) {
  if (shape.known_chunks != 0 && seq >= shape.known_chunks) return false;
  return !end || seq < *end + shape.ring;
}

std::chrono::microseconds idle_pause(unsigned idle_rounds, bool network_busy) {
  auto cap = network_busy ? kNetworkPauseCap : kInstallPauseCap;
  auto pause = kFirstPause;
  for (unsigned i = 0; i < idle_rounds && pause < cap; ++i) pause *= 2;
  return std::min(pause, cap);
}

namespace {

// The ring's buffers, from runtime::allocate_slot (real memory in shmstack,
// SMPI shared memory in the simulation).
class Slots {
 public:
  Slots(std::size_t ring, std::size_t bytes) : bytes_(bytes), slots_(ring, nullptr) {
    try {
      for (char*& slot : slots_) slot = runtime::allocate_slot(bytes_);
    } catch (...) {
      release();
      throw;
    }
  }
  ~Slots() { release(); }
  Slots(const Slots&) = delete;
  Slots& operator=(const Slots&) = delete;
  char* operator[](std::size_t slot) const { return slots_[slot]; }

 private:
  void release() {
    for (char* slot : slots_)
      if (slot) runtime::free_slot(slot, bytes_);
  }
  std::size_t bytes_;
  std::vector<char*> slots_;
};

PumpStats pump(Transport& transport, const StreamShape& shape, ByteSource* source, ChunkSink* install,
               const Slots& slots) {
  PumpStats stats;
  auto start = Clock::now();
  std::optional<Filler> filler;
  if (transport.is_root()) filler.emplace(*source, shape);
  const std::size_t ring = shape.ring;
  std::optional<std::uint64_t> end;  // the last or abort message
  std::uint64_t posted = 0;
  std::uint64_t arrived = 0;

  auto slot_free = [&](std::size_t slot) { return transport.idle(slot) && !(install && install->held(slot)); };
  unsigned idle_rounds = 0;
  for (;;) {
    bool moved = false;
    transport.poll();
    while (posted - arrived < ring && may_post(shape, posted, end) && slot_free(posted % ring)) {
      char* buffer = slots[posted % ring];
      if (filler) filler->fill(buffer, posted, stats);
      transport.start(posted % ring, buffer, shape.message_bytes(), posted);
      ++posted;
      moved = true;
    }
    while (arrived < posted && transport.arrived(arrived % ring)) {
      std::size_t slot = arrived % ring;
      const char* message = slots[slot];
      ChunkHeader header = decode_header(message);
      if (header.seq != arrived || header.length > shape.chunk_bytes)
        throw Error("broadcast stream", "message " + std::to_string(arrived) + " is out of step");
      if (!end) {
        const char* payload = message + kHeaderBytes;
        if (header.flags & ChunkHeader::abort) {
          stats.abort_reason.assign(payload, header.length);
          if (install) install->abort(stats.abort_reason);
          end = arrived;
        } else {
          if (install && header.length > 0) install->push(slot, payload, header.length);
          stats.bytes += header.length;
          ++stats.chunks;
          if (header.flags & ChunkHeader::last) {
            end = arrived;
            if (install) install->finish();
          }
        }
      }
      ++arrived;
      moved = true;
    }
    if (end && arrived == posted && !may_post(shape, posted, end)) break;
    if (moved) {
      idle_rounds = 0;
      continue;
    }
    check_cancelled();
    // Nothing moved: what is the pump waiting for? (idle_pause() says why it matters.)
    bool network_busy = arrived < posted;
    for (std::size_t slot = 0; slot < ring && !network_busy; ++slot) network_busy = !transport.idle(slot);
    auto pause = idle_pause(idle_rounds++, network_busy);
    if (install && !network_busy) {
      // Only the install holds slots: the next one to post is the one it must give back.
      install->wait_release(posted % ring, pause);
    } else {
      runtime::pause_for(pause);
    }
  }
  // Done when neither MPI nor the install thread uses any slot.
  for (std::size_t slot = 0; slot < ring; ++slot) {
    while (!slot_free(slot)) {
      check_cancelled();
      runtime::pause_for(std::chrono::microseconds(50));
    }
  }
  stats.seconds = seconds_since(start);
  return stats;
}

}  // namespace

PumpStats pump_stream(Transport& transport, const StreamShape& shape, ByteSource* source, ChunkSink* install) {
  if (transport.is_root() && !source) throw Error("broadcast stream", "the root has no source");
  auto slots = std::make_unique<Slots>(shape.ring, shape.message_bytes());
  try {
    return pump(transport, shape, source, install, *slots);
  } catch (...) {
    // The install thread may be reading a slot: once stop() returns it no
    // longer does. MPI may still be writing into one (a failed stream ends in
    // MPI_Abort, and unfinished collectives cannot be cancelled), so the
    // buffers are deliberately not freed.
    if (install) install->stop();
    static_cast<void>(slots.release());
    throw;
  }
}

void LoopbackTransport::start(std::size_t, char* message, std::size_t size, std::uint64_t seq) {
  ++started_;
  if (root_) {
    if (seq != messages_->size()) throw Error("loopback", "messages sent out of order");
    messages_->emplace_back(message, size);
    return;
  }
  if (seq >= messages_->size()) throw Error("loopback", "receive " + std::to_string(seq) + " has no matching send");
  const std::string& sent = messages_->at(seq);
  if (sent.size() != size) throw Error("loopback", "message sizes differ");
  std::memcpy(message, sent.data(), size);
}

}  // namespace shmstack
