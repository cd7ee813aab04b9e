#include "archive/mapped_file.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <mutex>

#include "base/error.hpp"

namespace shmstack {
namespace {

// The live mappings, for the SIGBUS handler: lock-free, fixed size.
struct Slot {
  std::atomic<std::uintptr_t> begin{0};
  std::atomic<std::uintptr_t> end{0};
  std::atomic<bool> vanished{false};
};
constexpr int kSlots = 16;
Slot g_slots[kSlots];
struct sigaction g_previous{};
static_assert(std::atomic<std::uintptr_t>::is_always_lock_free, "the SIGBUS handler needs lock-free slots");

extern "C" void on_sigbus(int signal_number, siginfo_t* info, void* context) {
  auto addr = reinterpret_cast<std::uintptr_t>(info->si_addr);
  for (Slot& slot : g_slots) {
    std::uintptr_t begin = slot.begin.load();
    if (begin <= 1 || addr < begin || addr >= slot.end.load()) continue;  // 0: free, 1: reserved
    auto page_size = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
    void* page = reinterpret_cast<void*>(addr & ~(page_size - 1));
    // The page is past the file's new end: read zeros from here on.
    if (::mmap(page, page_size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED) {
      slot.vanished = true;
      return;
    }
    break;
  }
  // Not ours (or no memory for the zero page): what would have happened anyway.
  if (g_previous.sa_flags & SA_SIGINFO) {
    g_previous.sa_sigaction(signal_number, info, context);
  } else if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN) {
    g_previous.sa_handler(signal_number);
  } else {
    ::signal(SIGBUS, SIG_DFL);  // returning re-runs the access, which now kills
  }
}

void install_sigbus_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction action{};
    action.sa_sigaction = on_sigbus;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_SIGINFO;
    ::sigaction(SIGBUS, &action, &g_previous);
  });
}

std::size_t page_size() { return static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)); }

}  // namespace

MappedFile::MappedFile(int fd, std::uint64_t size, const std::string& path) : size_(static_cast<std::size_t>(size)) {
  if (size == 0 || size != size_) throw Error("cannot map " + quote(path), "unsupported size");
  install_sigbus_handler();
  for (int i = 0; i < kSlots && slot_ < 0; ++i) {
    std::uintptr_t free = 0;
    if (g_slots[i].begin.compare_exchange_strong(free, 1)) slot_ = i;  // 1: reserved, matches nothing
  }
  if (slot_ < 0) throw Error("cannot map " + quote(path), "too many mapped archives");
  void* data = ::mmap(nullptr, size_, PROT_READ, MAP_SHARED, fd, 0);
  if (data == MAP_FAILED) {
    int saved = errno;
    g_slots[slot_].begin = 0;
    throw_system_error("cannot map " + quote(path), saved);
  }
  data_ = static_cast<const char*>(data);
  ::madvise(data, size_, MADV_SEQUENTIAL);
  Slot& slot = g_slots[slot_];
  slot.vanished = false;
  slot.end = reinterpret_cast<std::uintptr_t>(data_) + size_;
  slot.begin = reinterpret_cast<std::uintptr_t>(data_);
}

MappedFile::~MappedFile() {
  g_slots[slot_].begin = 1;  // no longer matched by the handler, still reserved
  ::munmap(const_cast<char*>(data_), size_);
  g_slots[slot_].begin = 0;
}

bool MappedFile::vanished() const { return g_slots[slot_].vanished.load(); }

void MappedFile::done_before(std::uint64_t offset) {
  // In steps of 8 MiB: few system calls, and the mapped pages this process
  // holds (its RSS) stay bounded however large the archive.
  constexpr std::size_t kStep = std::size_t{8} << 20;
  std::size_t end = static_cast<std::size_t>(std::min<std::uint64_t>(offset, size_)) & ~(page_size() - 1);
  if (end < released_ + kStep) return;
  ::madvise(const_cast<char*>(data_) + released_, end - released_, MADV_DONTNEED);
  released_ = end;
}

}  // namespace shmstack
