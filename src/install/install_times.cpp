#include "install/install_times.hpp"

#include <algorithm>
#include <cstdio>

namespace shmstack {

std::string describe_times(const InstallTimes& t, unsigned threads) {
  char line[320];
  std::snprintf(line, sizeof line,
                "%.2f s: tar parsing and dispatch %.2f s, waiting for decoded data %.2f s (the frame reader waited "
                "%.2f s for a free chunk), for the writers %.2f s; busy decoding %.2f s and writing %.2f s, summed "
                "over %u + %u threads",
                t.total, std::max(0.0, t.total - t.wait_decode - t.wait_write), t.wait_decode, t.pool_wait,
                t.wait_write, t.decode, t.write, threads, threads);
  return line;
}

}  // namespace shmstack
