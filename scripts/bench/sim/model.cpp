#include "model.hpp"

#include "bcast/runtime.hpp"

#include <simgrid/actor.h>
#include <simgrid/engine.h>

#include <algorithm>

namespace shmstack::sim {

double now() { return simgrid_get_clock(); }

bool ModelInstall::push(std::size_t slot, const char*, std::size_t size) {
  if (stopped_) return false;
  if (finished_ || slot != pieces_ % release_.size()) in_order_ = false;
  double t = now();
  if (first_at_ < 0) first_at_ = t;
  push_times_.push_back(t);
  busy_until_ = std::max(busy_until_, t) + (rate_ > 0 ? static_cast<double>(size) / rate_ : 0.0);
  release_.at(slot) = busy_until_;
  bytes_ += size;
  ++pieces_;
  return true;
}

bool ModelInstall::held(std::size_t slot) const { return now() < release_.at(slot); }

void ModelInstall::finish() {
  finished_ = true;
  done_at_ = std::max(busy_until_, now());
}

void ModelInstall::abort(const std::string& why) {
  finished_ = true;
  abort_reason_ = why.empty() ? std::string("the sender stopped") : why;
}

void ModelInstall::wait_release(std::size_t slot, std::chrono::microseconds timeout) {
  double wait = std::min(static_cast<double>(timeout.count()) * 1e-6, release_.at(slot) - now());
  if (wait <= 0) return;
  // Through runtime::pause_for, as the pump's other pauses (and its experimental cap).
  runtime::pause_for(std::chrono::microseconds(std::max<long long>(1, static_cast<long long>(wait * 1e6 + 0.999))));
}

std::size_t ModelSource::read(char*, std::size_t capacity) {
  std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(capacity, left_));
  left_ -= n;
  return n;
}

}  // namespace shmstack::sim
