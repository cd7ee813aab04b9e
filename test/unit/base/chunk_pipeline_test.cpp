// Tests ChunkPipeline: ordering, transforms, the bounded pool, failure propagation, with 0, 1 and 4 workers.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "base/chunk_pipeline.hpp"

namespace {

using namespace std::chrono_literals;

struct TestChunk : shmstack::ChunkBase {
  std::uint64_t input = 0;
  std::uint64_t output = 0;
  std::uint64_t seq_seen_by_transform = ~std::uint64_t{0};
};

using Pipeline = shmstack::ChunkPipeline<TestChunk>;

std::uint64_t expected_output(std::uint64_t input) { return input * input + 7; }

// A transform that takes between 0 and ~700 us, differently for each chunk,
// so that with several workers later chunks often finish first.
void slow_square(TestChunk& chunk) {
  std::uint64_t mix = (chunk.input + 1) * 0x9E3779B97F4A7C15ull;
  std::this_thread::sleep_for(std::chrono::microseconds((mix >> 40) % 700));
  chunk.seq_seen_by_transform = chunk.seq;
  chunk.output = expected_output(chunk.input);
}

std::string message_of(const std::exception_ptr& error) {
  if (!error) return "<no exception>";
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "<not a std::exception>";
  }
}

// Waits up to two seconds for `ready()`; true if it became true.
template <class Ready>
bool eventually(Ready ready) {
  auto deadline = std::chrono::steady_clock::now() + 2s;
  while (!ready() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  return ready();
}

bool eventually(const std::atomic<bool>& flag) {
  return eventually([&] { return flag.load(); });
}

// How long a blocked thread is given to show that it is not blocked after all.
constexpr auto kSettle = 30ms;

}  // namespace

TEST_CASE("chunks come out in submit order with correct results") {
  for (unsigned workers : {0u, 1u, 4u}) {
    CAPTURE(workers);
    const std::uint64_t count = 300;
    Pipeline pipeline(workers, 6, slow_square);
    CHECK(pipeline.workers() == workers);
    std::exception_ptr producer_error;
    std::thread producer([&] {
      try {
        for (std::uint64_t i = 0; i < count; ++i) {
          TestChunk& chunk = pipeline.acquire();
          chunk.input = i;
          chunk.output = 0;
          pipeline.submit(chunk);
        }
        pipeline.close();
      } catch (...) {
        producer_error = std::current_exception();
        pipeline.fail(producer_error);
      }
    });
    std::uint64_t delivered = 0;
    std::uint64_t out_of_order = 0;
    std::uint64_t wrong = 0;
    while (TestChunk* chunk = pipeline.next()) {
      if (chunk->input != delivered || chunk->seq != delivered) ++out_of_order;
      if (chunk->output != expected_output(chunk->input) || chunk->seq_seen_by_transform != chunk->seq) ++wrong;
      ++delivered;
      pipeline.release(*chunk);
    }
    producer.join();
    CHECK(message_of(producer_error) == "<no exception>");
    CHECK(delivered == count);
    CHECK(out_of_order == 0);
    CHECK(wrong == 0);
    CHECK(pipeline.next() == nullptr);
  }
}

TEST_CASE("at most depth chunks are outstanding and the producer blocks") {
  for (unsigned workers : {0u, 1u, 4u}) {
    CAPTURE(workers);
    const std::size_t depth = 3;
    const std::uint64_t count = 40;
    Pipeline pipeline(workers, depth, slow_square);
    std::atomic<std::uint64_t> acquired{0};
    std::atomic<std::uint64_t> released{0};
    std::atomic<std::uint64_t> most_outstanding{0};
    std::set<const TestChunk*> addresses;  // only touched by the producer until it is joined
    std::thread producer([&] {
      pipeline.guard([&] {
        for (std::uint64_t i = 0; i < count; ++i) {
          TestChunk& chunk = pipeline.acquire();
          addresses.insert(&chunk);
          std::uint64_t outstanding = ++acquired - released.load();
          if (outstanding > most_outstanding.load()) most_outstanding = outstanding;
          chunk.input = i;
          pipeline.submit(chunk);
        }
        pipeline.close();
      });
    });

    // A slow consumer: the producer fills the pool, then waits in acquire().
    CHECK(eventually([&] { return acquired.load() >= depth; }));
    std::this_thread::sleep_for(kSettle);
    CHECK(acquired.load() == depth);
    std::uint64_t delivered = 0;
    while (TestChunk* chunk = pipeline.next()) {
      CHECK(chunk->input == delivered);
      ++delivered;
      if (delivered % 10 == 0) std::this_thread::sleep_for(5ms);
      ++released;
      pipeline.release(*chunk);
    }
    producer.join();
    CHECK(delivered == count);
    CHECK(most_outstanding.load() <= depth);
    CHECK(addresses.size() == depth);
  }
}

TEST_CASE("releasing one chunk lets a blocked producer go on") {
  for (unsigned workers : {0u, 1u, 4u}) {
    CAPTURE(workers);
    Pipeline pipeline(workers, 2, slow_square);
    std::atomic<int> acquired{0};
    std::atomic<bool> got_third{false};
    std::thread producer([&] {
      pipeline.guard([&] {
        for (int i = 0; i < 3; ++i) {
          TestChunk& chunk = pipeline.acquire();
          ++acquired;
          chunk.input = static_cast<std::uint64_t>(i);
          pipeline.submit(chunk);
        }
        got_third = true;
        pipeline.close();
      });
    });
    CHECK(eventually([&] { return acquired.load() >= 2; }));
    std::this_thread::sleep_for(kSettle);
    CHECK(acquired.load() == 2);
    CHECK_FALSE(got_third.load());
    TestChunk* first = pipeline.next();
    REQUIRE(first != nullptr);
    CHECK(first->input == 0);
    pipeline.release(*first);
    CHECK(eventually(got_third));
    int rest = 0;
    while (TestChunk* chunk = pipeline.next()) {
      ++rest;
      pipeline.release(*chunk);
    }
    producer.join();
    CHECK(rest == 2);
  }
}

TEST_CASE("an exception from a transform reaches next() and the producer") {
  for (unsigned workers : {0u, 1u, 4u}) {
    CAPTURE(workers);
    constexpr std::uint64_t bad = 5;
    auto transform = [](TestChunk& chunk) {
      if (chunk.input == bad) throw std::runtime_error("transform failed on chunk 5");
      slow_square(chunk);
    };
    Pipeline pipeline(workers, 4, transform);
    std::exception_ptr producer_error;
    std::atomic<bool> producer_done{false};
    std::thread producer([&] {
      try {
        for (std::uint64_t i = 0; i < 1000; ++i) {
          TestChunk& chunk = pipeline.acquire();
          chunk.input = i;
          pipeline.submit(chunk);
        }
        pipeline.close();
      } catch (...) {
        producer_error = std::current_exception();
      }
      producer_done = true;
    });
    std::vector<std::uint64_t> delivered;
    std::string consumer_error;
    try {
      while (TestChunk* chunk = pipeline.next()) {
        delivered.push_back(chunk->input);
        pipeline.release(*chunk);
      }
    } catch (const std::runtime_error& e) {
      consumer_error = e.what();
    }
    CHECK(consumer_error == "transform failed on chunk 5");
    CHECK(delivered.size() <= bad);
    for (std::size_t i = 0; i < delivered.size(); ++i) CHECK(delivered[i] == i);
    CHECK(eventually(producer_done));
    producer.join();
    CHECK(message_of(producer_error) == "transform failed on chunk 5");
    CHECK_THROWS_WITH_AS(pipeline.acquire(), "transform failed on chunk 5", std::runtime_error);
    CHECK_THROWS_WITH_AS(pipeline.next(), "transform failed on chunk 5", std::runtime_error);
  }
}

TEST_CASE("close() with nothing submitted ends the stream at once") {
  for (unsigned workers : {0u, 1u, 4u}) {
    CAPTURE(workers);
    Pipeline pipeline(workers, 2, slow_square);
    std::thread producer([&] { pipeline.close(); });
    CHECK(pipeline.next() == nullptr);
    producer.join();
    CHECK(pipeline.next() == nullptr);
  }
}

TEST_CASE("fail() from the consumer unblocks a producer waiting in acquire()") {
  for (unsigned workers : {0u, 1u, 4u}) {
    CAPTURE(workers);
    Pipeline pipeline(workers, 2, slow_square);
    std::atomic<int> acquired{0};
    std::atomic<bool> producer_done{false};
    std::exception_ptr producer_error;
    std::thread producer([&] {
      try {
        for (std::uint64_t i = 0;; ++i) {
          TestChunk& chunk = pipeline.acquire();
          ++acquired;
          chunk.input = i;
          pipeline.submit(chunk);
        }
      } catch (...) {
        producer_error = std::current_exception();
      }
      producer_done = true;
    });
    CHECK(eventually([&] { return acquired.load() >= 2; }));
    std::this_thread::sleep_for(kSettle);
    CHECK(acquired.load() == 2);
    CHECK_FALSE(producer_done.load());
    pipeline.fail(std::make_exception_ptr(std::runtime_error("the sink is full")));
    CHECK(eventually(producer_done));
    producer.join();
    CHECK(message_of(producer_error) == "the sink is full");
    CHECK_THROWS_WITH_AS(pipeline.next(), "the sink is full", std::runtime_error);
  }
}

TEST_CASE("the first failure is kept and guard() reports an escaping exception") {
  Pipeline pipeline(2, 2, slow_square);
  pipeline.guard([] { throw std::runtime_error("first"); });
  pipeline.fail(std::make_exception_ptr(std::runtime_error("second")));
  pipeline.guard([] { throw std::runtime_error("third"); });
  CHECK_THROWS_WITH_AS(pipeline.next(), "first", std::runtime_error);
  CHECK_THROWS_WITH_AS(pipeline.acquire(), "first", std::runtime_error);
}
