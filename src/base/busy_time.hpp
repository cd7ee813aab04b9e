// Time spent in one stage of a pipeline, summed over its threads, for -v.
//
// A stage adds each piece of work it timed (Span measures a scope); readers
// take the total at the end. Relaxed atomics: these are counters, they order
// nothing. Costs one clock read at each end of a span: time whole chunks or
// batches, not single files.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace shmstack {

class BusyTime {
 public:
  void add(std::chrono::steady_clock::duration d) {
    ns_.fetch_add(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count()),
                  std::memory_order_relaxed);
  }
  double seconds() const { return static_cast<double>(ns_.load(std::memory_order_relaxed)) / 1e9; }

  // Adds the time from its construction to its destruction.
  class Span {
   public:
    explicit Span(BusyTime& into) : into_(into), start_(std::chrono::steady_clock::now()) {}
    ~Span() { into_.add(std::chrono::steady_clock::now() - start_); }
    Span(const Span&) = delete;
    Span& operator=(const Span&) = delete;

   private:
    BusyTime& into_;
    std::chrono::steady_clock::time_point start_;
  };

 private:
  std::atomic<std::uint64_t> ns_{0};
};

}  // namespace shmstack
