// The two things the simulation models instead of running them:
//
//  - ModelInstall: a node's install as a ChunkSink that decodes and writes
//    at `rate` bytes/s, one chunk after another (rate 0: instantly). A slot
//    is held until its bytes are "written", so a slow install pushes back on
//    the ring exactly as ChunkQueue does. It also checks what the real
//    install would notice: chunks come in order, into the slot they were
//    sent in, and the stream ends with finish().
//  - ModelSource: the archive at rank 0, `bytes` long, read without touching
//    the buffer (the payload is SMPI shared memory: no real bytes).
// Times are simulated (simgrid_get_clock).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "archive/byte_source.hpp"
#include "bcast/chunk_sink.hpp"

namespace shmstack::sim {

double now();

class ModelInstall final : public ChunkSink {
 public:
  ModelInstall(std::size_t ring, double rate) : rate_(rate), release_(ring, 0.0) {}
  bool push(std::size_t slot, const char* data, std::size_t size) override;
  bool held(std::size_t slot) const override;
  void finish() override;
  void abort(const std::string& why) override;
  void wait_release(std::size_t slot, std::chrono::microseconds timeout) override;
  void stop() override { stopped_ = true; }

  std::uint64_t bytes() const { return bytes_; }
  std::uint64_t pieces() const { return pieces_; }
  bool in_order() const { return in_order_; }
  bool finished() const { return finished_; }
  double first_at() const { return first_at_; }  // first chunk handed over
  double done_at() const { return done_at_; }    // last byte written
  const std::string& abort_reason() const { return abort_reason_; }
  const std::vector<double>& push_times() const { return push_times_; }  // when each chunk was handed over

 private:
  double rate_;
  std::vector<double> release_;  // per slot: when its bytes are written
  double busy_until_ = 0;
  std::uint64_t bytes_ = 0;
  std::uint64_t pieces_ = 0;
  bool in_order_ = true;
  bool finished_ = false;
  bool stopped_ = false;
  double first_at_ = -1;
  double done_at_ = -1;
  std::string abort_reason_;
  std::vector<double> push_times_;
};

class ModelSource final : public ByteSource {
 public:
  explicit ModelSource(std::uint64_t bytes) : left_(bytes) {}
  std::size_t read(char*, std::size_t capacity) override;
  const std::string& name() const override { return name_; }
  std::uint64_t size_hint() const override { return left_; }

 private:
  std::uint64_t left_;
  std::string name_ = "modelled archive";
};

}  // namespace shmstack::sim
