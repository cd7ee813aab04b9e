#include "bcast/mpi_comm.hpp"

#include <algorithm>
#include <chrono>
#include <climits>
#include <utility>

#include "base/cancel.hpp"
#include "base/error.hpp"
#include "bcast/runtime.hpp"

namespace shmstack::mpi {

void check(int code, const char* operation) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING] = {};
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw Error(operation, std::string(text, static_cast<std::size_t>(std::max(length, 0))));
}

int checked_count(std::size_t count) {
  if (count > static_cast<std::size_t>(INT_MAX))
    throw Error("cannot hand " + std::to_string(count) + " items to MPI", "more than INT_MAX in one call");
  return static_cast<int>(count);
}

void wait_quietly(MPI_Request& request) {
  // Short sleeps while the wait is short: a collective is a tree of messages
  // (MPICH's are binomial), and a rank in its middle forwards only when it
  // next calls MPI, so each level of the tree waits out one sleep. Longer
  // ones once it is clear that the wait is long (a leader unpacking).
  // (Sleeps of up to 2 ms from the start cost the control phase 62 ms at
  // 1,024 simulated nodes; doc/performance-sim.md.)
  using std::chrono::microseconds;
  constexpr microseconds kShortCap{200}, kLongCap{2000}, kShortWait{20000};
  microseconds pause{20}, slept{0};  // slept, not the clock: the simulation's time is its own
  for (;;) {
    int done = 0;
    check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), "MPI_Test");
    if (done) return;
    check_cancelled();
    runtime::pause_for(pause);
    slept += pause;
    pause = std::min(pause * 2, slept < kShortWait ? kShortCap : kLongCap);
  }
}

MpiSession::MpiSession(int* argc, char*** argv) {
  int provided = 0;
  check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  if (provided < MPI_THREAD_FUNNELED) {
    MPI_Finalize();
    throw Error("cannot start MPI", "the library does not support MPI_THREAD_FUNNELED");
  }
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
}

MpiSession::~MpiSession() { MPI_Finalize(); }

void MpiSession::abort(int exit_code) {
  MPI_Abort(MPI_COMM_WORLD, exit_code);
  std::_Exit(exit_code);  // not reached: MPI_Abort does not return
}

Comm Comm::world() { return Comm(MPI_COMM_WORLD, false); }

Comm::Comm(MPI_Comm comm, bool owned) : comm_(comm), owned_(owned) {
  if (comm_ == MPI_COMM_NULL) return;
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
  if (owned_) MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
}

Comm::~Comm() {
  if (owned_ && comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
}

Comm::Comm(Comm&& other) noexcept
    : comm_(std::exchange(other.comm_, MPI_COMM_NULL)),
      owned_(std::exchange(other.owned_, false)),
      rank_(other.rank_),
      size_(other.size_) {}

Comm& Comm::operator=(Comm&& other) noexcept {
  if (this != &other) {
    if (owned_ && comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
    comm_ = std::exchange(other.comm_, MPI_COMM_NULL);
    owned_ = std::exchange(other.owned_, false);
    rank_ = other.rank_;
    size_ = other.size_;
  }
  return *this;
}

namespace {

// Starts a nonblocking collective (`start` passes the request to it) and
// waits for it quietly.
template <class Start>
void collective(const char* operation, Start start) {
  MPI_Request request = MPI_REQUEST_NULL;
  check(start(&request), operation);
  wait_quietly(request);
}

void quiet_barrier(MPI_Comm comm) {
  collective("MPI_Ibarrier", [&](MPI_Request* r) { return MPI_Ibarrier(comm, r); });
}

}  // namespace

Comm Comm::split_node() const {
  quiet_barrier(comm_);
  MPI_Comm node = MPI_COMM_NULL;
  check(MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node), "MPI_Comm_split_type");
  return Comm(node, true);
}

Comm Comm::split(bool member, int color) const {
  quiet_barrier(comm_);
  MPI_Comm part = MPI_COMM_NULL;
  check(MPI_Comm_split(comm_, member ? color : MPI_UNDEFINED, rank_, &part), "MPI_Comm_split");
  return Comm(part, part != MPI_COMM_NULL);
}

Comm Comm::members(bool member) const { return all_ok(member) ? view() : split(member); }

void Comm::bcast(std::uint64_t& value, int root) const {
  collective("MPI_Ibcast", [&](MPI_Request* r) { return MPI_Ibcast(&value, 1, MPI_UINT64_T, root, comm_, r); });
}

void Comm::bcast(std::string& bytes, int root) const {
  std::uint64_t size = bytes.size();
  bcast(size, root);
  if (rank_ != root) bytes.assign(size, '\0');
  constexpr std::size_t kPiece = std::size_t{1} << 30;
  for (std::size_t at = 0; at < size; at += kPiece) {
    int count = checked_count(std::min<std::size_t>(kPiece, size - at));
    collective("MPI_Ibcast",
               [&](MPI_Request* r) { return MPI_Ibcast(bytes.data() + at, count, MPI_CHAR, root, comm_, r); });
  }
}

std::vector<std::string> Comm::gather(const std::string& mine, int root) const {
  int my_count = checked_count(mine.size());
  std::vector<int> counts(rank_ == root ? static_cast<std::size_t>(size_) : 0);
  collective("MPI_Igather", [&](MPI_Request* r) {
    return MPI_Igather(&my_count, 1, MPI_INT, counts.data(), 1, MPI_INT, root, comm_, r);
  });
  std::vector<int> offsets(counts.size());
  std::size_t total = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    offsets[i] = checked_count(total);
    total += static_cast<std::size_t>(counts[i]);
  }
  checked_count(total);
  std::string all(total, '\0');
  collective("MPI_Igatherv", [&](MPI_Request* r) {
    return MPI_Igatherv(mine.data(), my_count, MPI_CHAR, all.data(), counts.data(), offsets.data(), MPI_CHAR, root,
                        comm_, r);
  });
  std::vector<std::string> result;
  for (std::size_t i = 0; i < counts.size(); ++i)
    result.push_back(all.substr(static_cast<std::size_t>(offsets[i]), static_cast<std::size_t>(counts[i])));
  return result;
}

bool Comm::all_ok(bool ok) const {
  int mine = ok ? 1 : 0;
  int all = 0;
  collective("MPI_Iallreduce",
             [&](MPI_Request* r) { return MPI_Iallreduce(&mine, &all, 1, MPI_INT, MPI_LAND, comm_, r); });
  return all != 0;
}

}  // namespace shmstack::mpi
