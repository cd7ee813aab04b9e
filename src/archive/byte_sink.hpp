// Where a packed archive goes: a sequential write interface.
//
// FileSink never leaves half-written output under the final name: it writes
// "<path>.tmp.<pid>" beside the target and renames it in commit(); if commit()
// is never reached (an error, a signal), the destructor unlinks the
// temporary. With `replace` false, commit() refuses (Error) to replace a file
// that exists by then, atomically where the file system can (RENAME_NOREPLACE).
// bcast DIR streams the same bytes into MPI instead.
#pragma once

#include <cstddef>
#include <string>

namespace shmstack {

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual void write(const char* data, std::size_t size) = 0;
  virtual void commit() = 0;
};

class FileSink final : public ByteSink {
 public:
  explicit FileSink(std::string path, bool replace = true);
  ~FileSink() override;
  FileSink(const FileSink&) = delete;
  FileSink& operator=(const FileSink&) = delete;
  void write(const char* data, std::size_t size) override;
  void commit() override;
  const std::string& temp_path() const { return temp_; }

 private:
  std::string path_;
  std::string temp_;
  int fd_ = -1;
  bool replace_ = true;
  bool committed_ = false;
};

}  // namespace shmstack
