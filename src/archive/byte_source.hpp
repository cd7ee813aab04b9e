// Where archive bytes come from: a sequential pull interface.
//
// unpack reads a file; bcast feeds the same engine from MPI chunks. A source
// only ever moves forward; it reports its name for messages. Two sources can
// do without the copy read() makes: a regular file is mapped whole
// (in_place()), and bcast's ring lends each received chunk where it lies
// (next_piece()).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "base/held_bytes.hpp"
#include "archive/mapped_file.hpp"

namespace shmstack {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Fills up to `capacity` bytes; returns 0 only at the end. Throws Error.
  virtual std::size_t read(char* buffer, std::size_t capacity) = 0;
  // The archive's name in messages (its path).
  virtual const std::string& name() const = 0;
  // Total size if known (for progress), else 0.
  virtual std::uint64_t size_hint() const { return 0; }
  // Asks a read() blocked in another thread to give up soon (it throws).
  virtual void interrupt() {}
  // All of the source at once, to be used in place instead of read() (a
  // regular file, mapped), or nullptr. Valid as long as the source.
  virtual InPlaceBytes* in_place() { return nullptr; }

  // Bytes where they lie in a buffer of the source's (size 0: the end).
  using Piece = HeldBytes;
  // Does the source lend its buffers (next_piece()) instead of copying?
  virtual bool lends_pieces() const { return false; }
  // The next bytes, lent: they stay valid (and the buffer is not reused)
  // while the hold is kept. Only for sources that lend_pieces().
  virtual Piece next_piece() { return {}; }
};

// Reads an archive file. Anything but a regular file (a FIFO, a device, a
// directory) is refused when it is opened, at once: opening a FIFO would
// otherwise wait for a writer forever (and hang the Slurm hooks), and reading
// one could stall the same way.
class FileSource final : public ByteSource {
 public:
  explicit FileSource(const std::string& path);
  ~FileSource() override;
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;
  std::size_t read(char* buffer, std::size_t capacity) override;
  const std::string& name() const override { return path_; }
  std::uint64_t size_hint() const override { return size_; }
  std::int64_t mtime_ns() const { return mtime_ns_; }
  void interrupt() override { interrupted_ = true; }
  // The file mapped, when it is not empty and can be mapped (else reads go
  // through read()).
  InPlaceBytes* in_place() override;

 private:
  std::unique_ptr<MappedFile> mapping_;
  bool map_tried_ = false;
  std::atomic<bool> interrupted_{false};
  std::string path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
  std::int64_t mtime_ns_ = 0;
};

}  // namespace shmstack
