// A bounded, ordered pipeline of chunks: producer -> parallel workers -> consumer.
//
// This is the shape pigz uses, and both pack and unpack are built on it:
//
//   producer (one thread)      workers (N threads)        consumer (one thread)
//   acquire() a free chunk --> transform(chunk) -------->  next() in sequence order
//   fill chunk.in, submit()    (compress, or verify and    use chunk.out, release()
//                               decompress)                 back to the free pool
//
// Ownership: a chunk is owned by exactly one side at a time: the free pool, the
// producer (between acquire and submit), the work queue, a worker, the done set,
// or the consumer (between next and release). Back-pressure comes from the pool:
// there are `depth` chunks in all, so the producer blocks in acquire() when the
// consumer falls behind and memory stays bounded whatever the stream's length.
// Sequence numbers are given at submit(); next() hands chunks out strictly in
// that order however the workers finish.
//
// With `workers == 0` the transform runs inline inside submit(), on the
// producer's thread: the same logic, serially (-j 1), and it is tested.
//
// Failure: the first exception from any side is kept; fail() wakes every
// waiter, after which acquire() and next() rethrow it. SIGINT/SIGTERM are
// noticed within 100 ms by every wait (cancel.hpp).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace shmstack {

template <class Chunk>
class ChunkPipeline {
 public:
  using Transform = std::function<void(Chunk&)>;

  ChunkPipeline(unsigned workers, std::size_t depth, Transform transform);
  ~ChunkPipeline();
  ChunkPipeline(const ChunkPipeline&) = delete;
  ChunkPipeline& operator=(const ChunkPipeline&) = delete;

  // Producer side.
  Chunk& acquire();
  void submit(Chunk& chunk);
  void close();  // no more chunks will be submitted

  // Consumer side: the next chunk in order, or nullptr once closed and drained.
  Chunk* next();
  void release(Chunk& chunk);

  // Either side (or a helper thread) reports a failure; everyone stops.
  void fail(std::exception_ptr error);
  // Runs `body` and turns an escaping exception into fail().
  void guard(const std::function<void()>& body);

  unsigned workers() const { return static_cast<unsigned>(threads_.size()); }
  std::size_t depth() const { return storage_.size(); }

 private:
  void work();
  void finish_one(Chunk& chunk);
  template <class Ready>
  void wait(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, Ready ready);

  Transform transform_;
  std::vector<std::unique_ptr<Chunk>> storage_;
  std::vector<Chunk*> free_;
  std::deque<Chunk*> queue_;
  std::map<std::uint64_t, Chunk*> done_;
  std::uint64_t next_submit_ = 0;
  std::uint64_t next_deliver_ = 0;
  bool closed_ = false;
  bool stopping_ = false;
  std::exception_ptr error_;
  std::mutex mutex_;
  std::condition_variable free_cv_, work_cv_, done_cv_;
  std::vector<std::thread> threads_;
};

// Chunks must derive from (or contain the fields of) this base: the pipeline
// stamps the sequence number.
struct ChunkBase {
  std::uint64_t seq = 0;
};

}  // namespace shmstack

#include "base/chunk_pipeline_impl.hpp"
