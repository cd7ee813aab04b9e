// Reading the tree's files for the tar stream, and reading small ones ahead.
//
// The tar stream is one thread: it writes the entries in the walk's order. For
// a stack of many small files its own open/read/close calls are the largest
// part of its work (sci-env: 0.16 of its 0.27 busy seconds), and once the
// compressors have cores enough that thread is what bounds pack. ReadAhead's
// helper threads open and read the small files (up to kMaxReadAheadFile each)
// in the walk's order, at most `budget` bytes ahead of the stream; take(i)
// hands entry i's bytes to the stream, waiting for them if need be. Larger
// files, and every file when there are no helpers, the stream reads itself.
// A helper's failure (cannot open, a file that shrank or grew) is kept with
// the entry and thrown by take(), so errors come in the walk's order, as they
// would without helpers.
//
// Reservations follow the walk's order and a reserved entry is always read,
// so the entry take() waits for is either being read or reserved next: the
// stream never waits on the budget.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "archive/walk.hpp"
#include "base/busy_time.hpp"

namespace shmstack {

// One of the tree's files, read as pack reads it: exactly the size its walk
// entry promised. A file that changed size since the walk is an error (the
// archive would contradict its manifest).
class SourceFile {
 public:
  SourceFile(std::string path, std::uint64_t size);  // opens it (O_NOFOLLOW)
  ~SourceFile();
  SourceFile(const SourceFile&) = delete;
  SourceFile& operator=(const SourceFile&) = delete;
  // Reads the next bytes, at most `max` and at most what is left: their count
  // (0 once all are read). Throws if the file ends early.
  std::size_t read(char* into, std::size_t max);
  // Throws if the file holds more than promised.
  void expect_end();
  std::uint64_t left() const { return left_; }

 private:
  std::string path_;
  std::uint64_t left_;
  int fd_;
};

inline constexpr std::uint64_t kMaxReadAheadFile = std::uint64_t{1} << 20;

class ReadAhead {
 public:
  // `threads` helpers (0: none, take() always says "read it yourself").
  ReadAhead(std::string root, const std::vector<WalkEntry>& entries, unsigned threads, std::size_t budget);
  ~ReadAhead();
  ReadAhead(const ReadAhead&) = delete;
  ReadAhead& operator=(const ReadAhead&) = delete;

  // Entry i's bytes when a helper reads it, else nothing: the caller reads it.
  // Entries are taken in increasing order. Throws what the helper hit.
  std::optional<std::vector<char>> take(std::size_t i);
  unsigned threads() const { return static_cast<unsigned>(threads_.size()); }
  // For -v: seconds take() waited for a helper.
  double wait_seconds() const { return wait_time_.seconds(); }

 private:
  struct Slot {
    bool done = false;
    std::vector<char> bytes;
    std::exception_ptr error;
  };
  bool is_candidate(std::size_t i) const;
  std::size_t next_candidate(std::size_t from) const;
  void work();

  std::string root_;
  const std::vector<WalkEntry>& entries_;
  std::size_t budget_;
  std::vector<Slot> slots_;
  std::size_t next_ = 0;   // the next entry to reserve
  std::size_t ahead_ = 0;  // bytes reserved and not yet taken
  bool stopping_ = false;
  std::mutex mutex_;
  std::condition_variable reserve_cv_, done_cv_;
  BusyTime wait_time_;
  std::vector<std::thread> threads_;
};

}  // namespace shmstack
