// Template implementation of ChunkPipeline; included by chunk_pipeline.hpp only.
#pragma once

#include <chrono>

#include "base/cancel.hpp"
#include "base/error.hpp"

namespace shmstack {

template <class Chunk>
ChunkPipeline<Chunk>::ChunkPipeline(unsigned workers, std::size_t depth, Transform transform)
    : transform_(std::move(transform)) {
  if (depth == 0) depth = 1;
  for (std::size_t i = 0; i < depth; ++i) {
    storage_.push_back(std::make_unique<Chunk>());
    free_.push_back(storage_.back().get());
  }
  for (unsigned i = 0; i < workers; ++i) threads_.emplace_back([this] { work(); });
}

template <class Chunk>
ChunkPipeline<Chunk>::~ChunkPipeline() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  for (auto& t : threads_) t.join();
}

template <class Chunk>
template <class Ready>
void ChunkPipeline<Chunk>::wait(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                                Ready ready) {
  while (!ready()) {
    if (error_) std::rethrow_exception(error_);
    if (cancel_requested()) {
      error_ = std::make_exception_ptr(Interrupted(cancel_signal()));
      free_cv_.notify_all();
      work_cv_.notify_all();
      done_cv_.notify_all();
      std::rethrow_exception(error_);
    }
    cv.wait_for(lock, std::chrono::milliseconds(100));
  }
  if (error_) std::rethrow_exception(error_);
}

template <class Chunk>
Chunk& ChunkPipeline<Chunk>::acquire() {
  std::unique_lock lock(mutex_);
  wait(lock, free_cv_, [&] { return !free_.empty(); });
  Chunk* chunk = free_.back();
  free_.pop_back();
  return *chunk;
}

template <class Chunk>
void ChunkPipeline<Chunk>::submit(Chunk& chunk) {
  {
    std::lock_guard lock(mutex_);
    chunk.seq = next_submit_++;
    if (!threads_.empty()) {
      queue_.push_back(&chunk);
      work_cv_.notify_one();
      return;
    }
  }
  try {
    transform_(chunk);
  } catch (...) {
    fail(std::current_exception());
    throw;
  }
  finish_one(chunk);
}

template <class Chunk>
void ChunkPipeline<Chunk>::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  done_cv_.notify_all();
}

template <class Chunk>
void ChunkPipeline<Chunk>::finish_one(Chunk& chunk) {
  std::lock_guard lock(mutex_);
  done_.emplace(chunk.seq, &chunk);
  done_cv_.notify_all();
}

template <class Chunk>
void ChunkPipeline<Chunk>::work() {
  for (;;) {
    Chunk* chunk = nullptr;
    {
      std::unique_lock lock(mutex_);
      work_cv_.wait(lock, [&] { return stopping_ || error_ || !queue_.empty(); });
      if (stopping_ || error_) return;
      chunk = queue_.front();
      queue_.pop_front();
    }
    try {
      transform_(*chunk);
    } catch (...) {
      fail(std::current_exception());
      return;
    }
    finish_one(*chunk);
  }
}

template <class Chunk>
Chunk* ChunkPipeline<Chunk>::next() {
  std::unique_lock lock(mutex_);
  wait(lock, done_cv_, [&] {
    return done_.count(next_deliver_) != 0 || (closed_ && next_deliver_ == next_submit_);
  });
  auto it = done_.find(next_deliver_);
  if (it == done_.end()) return nullptr;
  Chunk* chunk = it->second;
  done_.erase(it);
  ++next_deliver_;
  return chunk;
}

template <class Chunk>
void ChunkPipeline<Chunk>::release(Chunk& chunk) {
  std::lock_guard lock(mutex_);
  free_.push_back(&chunk);
  free_cv_.notify_one();
}

template <class Chunk>
void ChunkPipeline<Chunk>::fail(std::exception_ptr error) {
  {
    std::lock_guard lock(mutex_);
    if (!error_) error_ = std::move(error);
  }
  free_cv_.notify_all();
  work_cv_.notify_all();
  done_cv_.notify_all();
}

template <class Chunk>
void ChunkPipeline<Chunk>::guard(const std::function<void()>& body) {
  try {
    body();
  } catch (...) {
    fail(std::current_exception());
  }
}

}  // namespace shmstack
