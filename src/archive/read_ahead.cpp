#include "archive/read_ahead.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <utility>

#include "base/cancel.hpp"
#include "base/error.hpp"
#include "base/regular_file.hpp"

namespace shmstack {

SourceFile::SourceFile(std::string path, std::uint64_t size)
    : path_(std::move(path)), left_(size), fd_(open_regular_or_throw(path_, O_NOFOLLOW)) {}

SourceFile::~SourceFile() { ::close(fd_); }

std::size_t SourceFile::read(char* into, std::size_t max) {
  std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(left_, max));
  if (want == 0) return 0;
  for (;;) {
    ssize_t n = ::read(fd_, into, want);
    if (n < 0 && errno == EINTR) {
      check_cancelled();
      continue;
    }
    if (n < 0) throw_errno("cannot read", path_);
    if (n == 0) throw Error("cannot pack " + quote(path_), "file shrank while it was being packed");
    left_ -= static_cast<std::uint64_t>(n);
    return static_cast<std::size_t>(n);
  }
}

void SourceFile::expect_end() {
  char probe;
  if (::read(fd_, &probe, 1) > 0) throw Error("cannot pack " + quote(path_), "file grew while it was being packed");
}

ReadAhead::ReadAhead(std::string root, const std::vector<WalkEntry>& entries, unsigned threads, std::size_t budget)
    : root_(std::move(root)), entries_(entries), budget_(std::max<std::size_t>(budget, kMaxReadAheadFile)) {
  if (threads == 0) return;
  slots_.resize(entries_.size());
  next_ = next_candidate(0);
  for (unsigned t = 0; t < threads; ++t) threads_.emplace_back([this] { work(); });
}

ReadAhead::~ReadAhead() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  reserve_cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

bool ReadAhead::is_candidate(std::size_t i) const {
  return entries_[i].type == WalkEntry::Type::file && entries_[i].size <= kMaxReadAheadFile;
}

std::size_t ReadAhead::next_candidate(std::size_t from) const {
  while (from < entries_.size() && !is_candidate(from)) ++from;
  return from;
}

void ReadAhead::work() {
  std::unique_lock lock(mutex_);
  for (;;) {
    reserve_cv_.wait(lock, [&] {
      return stopping_ || next_ == entries_.size() || ahead_ + entries_[next_].size <= budget_;
    });
    if (stopping_ || next_ == entries_.size()) return;
    std::size_t i = next_;
    next_ = next_candidate(i + 1);
    ahead_ += entries_[i].size;
    lock.unlock();
    Slot slot;
    try {
      const WalkEntry& e = entries_[i];
      SourceFile file(root_ + "/" + e.path, e.size);
      slot.bytes.resize(static_cast<std::size_t>(e.size));
      for (std::size_t got = 0; got < slot.bytes.size();) got += file.read(slot.bytes.data() + got, slot.bytes.size() - got);
      file.expect_end();
    } catch (...) {
      slot.error = std::current_exception();
    }
    slot.done = true;
    lock.lock();
    slots_[i] = std::move(slot);
    done_cv_.notify_all();
  }
}

std::optional<std::vector<char>> ReadAhead::take(std::size_t i) {
  if (threads_.empty() || !is_candidate(i)) return std::nullopt;
  std::unique_lock lock(mutex_);
  if (!slots_[i].done) {
    BusyTime::Span waiting(wait_time_);
    while (!slots_[i].done) {
      done_cv_.wait_for(lock, std::chrono::milliseconds(100));
      check_cancelled();
    }
  }
  Slot slot = std::move(slots_[i]);
  ahead_ -= entries_[i].size;
  lock.unlock();
  reserve_cv_.notify_all();
  if (slot.error) std::rethrow_exception(slot.error);
  return std::move(slot.bytes);
}

}  // namespace shmstack
