// Writing regular files into a directory, inline or on a pool of threads.
//
// Creating many small files is bound by system calls (open, write, futimens,
// close), not by bandwidth, and tmpfs lets several threads create files at
// once. The extractor hands each small file, with its whole content, to this
// pool. A large file is bound by bandwidth: the extractor creates and sizes
// it (OpenFile), then hands its bytes over as ranges, one job each, that any
// writer writes with pwritev at their offset; whoever ends the file's last
// range sets its mtime and closes it. The parsing thread goes on meanwhile,
// and several large files are written at once. One file's ranges are written
// by one writer at a time with pwritev (OpenFile::write_mutex): tmpfs takes
// the inode lock for every write to a file, and a second writer there spins
// instead of sleeping (on 2 cores 8-27% of the install's CPU time, taken from
// the decoders). With 4 writers or more, a range whose file is being written
// is copied into a mapping of its pages instead: page faults do not take that
// lock, so one large file is written by many writers at once (floors.c's
// `onefile` measures both ways). Jobs are handed over in
// batches (up to kBatchFiles files or kBatchBytes bytes): one queue operation
// and one wake-up per batch instead of per file, and consecutive files --
// usually one directory's -- go to one writer, so writers rarely contend for
// the same directory. Jobs hold their data, so the bytes in flight are capped
// (`max_bytes_in_flight`): submit() blocks beyond it. The first failure is
// kept and rethrown by the next submit() or drain(). With zero threads,
// submit() writes inline.
//
// Files are created with O_EXCL | O_NOFOLLOW relative to the directory fd: a
// file can never be written through a symlink or over an existing file.
#pragma once

#include <sys/stat.h>
#include <time.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/busy_time.hpp"
#include "base/held_bytes.hpp"

namespace shmstack {

// A large file written in ranges by several writers. Created (and sized) by
// the extractor, which holds it open until it has handed over every range;
// the last release() -- of a range or of the extractor's hold -- sets the
// mtime and closes it. After a failure nobody finishes it: the destructor
// closes the descriptor (the staging directory is removed anyway).
class OpenFile {
 public:
  OpenFile(int fd, std::string path, timespec mtime) : fd_(fd), path_(std::move(path)), mtime_(mtime) {}
  ~OpenFile();
  OpenFile(const OpenFile&) = delete;
  OpenFile& operator=(const OpenFile&) = delete;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  // Held while writing a range: tmpfs serialises writes to one file on its
  // inode lock, and a second writer would spin there instead of sleeping.
  std::mutex& write_mutex() { return write_mutex_; }
  // One more range on its way to the writers.
  void hold() { pending_.fetch_add(1, std::memory_order_relaxed); }
  // A range is written, or the extractor has handed over the last one.
  void release(const std::string& shown_dir);

 private:
  int fd_;
  std::string path_;
  timespec mtime_;
  std::mutex write_mutex_;
  std::atomic<std::size_t> pending_{1};  // the extractor's own hold
};

struct FileJob {
  // A run of the file's bytes: in a decoded chunk (shared, not copied) or in
  // the job's own buffer.
  using Piece = HeldBytes;
  // A small file lies in one decoded chunk, or straddles two.
  static constexpr std::size_t kMaxPieces = 2;

  std::string path;  // relative to the directory fd
  mode_t mode = 0644;
  timespec mtime{0, UTIME_OMIT};
  std::array<Piece, kMaxPieces> pieces;
  std::size_t piece_count = 0;
  std::size_t size = 0;  // of all pieces
  // Set for a range of a large file: the pieces go to `file` at `offset`
  // (path, mode and mtime are the file's, not the job's).
  std::shared_ptr<OpenFile> file;
  std::uint64_t offset = 0;

  // Appends a piece; false (and nothing changes) when there is no room.
  bool add(const char* data, std::size_t n, const std::shared_ptr<const void>& hold) {
    if (piece_count == kMaxPieces) return false;
    pieces[piece_count++] = {data, n, hold};
    size += n;
    return true;
  }
  // Replaces the content with the job's own buffer of `n` bytes (not
  // zero-initialised) to fill.
  char* allocate(std::size_t n) {
    std::shared_ptr<char[]> buffer(new char[n]);
    pieces = {};
    pieces[0] = {buffer.get(), n, buffer};
    piece_count = 1;
    size = n;
    return buffer.get();
  }
};

// Opens `path` under `dirfd` as a new file (O_EXCL|O_NOFOLLOW), for reading too:
// a large file's ranges may be copied into a mapping of it.
int create_file(int dirfd, const std::string& path, mode_t mode, const std::string& shown_dir);
void write_at(int fd, const char* data, std::size_t size, std::uint64_t offset,
              const std::string& path, const std::string& shown_dir);
// Sets mtime (when given) and closes, reporting errors of both.
void finish_file(int fd, const timespec& mtime, const std::string& path, const std::string& shown_dir);

class FileWriterPool {
 public:
  FileWriterPool(int dirfd, std::string shown_dir, unsigned threads, std::size_t max_bytes_in_flight);
  ~FileWriterPool();
  FileWriterPool(const FileWriterPool&) = delete;
  FileWriterPool& operator=(const FileWriterPool&) = delete;

  void submit(FileJob&& job);
  // Hands any batch still being gathered to the writers (without waiting).
  void flush();
  void drain();
  // For -v: seconds the writers spent writing (summed over them), and seconds
  // the submitting thread waited for room (the cap on bytes in flight).
  double write_seconds() const { return write_time_.seconds(); }
  double wait_seconds() const { return wait_time_.seconds(); }

 private:
  using Batch = std::vector<FileJob>;
  void work();
  void write_job(const FileJob& job);
  void write_range(const FileJob& job);
  void check_failed();

  Batch pending_;  // filled by the submitting thread only
  std::size_t pending_bytes_ = 0;
  int dirfd_;
  std::string shown_dir_;
  std::size_t max_bytes_;
  bool map_when_busy_;  // enough writers to copy into mappings rather than wait
  std::size_t bytes_ = 0;
  std::size_t busy_ = 0;
  bool stopping_ = false;
  std::exception_ptr error_;
  std::atomic<bool> failed_{false};  // error_ is set: lets submit() check without locking
  std::deque<std::pair<Batch, std::size_t>> queue_;  // batch and its bytes
  std::mutex mutex_;
  std::condition_variable work_cv_, space_cv_;
  BusyTime write_time_;
  BusyTime wait_time_;
  std::vector<std::thread> threads_;
};

}  // namespace shmstack
