// Tests parallel_for: every index runs once, on several threads at a time;
// the error rethrown is the one a loop in order would have stopped at, even
// when a higher index throws first; nothing far past an error starts.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "base/parallel_for.hpp"

using shmstack::parallel_for;

TEST_CASE("parallel_for runs each index once, on as many threads as asked, for any count") {
  for (unsigned threads : {0u, 1u, 3u, 16u}) {
    for (std::size_t count : {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{1000}}) {
      CAPTURE(threads);
      CAPTURE(count);
      std::vector<std::atomic<int>> runs(count);
      std::mutex mutex;
      std::set<std::thread::id> ids;
      parallel_for(count, threads, [&](std::size_t i) {
        ++runs[i];
        std::lock_guard<std::mutex> lock(mutex);
        ids.insert(std::this_thread::get_id());
      });
      for (std::size_t i = 0; i < count; ++i) CHECK(runs[i] == 1);
      CHECK(ids.size() <= std::max<std::size_t>(1, std::min<std::size_t>(threads, count)));
    }
  }
}

TEST_CASE("parallel_for waits on several calls at once (a scan bound by round trips, not cores)") {
  // 4 calls that each wait until all 4 have started: a loop in order, or
  // fewer threads than asked, would never get past the first.
  std::atomic<int> started{0};
  std::atomic<bool> all_met{true};
  parallel_for(4, 4, [&](std::size_t) {
    ++started;
    auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (started < 4 && std::chrono::steady_clock::now() < give_up) std::this_thread::yield();
    if (started < 4) all_met = false;
  });
  CHECK(all_met);
}

TEST_CASE("parallel_for rethrows the lowest index's error, as the loop in order would have") {
  // Index 7 throws at once; index 3 throws only after a while, so 7's error
  // is caught first. A loop in order stops at 3: that is the error to see.
  // Indices past 7 wait for 7 to be about to throw, then take 2 ms each:
  // all 10,000 of them would take seconds, while stopping takes microseconds.
  for (int round = 0; round < 5; ++round) {
    std::vector<std::atomic<int>> runs(10000);
    std::atomic<bool> seven{false};
    try {
      parallel_for(runs.size(), 4, [&](std::size_t i) {
        ++runs[i];
        if (i == 3) {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
          throw std::runtime_error("index 3");
        }
        if (i == 7) {
          seven = true;
          throw std::runtime_error("index 7");
        }
        if (i > 7) {
          while (!seven) std::this_thread::yield();
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
      });
      FAIL("no error");
    } catch (const std::runtime_error& e) {
      CHECK(std::string(e.what()) == "index 3");
    }
    for (std::size_t i = 0; i < 3; ++i) CHECK(runs[i] == 1);  // below the error: all ran
    std::size_t ran_after = 0;
    for (std::size_t i = 8; i < runs.size(); ++i) ran_after += static_cast<std::size_t>(runs[i].load());
    CHECK(ran_after < runs.size() / 2);  // stopped soon after 7 threw, not at the end
  }
}

TEST_CASE("parallel_for on one thread stops at the first error, like the loop it replaces") {
  std::vector<int> runs(10, 0);
  CHECK_THROWS_WITH(parallel_for(runs.size(), 1,
                                 [&](std::size_t i) {
                                   ++runs[i];
                                   if (i >= 4) throw std::runtime_error("at " + std::to_string(i));
                                 }),
                    "at 4");
  CHECK(runs == std::vector<int>{1, 1, 1, 1, 1, 0, 0, 0, 0, 0});
}
