#include "bcast/runtime.hpp"

#include <new>
#include <thread>

namespace shmstack::runtime {

void pause_for(std::chrono::microseconds duration) { std::this_thread::sleep_for(duration); }

char* allocate_slot(std::size_t bytes) { return new char[bytes]; }

void free_slot(char* slot, std::size_t) { delete[] slot; }

}  // namespace shmstack::runtime
