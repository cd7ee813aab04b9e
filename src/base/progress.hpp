// A one-line progress bar on stderr, drawn only when stderr is a terminal.
//
// advance() may be called often from one thread; the bar is redrawn at most
// ten times a second, in one write (log::raw). done() clears the line.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace shmstack {

class Progress {
 public:
  Progress(std::string label, std::uint64_t total, bool enabled);
  ~Progress();
  void advance(std::uint64_t amount);
  void done();
  // True when stderr is a terminal and progress was not turned off.
  static bool wanted(bool quiet);

 private:
  void draw(bool force);
  std::string label_;
  std::uint64_t total_;
  std::uint64_t current_ = 0;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

std::string human_bytes(std::uint64_t bytes);

}  // namespace shmstack
