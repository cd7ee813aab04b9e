// What the data phase needs from the machine it runs on, and nothing else:
// a way to wait without spinning a core, and memory for the ring's slots.
//
// This is the seam between the production broadcast and its simulation.
// runtime.cpp (linked into shmstack) sleeps the calling thread and allocates
// ordinary memory; scripts/bench/sim/sim_runtime.cpp (linked into the SimGrid
// SMPI build of the same chunk_stream / mpi_comm / mpi_transport sources)
// advances simulated time instead and hands out SMPI shared memory, so that
// thousands of simulated nodes do not each hold real chunk buffers.
#pragma once

#include <chrono>
#include <cstddef>

namespace shmstack::runtime {

// Lets `duration` pass without using the CPU (a poll loop's pause).
void pause_for(std::chrono::microseconds duration);

// A slot buffer of `bytes` (the first kHeaderBytes are always real memory);
// released with free_slot(). Throws std::bad_alloc when there is none.
char* allocate_slot(std::size_t bytes);
void free_slot(char* slot, std::size_t bytes);

}  // namespace shmstack::runtime
