#include "base/cancel.hpp"

#include <atomic>
#include <csignal>

#include "base/error.hpp"

namespace shmstack {
namespace {

std::atomic<int> g_signal{0};
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs a lock-free flag");

extern "C" void on_signal(int signal_number) {
  int expected = 0;
  g_signal.compare_exchange_strong(expected, signal_number);
}

}  // namespace

void install_signal_handlers() {
  struct sigaction action{};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: blocking calls return EINTR
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

int cancel_signal() { return g_signal.load(); }
bool cancel_requested() { return g_signal.load() != 0; }

void check_cancelled() {
  if (int s = g_signal.load()) throw Interrupted(s);
}

void request_cancel(int signal_number) { on_signal(signal_number); }

}  // namespace shmstack
