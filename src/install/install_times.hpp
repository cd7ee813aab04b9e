// Where an install's time went, and the one line -v prints of it (unpack -v,
// and bcast -v for each node). Plain data: the broadcast carries it from every
// node to rank 0, and the SimGrid simulation links this file alone.
#pragma once

#include <string>

namespace shmstack {

// Where an install's time went (-v): the parser's thread, and each pool's
// busy time summed over its threads.
struct InstallTimes {
  double total = 0;        // wall time of the extraction (the parser's thread)
  double wait_decode = 0;  // ...of which waiting for the next decoded chunk
  double wait_write = 0;   // ...and waiting for room among the writers
  double pool_wait = 0;    // the frame reader waiting for a free chunk (all held)
  double decode = 0;       // verifying and decoding frames, summed over the workers
  double write = 0;        // writing files, summed over the writers
};

// One line for -v, e.g. "1.23 s: tar parsing and dispatch 0.40 s, waiting for
// decoded data 0.30 s (the frame reader waited 0.25 s for a free chunk), for
// the writers 0.53 s; busy decoding 2.10 s and writing 4.00 s, summed over 4 +
// 4 threads". For another tool's archive decompression is part of parsing.
std::string describe_times(const InstallTimes& times, unsigned threads);

}  // namespace shmstack
