#pragma once

// parallel_for: a loop over indices on a few threads, that fails as the loop
// in order would. Pack's scans open thousands of small files; on a parallel
// file system each open is a round trip to a metadata server, so they wait on
// the network, not the CPU, and more threads than cores still help.
//
// Indices are handed out in ascending order from one counter; each call of
// fn(i) writes only what belongs to i, so results need no lock. When fn
// throws, no index above the lowest one that threw starts any more; those
// below it run to their end, and the exception of the lowest index is the
// one rethrown: the error a serial loop would have stopped at.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace shmstack {

// Calls fn(i) for each i in [0, count) on up to `threads` threads, the
// calling one among them (0 counts as 1). Returns when every started call
// has returned; rethrows as described above.
template <typename Fn>
void parallel_for(std::size_t count, unsigned threads, Fn&& fn) {
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> failed_at{count};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto work = [&] {
    for (std::size_t i = next++; i < failed_at.load(); i = next++) {
      try {
        fn(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (i < failed_at.load()) {
          failed_at = i;
          error = std::current_exception();
        }
      }
    }
  };
  std::size_t helpers = std::min<std::size_t>(std::max(1u, threads), count);
  std::vector<std::thread> pool;
  try {
    for (std::size_t t = 1; t < helpers; ++t) pool.emplace_back(work);
  } catch (const std::system_error&) {
    // No more threads to be had: the ones started, and this one, do it all.
  }
  work();
  for (std::thread& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace shmstack
