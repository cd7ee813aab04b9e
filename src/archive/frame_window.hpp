// Where the frames of a shmstack archive lie while they are carved out: a
// window of contiguous bytes over whatever the archive comes from.
//
// Three sources, three windows, one interface (at(), available(), skip(),
// more(), lend()):
//  - a mapped file: every byte is in view and stays where it is, so each
//    frame is lent to the decoder where it lies;
//  - a read() stream: bytes are read into a buffer that holds the largest
//    frame; frames are copied into their chunk (lend() is null);
//  - a source that lends its buffers (bcast's ring slots): frames are used
//    where they lie, and only a frame that straddles two pieces is assembled,
//    from exactly the bytes the frame scan asks for.
// The sniffed prefix (the bytes TarReader read to recognise the format) is
// the start of every window. `consumed` counts the archive bytes taken from
// the source (for progress).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "archive/byte_source.hpp"
#include "archive/lz4_frames.hpp"

namespace shmstack {

// The most bytes one frame and its trailer may take: more is a corrupt or
// hostile archive, refused before anything is buffered for it.
inline const std::size_t kMaxFrameBytes = 2 * lz4::encoded_bound(lz4::kMaxFrameContent);

// Where the frame decoder finds frames: `available()` contiguous bytes at `at()`, the
// archive's bytes from `offset()` on.
class FrameWindow {
 public:
  virtual ~FrameWindow() = default;
  const char* at() const { return at_; }
  std::size_t available() const { return available_; }
  std::uint64_t offset() const { return offset_; }
  virtual void skip(std::size_t n) {
    at_ += n;
    available_ -= n;
    offset_ += n;
  }
  // Makes at least `need` bytes available; false if the archive ends first.
  virtual bool more(std::size_t need) = 0;
  // Keeps the bytes at at() (up to available()) valid after the window moves
  // on; null when they must be copied instead.
  virtual std::shared_ptr<const void> lend() const = 0;

 protected:
  const char* at_ = nullptr;
  std::size_t available_ = 0;
  std::uint64_t offset_ = 0;
};

// The window that suits `source`: mapped, lent pieces, or read.
std::unique_ptr<FrameWindow> open_frame_window(ByteSource& source, const std::vector<char>& prefix,
                                               std::atomic<std::uint64_t>& consumed);

}  // namespace shmstack
