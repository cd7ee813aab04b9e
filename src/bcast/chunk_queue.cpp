#include "bcast/chunk_queue.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "base/cancel.hpp"
#include "base/error.hpp"

namespace shmstack {

ChunkQueue::ChunkQueue(std::string name, std::size_t slots, std::uint64_t size_hint)
    : name_(std::move(name)), size_hint_(size_hint), holds_(slots, 0) {}

bool ChunkQueue::push(std::size_t slot, const char* data, std::size_t size) {
  std::lock_guard lock(mutex_);
  if (stopped_) return false;
  if (size == 0) return true;
  ++holds_.at(slot);
  pieces_.push_back({slot, data, size});
  arrived_.notify_one();
  return true;
}

bool ChunkQueue::held(std::size_t slot) const {
  std::lock_guard lock(mutex_);
  return holds_.at(slot) > 0;
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

void ChunkQueue::wait_release(std::size_t slot, std::chrono::microseconds timeout) {
  std::unique_lock lock(mutex_);
  released_.wait_for(lock, timeout, [&] { return holds_.at(slot) == 0; });
}

void ChunkQueue::stop() {
  std::lock_guard lock(mutex_);
  stopped_ = true;
  // Lent pieces stay held until their holders let go (the install's
  // threads, about to unwind): their bytes may still be being decoded.
  for (const Queued& piece : pieces_) --holds_[piece.slot];
  pieces_.clear();
  arrived_.notify_all();
  released_.notify_all();
}

bool ChunkQueue::wait_piece(std::unique_lock<std::mutex>& lock) {
  for (;;) {
    if (stopped_) throw Error("cannot receive " + quote(name_), "reading was stopped");
    if (!pieces_.empty()) return true;
    if (!abort_reason_.empty()) throw Error("cannot receive " + quote(name_), abort_reason_);
    if (finished_) return false;
    check_cancelled();
    arrived_.wait_for(lock, std::chrono::milliseconds(100));
  }
}

std::size_t ChunkQueue::read(char* buffer, std::size_t capacity) {
  std::unique_lock lock(mutex_);
  if (!wait_piece(lock)) return 0;
  Queued& piece = pieces_.front();
  std::size_t n = std::min(capacity, piece.size);
  std::memcpy(buffer, piece.data, n);
  piece.data += n;
  piece.size -= n;
  if (piece.size == 0) {
    --holds_[piece.slot];
    pieces_.pop_front();
    released_.notify_all();
  }
  return n;
}

ByteSource::Piece ChunkQueue::next_piece() {
  std::unique_lock lock(mutex_);
  if (!wait_piece(lock)) return {};
  Queued piece = pieces_.front();
  pieces_.pop_front();
  lock.unlock();  // (release() locks, and runs here if making the hold fails)
  // The queue's hold on the slot passes to the borrower.
  std::shared_ptr<const void> hold(piece.data, [this, slot = piece.slot](const void*) { release(slot); });
  return {piece.data, piece.size, std::move(hold)};
}

void ChunkQueue::release(std::size_t slot) {
  std::lock_guard lock(mutex_);
  --holds_[slot];
  released_.notify_all();
}

}  // namespace shmstack
