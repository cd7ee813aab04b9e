#include "chunk_queue.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "cancel.hpp"
#include "error.hpp"

namespace shmstack {

ChunkQueue::ChunkQueue(std::string name, std::size_t slots, std::uint64_t size_hint)
    : name_(std::move(name)), size_hint_(size_hint), held_(slots, false) {}

bool ChunkQueue::push(std::size_t slot, const char* data, std::size_t size) {
  std::lock_guard lock(mutex_);
  if (stopped_) return false;
  if (size == 0) return true;
  held_.at(slot) = true;
  pieces_.push_back({slot, data, size});
  arrived_.notify_one();
  return true;
}

bool ChunkQueue::held(std::size_t slot) const {
  std::lock_guard lock(mutex_);
  return held_.at(slot);
}

void ChunkQueue::finish() {
  std::lock_guard lock(mutex_);
  finished_ = true;
  arrived_.notify_one();
}

void ChunkQueue::abort(const std::string& why) {
  std::lock_guard lock(mutex_);
  finished_ = true;
  abort_reason_ = why.empty() ? std::string("the sender stopped") : why;
  arrived_.notify_one();
}

void ChunkQueue::wait_release(std::chrono::microseconds timeout) {
  std::unique_lock lock(mutex_);
  released_.wait_for(lock, timeout);
}

void ChunkQueue::stop() {
  std::lock_guard lock(mutex_);
  stopped_ = true;
  pieces_.clear();
  std::fill(held_.begin(), held_.end(), false);
  arrived_.notify_all();
  released_.notify_all();
}

std::size_t ChunkQueue::read(char* buffer, std::size_t capacity) {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (stopped_) throw Error("cannot receive " + quote(name_), "reading was stopped");
    if (!pieces_.empty()) break;
    if (!abort_reason_.empty()) throw Error("cannot receive " + quote(name_), abort_reason_);
    if (finished_) return 0;
    check_cancelled();
    arrived_.wait_for(lock, std::chrono::milliseconds(100));
  }
  Piece& piece = pieces_.front();
  std::size_t n = std::min(capacity, piece.size);
  std::memcpy(buffer, piece.data, n);
  piece.data += n;
  piece.size -= n;
  if (piece.size == 0) {
    held_[piece.slot] = false;
    pieces_.pop_front();
    released_.notify_all();
  }
  return n;
}

}  // namespace shmstack
