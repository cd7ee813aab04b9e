// An archive file mapped read-only, so that unpack uses its frames where they
// lie instead of copying them twice (kernel -> read buffer -> chunk).
//
// A mapping has one hazard read() does not: if the file is truncated while it
// is mapped, touching a page past the new end raises SIGBUS, which would kill
// the process before it could remove its staging directory. The SIGBUS
// handler installed here turns that into an ordinary error: for a fault inside
// a live mapping it maps a zero page over the faulting page, marks the mapping
// `vanished`, and returns, so the access reads zeros. Readers check vanished()
// before trusting what they read (every frame is hash-checked as well, and
// zeros fail the check). A SIGBUS anywhere else keeps its default action.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace shmstack {

// Bytes a reader may use where they lie, instead of read()ing them into a
// buffer: a mapped file, or (in tests and the fuzzer) a block of memory.
class InPlaceBytes {
 public:
  virtual ~InPlaceBytes() = default;
  virtual std::string_view bytes() const = 0;
  // Did some of the bytes vanish since (the file shrank)? They read as zeros.
  virtual bool vanished() const { return false; }
  // Bytes before `offset` will not be touched again (their pages may go).
  virtual void done_before(std::uint64_t) {}
};

class MappedFile final : public InPlaceBytes {
 public:
  // Maps the first `size` (> 0) bytes of `fd`. Throws Error naming `path`.
  MappedFile(int fd, std::uint64_t size, const std::string& path);
  ~MappedFile() override;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::string_view bytes() const override { return {data_, size_}; }
  bool vanished() const override;
  void done_before(std::uint64_t offset) override;

 private:
  const char* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t released_ = 0;  // pages before this were dropped
  int slot_ = -1;             // in the SIGBUS handler's table
};

}  // namespace shmstack
