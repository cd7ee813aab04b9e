#include "base/log.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdarg>
#include <cstdio>

namespace shmstack::log {
namespace {

std::string g_prefix;
std::atomic<bool> g_verbose{false};

__attribute__((format(printf, 2, 0))) void emit(const char* kind, const char* format, std::va_list args) {
  std::va_list again;
  va_copy(again, args);
  int n = std::vsnprintf(nullptr, 0, format, args);
  std::string body(n > 0 ? static_cast<std::size_t>(n) : 0, '\0');
  if (n > 0) std::vsnprintf(body.data(), body.size() + 1, format, again);
  va_end(again);
  raw(g_prefix + "shmstack: " + kind + body + "\n");
}

}  // namespace

void set_prefix(std::string prefix) { g_prefix = std::move(prefix); }
void set_verbose(bool on) { g_verbose = on; }
bool verbose() { return g_verbose; }

void raw(const std::string& text) {
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) return;  // nowhere left to report to
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

void error(const char* format, ...) {
  std::va_list args;
  va_start(args, format);
  emit("error: ", format, args);
  va_end(args);
}

void warn(const char* format, ...) {
  std::va_list args;
  va_start(args, format);
  emit("warning: ", format, args);
  va_end(args);
}

void info(const char* format, ...) {
  if (!g_verbose) return;
  std::va_list args;
  va_start(args, format);
  emit("", format, args);
  va_end(args);
}

}  // namespace shmstack::log
