// Tests the broadcast's data phase without MPI: chunk headers, the message
// count rule, and whole streams through the loopback transport (the root
// records its messages, a receiver replays them), with the install side read
// by a thread as the install engine would.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "bcast/chunk_queue.hpp"
#include "bcast/chunk_stream.hpp"
#include "base/error.hpp"

namespace {

using shmstack::ChunkQueue;
using shmstack::LoopbackTransport;
using shmstack::StreamShape;

// Serves `data` in pieces of at most `piece` bytes; fails after `fail_at`.
class StringSource final : public shmstack::ByteSource {
 public:
  StringSource(std::string data, std::size_t piece, std::size_t fail_at = std::string::npos)
      : data_(std::move(data)), piece_(piece), fail_at_(fail_at) {}
  std::size_t read(char* buffer, std::size_t capacity) override {
    if (pos_ >= fail_at_) throw shmstack::Error("cannot read archive 'x'", "Input/output error");
    std::size_t n = std::min({capacity, piece_, data_.size() - pos_, fail_at_ - pos_});
    std::copy_n(data_.data() + pos_, n, buffer);
    pos_ += n;
    return n;
  }
  const std::string& name() const override { return name_; }

 private:
  std::string data_;
  std::size_t piece_;
  std::size_t fail_at_;
  std::size_t pos_ = 0;
  std::string name_ = "x";
};

// What an install thread would read from the queue.
struct Reader {
  std::string bytes;
  std::string error;
  std::thread thread;
  explicit Reader(ChunkQueue& queue, std::size_t stop_after = std::string::npos) {
    thread = std::thread([this, &queue, stop_after] {
      try {
        char buffer[37];  // odd on purpose: reads straddle chunks
        for (std::size_t n; (n = queue.read(buffer, sizeof buffer)) > 0;) {
          bytes.append(buffer, n);
          if (bytes.size() >= stop_after) {
            queue.stop();
            return;
          }
        }
      } catch (const shmstack::Error& e) {
        error = e.what();
      }
    });
  }
  void join() { thread.join(); }
};

std::string pattern(std::size_t size) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i) s[i] = static_cast<char>((i * 7919) % 251);
  return s;
}

struct Run {
  std::vector<std::string> messages;
  std::string root_got, receiver_got, receiver_error;
  std::uint64_t receiver_started = 0;
  shmstack::PumpStats root_stats, receiver_stats;
};

Run stream(const std::string& data, StreamShape shape, std::size_t fail_at = std::string::npos) {
  Run run;
  StringSource source(data, 13, fail_at);
  {
    LoopbackTransport root(&run.messages, true);
    ChunkQueue queue("x", shape.ring);
    Reader reader(queue);
    run.root_stats = shmstack::pump_stream(root, shape, &source, &queue);
    reader.join();
    run.root_got = reader.bytes;
  }
  LoopbackTransport receiver(&run.messages, false);
  ChunkQueue queue("x", shape.ring);
  Reader reader(queue);
  run.receiver_stats = shmstack::pump_stream(receiver, shape, nullptr, &queue);
  reader.join();
  run.receiver_got = reader.bytes;
  run.receiver_error = reader.error;
  run.receiver_started = receiver.started();
  return run;
}

}  // namespace

TEST_CASE("chunk headers round-trip and garbage is refused") {
  std::vector<char> message(shmstack::kHeaderBytes);
  shmstack::ChunkHeader h;
  h.seq = (std::uint64_t{1} << 40) + 3;
  h.length = 4 << 20;
  h.flags = shmstack::ChunkHeader::last;
  shmstack::encode_header(h, message.data());
  shmstack::ChunkHeader back = shmstack::decode_header(message.data());
  CHECK(back.seq == h.seq);
  CHECK(back.length == h.length);
  CHECK(back.flags == h.flags);
  message[0] = 'X';
  CHECK_THROWS_AS(shmstack::decode_header(message.data()), shmstack::Error);
}

TEST_CASE("chunk counts: at least one, exact multiples, and far beyond 2 GiB") {
  CHECK(shmstack::chunks_for(0, 4096) == 1);
  CHECK(shmstack::chunks_for(1, 4096) == 1);
  CHECK(shmstack::chunks_for(4096, 4096) == 1);
  CHECK(shmstack::chunks_for(4097, 4096) == 2);
  CHECK(shmstack::chunks_for(std::uint64_t{5} << 30, 4 << 20) == 1280);
  CHECK(shmstack::chunks_for(std::uint64_t{1} << 42, 1 << 20) == (std::uint64_t{1} << 22));
}

TEST_CASE("the message count rule: known size, open streams, aborts") {
  StreamShape known;
  known.ring = 4;
  known.known_chunks = 10;
  CHECK(shmstack::may_post(known, 9, std::nullopt));
  CHECK_FALSE(shmstack::may_post(known, 10, std::nullopt));
  CHECK(shmstack::may_post(known, 9, 9));  // the last one itself
  CHECK(shmstack::may_post(known, 5, 2));  // an abort at 2: up to 2 + ring - 1
  CHECK_FALSE(shmstack::may_post(known, 6, 2));
  StreamShape open;
  open.ring = 4;
  CHECK(shmstack::may_post(open, 1000000, std::nullopt));
  CHECK(shmstack::may_post(open, 10, 7));  // padding after the last
  CHECK_FALSE(shmstack::may_post(open, 11, 7));
}

TEST_CASE("streams of known size arrive byte for byte, with no padding") {
  for (std::size_t ring : {2u, 4u}) {
    for (std::size_t size : {0u, 1u, 63u, 64u, 65u, 64u * 10 + 3}) {
      StreamShape shape;
      shape.chunk_bytes = 64;
      shape.ring = ring;
      shape.known_chunks = shmstack::chunks_for(size, shape.chunk_bytes);
      std::string data = pattern(size);
      Run run = stream(data, shape);
      CAPTURE(ring);
      CAPTURE(size);
      CHECK(run.messages.size() == shape.known_chunks);
      CHECK(run.receiver_started == run.messages.size());
      CHECK(run.root_got == data);
      CHECK(run.receiver_got == data);
      CHECK(run.receiver_error.empty());
      CHECK(run.receiver_stats.bytes == size);
      for (const std::string& m : run.messages) CHECK(m.size() == shape.message_bytes());
    }
  }
}

TEST_CASE("open streams end at the chunk marked last, then ring-1 padding messages") {
  for (std::size_t ring : {2u, 3u, 8u}) {
    for (std::size_t size : {0u, 64u, 64u * 5 + 1}) {
      StreamShape shape;
      shape.chunk_bytes = 64;
      shape.ring = ring;
      std::string data = pattern(size);
      Run run = stream(data, shape);
      CAPTURE(ring);
      CAPTURE(size);
      std::uint64_t data_messages = size / 64 + 1;  // a full last chunk is followed by an empty one
      CHECK(run.messages.size() == data_messages + ring - 1);
      CHECK(run.receiver_started == run.messages.size());
      CHECK(run.receiver_got == data);
    }
  }
}

TEST_CASE("a source failing mid-stream reaches every install as an abort with its reason") {
  for (std::uint64_t known : {0u, 100u}) {
    StreamShape shape;
    shape.chunk_bytes = 64;
    shape.ring = 3;
    shape.known_chunks = known;
    std::string data = pattern(6400);
    Run run = stream(data, shape, 64 * 4 + 10);
    CAPTURE(known);
    CHECK(run.receiver_error.find("Input/output error") != std::string::npos);
    CHECK(run.receiver_stats.abort_reason.find("cannot read archive 'x'") != std::string::npos);
    CHECK(run.receiver_got == data.substr(0, 64 * 4));  // the chunks before the failing one
    CHECK(run.messages.size() == 4 + 1 + shape.ring - 1);  // not the 100 a known size promised
    CHECK(run.receiver_started == run.messages.size());
  }
}

TEST_CASE("an install that stops early does not stall the stream") {
  StreamShape shape;
  shape.chunk_bytes = 64;
  shape.ring = 2;
  std::string data = pattern(64 * 50);
  std::vector<std::string> messages;
  StringSource source(data, 64);
  LoopbackTransport root(&messages, true);
  ChunkQueue queue("x", shape.ring);
  Reader reader(queue, 100);
  shmstack::PumpStats stats = shmstack::pump_stream(root, shape, &source, &queue);
  reader.join();
  CHECK(stats.bytes == data.size());
  CHECK(reader.bytes.size() < 200);
}

TEST_CASE("the queue hands over pieces in order and holds slots until read") {
  ChunkQueue queue("x", 2);
  std::string a = "hello ", b = "world";
  CHECK(queue.push(0, a.data(), a.size()));
  CHECK(queue.push(1, b.data(), b.size()));
  CHECK(queue.held(0));
  char buffer[8];
  CHECK(queue.read(buffer, 4) == 4);
  CHECK(queue.held(0));
  CHECK(queue.read(buffer, 8) == 2);
  CHECK_FALSE(queue.held(0));
  CHECK(queue.held(1));
  queue.abort("rank 0 could not read");
  CHECK(queue.read(buffer, 8) == 5);  // what arrived before the abort is still read
  CHECK_THROWS_WITH_AS(queue.read(buffer, 8), doctest::Contains("rank 0 could not read"), shmstack::Error);
  queue.stop();
  CHECK_FALSE(queue.push(0, a.data(), a.size()));
}

TEST_CASE("the queue lends pieces in place: a slot stays held until its last hold is dropped") {
  ChunkQueue queue("x", 3);
  std::string a = "first", b = "second", c = "third";
  CHECK(queue.push(0, a.data(), a.size()));
  CHECK(queue.push(1, b.data(), b.size()));
  CHECK(queue.push(2, c.data(), c.size()));
  REQUIRE(queue.lends_pieces());
  auto first = queue.next_piece();
  CHECK(first.data == a.data());  // not a copy
  CHECK(first.size == a.size());
  auto decoding = first.hold;  // e.g. a frame still being decoded
  first = {};
  CHECK(queue.held(0));
  decoding.reset();
  CHECK_FALSE(queue.held(0));
  auto second = queue.next_piece();
  CHECK(std::string(second.data, second.size) == "second");
  // stop() drops what is queued, but a lent piece is still being read.
  queue.stop();
  CHECK(queue.held(1));
  CHECK_FALSE(queue.held(2));
  second = {};
  CHECK_FALSE(queue.held(1));
  CHECK_THROWS_AS(queue.next_piece(), shmstack::Error);
}

TEST_CASE("the pump's idle wait: short while the network holds a slot, long only on the install") {
  using shmstack::idle_pause;
  using shmstack::kFirstPause;
  using shmstack::kInstallPauseCap;
  using shmstack::kNetworkPauseCap;
  CHECK(idle_pause(0, true) == kFirstPause);
  CHECK(idle_pause(0, false) == kFirstPause);
  CHECK(idle_pause(1, true) == 2 * kFirstPause);
  for (unsigned rounds = 0; rounds < 100; ++rounds) {
    CHECK(idle_pause(rounds, true) <= kNetworkPauseCap);
    CHECK(idle_pause(rounds, false) <= kInstallPauseCap);
    CHECK(idle_pause(rounds + 1, true) >= idle_pause(rounds, true));
  }
  CHECK(idle_pause(50, true) == kNetworkPauseCap);
  CHECK(idle_pause(50, false) == kInstallPauseCap);
  CHECK(idle_pause(~0u, true) == kNetworkPauseCap);
  // About one 2 MiB chunk's time on a 12.5 GB/s link (168 us): a forwarding
  // rank sleeps through at most about one chunk (200 us: measured in
  // doc/performance-sim.md against 50 us and the old 1 ms).
  CHECK(kNetworkPauseCap <= std::chrono::microseconds(200));
}

TEST_CASE("the queue's wait for a slot returns as soon as that slot is released") {
  ChunkQueue queue("x", 2);
  queue.wait_release(0, std::chrono::seconds(10));  // not held: at once
  char data[8] = {};
  queue.push(1, data, sizeof data);
  auto start = std::chrono::steady_clock::now();
  std::thread reader([&] {
    char buffer[8];
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK(queue.read(buffer, sizeof buffer) == 8);
  });
  queue.wait_release(1, std::chrono::seconds(10));
  CHECK_FALSE(queue.held(1));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
  reader.join();
}
