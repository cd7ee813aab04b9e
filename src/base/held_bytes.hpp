// Bytes that lie in someone else's buffer, and the hold that keeps them there.
//
// The install engine avoids copying: a received chunk lent by bcast's ring, a
// decoded chunk handed to a file writer. Whoever keeps `hold` keeps the bytes
// valid (and the buffer from being reused); dropping the last hold gives the
// buffer back (a shared_ptr whose deleter returns it to its owner).
#pragma once

#include <cstddef>
#include <memory>

namespace shmstack {

struct HeldBytes {
  const char* data = nullptr;
  std::size_t size = 0;
  std::shared_ptr<const void> hold;
};

}  // namespace shmstack
