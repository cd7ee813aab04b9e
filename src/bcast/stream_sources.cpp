#include "bcast/stream_sources.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "base/cancel.hpp"
#include "base/error.hpp"

namespace shmstack {

std::size_t ReplaySource::read(char* buffer, std::size_t capacity) {
  if (recording_) {
    std::size_t n = inner_->read(buffer, capacity);
    recorded_.append(buffer, n);
    return n;
  }
  if (!recorded_.empty()) {
    std::size_t n = std::min(capacity, recorded_.size() - replayed_);
    std::memcpy(buffer, recorded_.data() + replayed_, n);
    replayed_ += n;
    if (replayed_ == recorded_.size()) std::string().swap(recorded_);
    return n;
  }
  return inner_->read(buffer, capacity);
}

void ReplaySource::rewind() {
  if (!recording_) throw Error("cannot rewind " + quote(name()), "it has been rewound already");
  recording_ = false;
}

void BytePipe::write(const char* data, std::size_t size) {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (stopped_) throw Error("cannot send " + quote(name_), "the broadcast stopped reading");
    if (held_ < capacity_) break;
    check_cancelled();
    changed_.wait_for(lock, std::chrono::milliseconds(100));
  }
  blocks_.emplace_back(data, size);
  held_ += size;
  changed_.notify_all();
}

void BytePipe::commit() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  changed_.notify_all();
}

void BytePipe::fail(std::exception_ptr error) {
  std::lock_guard lock(mutex_);
  error_ = std::move(error);
  closed_ = true;
  changed_.notify_all();
}

void BytePipe::interrupt() {
  std::lock_guard lock(mutex_);
  stopped_ = true;
  changed_.notify_all();
}

std::size_t BytePipe::read(char* buffer, std::size_t capacity) {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (stopped_) throw Error("cannot read " + quote(name_), "reading was stopped");
    if (!blocks_.empty()) break;
    if (error_) std::rethrow_exception(error_);
    if (closed_) return 0;
    check_cancelled();
    changed_.wait_for(lock, std::chrono::milliseconds(100));
  }
  std::string& block = blocks_.front();
  std::size_t n = std::min(capacity, block.size() - front_used_);
  std::memcpy(buffer, block.data() + front_used_, n);
  front_used_ += n;
  held_ -= n;
  if (front_used_ == block.size()) {
    blocks_.pop_front();
    front_used_ = 0;
  }
  changed_.notify_all();
  return n;
}

}  // namespace shmstack
