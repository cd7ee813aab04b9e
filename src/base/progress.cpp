#include "base/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "base/log.hpp"

namespace shmstack {

std::string human_bytes(std::uint64_t bytes) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

Progress::Progress(std::string label, std::uint64_t total, bool enabled)
    : label_(std::move(label)), total_(total), enabled_(enabled) {
  start_ = last_ = std::chrono::steady_clock::now();
}

Progress::~Progress() { done(); }

bool Progress::wanted(bool quiet) { return !quiet && ::isatty(STDERR_FILENO); }

void Progress::advance(std::uint64_t amount) {
  current_ += amount;
  if (enabled_) draw(false);
}

void Progress::draw(bool force) {
  auto now = std::chrono::steady_clock::now();
  if (!force && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  double seconds = std::chrono::duration<double>(now - start_).count();
  double fraction = total_ ? std::min(1.0, static_cast<double>(current_) / static_cast<double>(total_)) : 0;
  constexpr int width = 30;
  int filled = static_cast<int>(fraction * width);
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.append(static_cast<std::size_t>(width - filled), '.');
  char line[256];
  std::snprintf(line, sizeof line, "\r%s [%s] %3.0f%% %s %s/s ", label_.c_str(), bar.c_str(), fraction * 100,
                human_bytes(current_).c_str(),
                human_bytes(seconds > 0 ? static_cast<std::uint64_t>(static_cast<double>(current_) / seconds) : 0)
                    .c_str());
  log::raw(line);
  drawn_ = true;
}

void Progress::done() {
  if (!drawn_) return;
  log::raw("\r\033[K");
  drawn_ = false;
}

}  // namespace shmstack
