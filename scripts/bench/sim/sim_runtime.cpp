// runtime.hpp for the SimGrid SMPI build (replaces src/bcast/runtime.cpp):
// a pause is simulated time passing for this actor, and a slot is SMPI
// shared memory beyond its first page, so a message's header (kHeaderBytes)
// travels for real while its payload costs neither memory nor copies.
#include <simgrid/actor.h>
#include <smpi/smpi.h>

#include <algorithm>
#include <cstdlib>
#include <new>

#include "bcast/runtime.hpp"

namespace shmstack::runtime {
namespace {
constexpr std::size_t kPrivateBytes = 4096;  // page-aligned: holds the header
bool shared() {
  static bool on = std::getenv("SIM_PRIVATE_SLOTS") == nullptr;
  return on;
}
}

// SIM_PAUSE_CAP_US (an experiment, not shmstack's behaviour): no pause longer
// than that, to see what the pump's poll pauses (up to 1 ms in chunk_stream,
// 2 ms in mpi_comm) cost.
double pause_cap() {
  static const char* cap = std::getenv("SIM_PAUSE_CAP_US");
  static double seconds = cap ? std::strtod(cap, nullptr) * 1e-6 : 1e9;
  return seconds;
}

void pause_for(std::chrono::microseconds duration) {
  sg_actor_sleep_for(std::min(pause_cap(), static_cast<double>(duration.count()) * 1e-6));
}

char* allocate_slot(std::size_t bytes) {
  void* slot = nullptr;
  if (shared() && bytes > kPrivateBytes) {
    std::size_t shared[2] = {kPrivateBytes, bytes};
    slot = SMPI_PARTIAL_SHARED_MALLOC(bytes, shared, 1);
  } else {
    slot = ::operator new(bytes);
  }
  if (!slot) throw std::bad_alloc();
  return static_cast<char*>(slot);
}

void free_slot(char* slot, std::size_t bytes) {
  if (shared() && bytes > kPrivateBytes) {
    SMPI_SHARED_FREE(slot);
  } else {
    ::operator delete(slot);
  }
}

}  // namespace shmstack::runtime
