// Byte sources that rank 0 of a broadcast reads from.
//
// ReplaySource: rank 0 must know an archive's manifest (its first entry)
// before the broadcast starts, yet read the archive only once. While
// planning, it records what the tar reader pulls from the file (the manifest
// is the first entry, so this is at most a few MiB: the reader's bounded
// read-ahead); rewind() then serves the recorded bytes before the rest of
// the file.
//
// BytePipe: `bcast DIR` packs on the fly. A pack thread writes the archive
// into the pipe (a ByteSink), the broadcast reads it (a ByteSource); the pipe
// holds at most about `capacity` bytes (one write more), so packing never runs ahead of the
// broadcast, and no archive file exists anywhere. The writer's failure is
// passed on to the reader (fail()); a reader that stops early unblocks the
// writer (interrupt()).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <string>

#include "archive/byte_sink.hpp"
#include "archive/byte_source.hpp"

namespace shmstack {

class ReplaySource final : public ByteSource {
 public:
  explicit ReplaySource(std::unique_ptr<ByteSource> inner) : inner_(std::move(inner)) {}
  std::size_t read(char* buffer, std::size_t capacity) override;
  const std::string& name() const override { return inner_->name(); }
  std::uint64_t size_hint() const override { return inner_->size_hint(); }
  // While recording, a blocked read is a read of a regular file: it ends soon.
  void interrupt() override {
    if (!recording_) inner_->interrupt();
  }
  void rewind();
  std::uint64_t recorded() const { return recorded_.size(); }

 private:
  std::unique_ptr<ByteSource> inner_;
  bool recording_ = true;
  std::string recorded_;
  std::size_t replayed_ = 0;
};

class BytePipe final : public ByteSource, public ByteSink {
 public:
  BytePipe(std::string name, std::size_t capacity) : name_(std::move(name)), capacity_(capacity) {}
  // Writer side.
  void write(const char* data, std::size_t size) override;
  void commit() override;  // the end of the stream
  void fail(std::exception_ptr error);
  // Reader side.
  std::size_t read(char* buffer, std::size_t capacity) override;
  const std::string& name() const override { return name_; }
  void interrupt() override;

 private:
  std::string name_;
  std::size_t capacity_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::string> blocks_;  // written pieces, in order
  std::size_t front_used_ = 0;      // bytes of blocks_.front() already read
  std::size_t held_ = 0;
  bool closed_ = false;
  bool stopped_ = false;
  std::exception_ptr error_;
};

}  // namespace shmstack
