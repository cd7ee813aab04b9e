#include "install/file_writer.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

#include "base/cancel.hpp"
#include "base/error.hpp"

namespace shmstack {
namespace {

[[noreturn]] void write_error(const char* op, const std::string& path, const std::string& dir) {
  int saved = errno;
  throw_system_error(std::string(op) + " " + quote(path) + " in " + quote(dir), saved);
}

// A job's pieces as the iovec array writev/pwritev take.
struct PieceVector {
  explicit PieceVector(const FileJob& job) : end(iov + job.piece_count) {
    for (std::size_t i = 0; i < job.piece_count; ++i)
      iov[i] = {const_cast<char*>(job.pieces[i].data), job.pieces[i].size};
  }
  iovec iov[FileJob::kMaxPieces];
  iovec* next = iov;
  iovec* end;
};

// Writes `left` bytes of `pieces`: at *offset (pwritev) when given, else at the
// file position; a short write goes on where it stopped. Returns 0 or the errno
// of the failure (the caller closes what it owns).
int write_all(int fd, PieceVector& pieces, std::size_t left, std::uint64_t* offset) {
  while (left > 0) {
    int count = static_cast<int>(pieces.end - pieces.next);
    ssize_t n = offset ? ::pwritev(fd, pieces.next, count, static_cast<off_t>(*offset))
                       : ::writev(fd, pieces.next, count);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    left -= static_cast<std::size_t>(n);
    if (offset) *offset += static_cast<std::uint64_t>(n);
    // Step past what was written (a short write may end inside a piece).
    for (auto done = static_cast<std::size_t>(n); done > 0 && pieces.next != pieces.end;) {
      std::size_t step = std::min(done, pieces.next->iov_len);
      pieces.next->iov_base = static_cast<char*>(pieces.next->iov_base) + step;
      pieces.next->iov_len -= step;
      done -= step;
      if (pieces.next->iov_len == 0) ++pieces.next;
    }
  }
  return 0;
}

// From this many writers on, a range whose file another writer is writing is
// copied into a mapping instead of waiting its turn (below that, the cores
// are better spent decoding than on page faults: a mapping costs about twice
// a write per byte, floors.c's `onefile`).
constexpr unsigned kMapWriters = 4;

// Copies a range's pieces into a shared mapping of its pages, populated first
// with MADV_POPULATE_WRITE (a full tmpfs is then an error, not a SIGBUS).
// False when that cannot be done (a kernel before 5.14, no room, a descriptor
// not open for reading): the caller writes the range instead, and the write
// reports what is wrong.
bool copy_into_mapping(int fd, const FileJob& job) {
  static std::atomic<bool> unsupported{false};
  static const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  if (job.size == 0 || unsupported.load(std::memory_order_relaxed)) return false;
  std::uint64_t start = job.offset / page * page;
  auto length = static_cast<std::size_t>(job.offset + job.size - start);
  void* map = ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, static_cast<off_t>(start));
  if (map == MAP_FAILED) return false;
  bool populated = ::madvise(map, length, MADV_POPULATE_WRITE) == 0;
  if (!populated && errno == EINVAL) unsupported.store(true, std::memory_order_relaxed);
  if (populated) {
    char* at = static_cast<char*>(map) + (job.offset - start);
    for (std::size_t i = 0; i < job.piece_count; ++i) {
      std::memcpy(at, job.pieces[i].data, job.pieces[i].size);
      at += job.pieces[i].size;
    }
  }
  ::munmap(map, length);
  return populated;
}

}  // namespace

OpenFile::~OpenFile() {
  if (fd_ >= 0) ::close(fd_);
}

void OpenFile::release(const std::string& shown_dir) {
  if (pending_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  int fd = std::exchange(fd_, -1);
  finish_file(fd, mtime_, path_, shown_dir);
}

int create_file(int dirfd, const std::string& path, mode_t mode, const std::string& shown_dir) {
  int fd = ::openat(dirfd, path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) write_error("cannot create", path, shown_dir);
  return fd;
}

void write_at(int fd, const char* data, std::size_t size, std::uint64_t offset,
              const std::string& path, const std::string& shown_dir) {
  while (size > 0) {
    ssize_t n = ::pwrite(fd, data, size, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) {
        check_cancelled();
        continue;
      }
      ::close(fd);
      write_error("cannot write", path, shown_dir);
    }
    data += n;
    size -= static_cast<std::size_t>(n);
    offset += static_cast<std::uint64_t>(n);
  }
}

void finish_file(int fd, const timespec& mtime, const std::string& path, const std::string& shown_dir) {
  if (mtime.tv_nsec != UTIME_OMIT) {
    timespec times[2] = {{0, UTIME_OMIT}, mtime};
    if (::futimens(fd, times) != 0) {
      ::close(fd);
      write_error("cannot set the mtime of", path, shown_dir);
    }
  }
  if (::close(fd) != 0) write_error("cannot write", path, shown_dir);
}

FileWriterPool::FileWriterPool(int dirfd, std::string shown_dir, unsigned threads,
                               std::size_t max_bytes_in_flight)
    : dirfd_(dirfd), shown_dir_(std::move(shown_dir)), max_bytes_(max_bytes_in_flight),
      map_when_busy_(threads >= kMapWriters) {
  for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
}

FileWriterPool::~FileWriterPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void FileWriterPool::write_job(const FileJob& job) {
  if (job.file) {
    write_range(job);
    return;
  }
  int fd = create_file(dirfd_, job.path, job.mode, shown_dir_);
  PieceVector pieces(job);
  if (int error = write_all(fd, pieces, job.size, nullptr)) {
    ::close(fd);
    errno = error;
    write_error("cannot write", job.path, shown_dir_);
  }
  finish_file(fd, job.mtime, job.path, shown_dir_);
}

void FileWriterPool::write_range(const FileJob& job) {
  OpenFile& file = *job.file;
  std::unique_lock turn(file.write_mutex(), std::try_to_lock);
  if (turn.owns_lock() || !map_when_busy_ || !copy_into_mapping(file.fd(), job)) {
    if (!turn.owns_lock()) turn.lock();
    PieceVector pieces(job);
    std::uint64_t offset = job.offset;
    if (int error = write_all(file.fd(), pieces, job.size, &offset)) {
      errno = error;
      write_error("cannot write", file.path(), shown_dir_);
    }
    turn.unlock();
  }
  file.release(shown_dir_);
}

void FileWriterPool::check_failed() {
  if (error_) std::rethrow_exception(error_);
  check_cancelled();
}

namespace {
constexpr std::size_t kBatchFiles = 64;
constexpr std::size_t kBatchBytes = std::size_t{1} << 20;
}  // namespace

void FileWriterPool::submit(FileJob&& job) {
  if (threads_.empty()) {
    check_cancelled();
    BusyTime::Span busy(write_time_);
    write_job(job);
    return;
  }
  if (failed_ || cancel_requested()) {
    std::lock_guard lock(mutex_);
    check_failed();
  }
  pending_bytes_ += job.size;
  pending_.push_back(std::move(job));
  if (pending_.size() >= kBatchFiles || pending_bytes_ >= kBatchBytes) flush();
}

void FileWriterPool::flush() {
  if (pending_.empty()) return;
  std::unique_lock lock(mutex_);
  if (bytes_ != 0 && bytes_ + pending_bytes_ > max_bytes_) {
    BusyTime::Span waiting(wait_time_);
    for (;;) {
      check_failed();
      if (bytes_ == 0 || bytes_ + pending_bytes_ <= max_bytes_) break;
      space_cv_.wait_for(lock, std::chrono::milliseconds(100));
    }
  }
  check_failed();
  bytes_ += pending_bytes_;
  queue_.emplace_back(std::move(pending_), pending_bytes_);
  pending_ = Batch();
  pending_bytes_ = 0;
  work_cv_.notify_one();
}

void FileWriterPool::drain() {
  flush();
  std::unique_lock lock(mutex_);
  if (queue_.empty() && busy_ == 0) return check_failed();
  BusyTime::Span waiting(wait_time_);
  for (;;) {
    check_failed();
    if (queue_.empty() && busy_ == 0) return;
    space_cv_.wait_for(lock, std::chrono::milliseconds(100));
  }
}

void FileWriterPool::work() {
  std::unique_lock lock(mutex_);
  for (;;) {
    work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    auto [batch, bytes] = std::move(queue_.front());
    queue_.pop_front();
    ++busy_;
    bool skip = error_ != nullptr;  // after a failure, jobs are only discarded
    lock.unlock();
    std::exception_ptr failed;
    {
      BusyTime::Span busy(write_time_);
      for (const FileJob& job : batch) {
        if (skip || failed) break;
        try {
          write_job(job);
        } catch (...) {
          failed = std::current_exception();
        }
      }
    }
    batch.clear();
    lock.lock();
    --busy_;
    bytes_ -= bytes;
    if (failed && !error_) {
      error_ = failed;
      failed_ = true;
    }
    space_cv_.notify_all();
  }
}

}  // namespace shmstack
