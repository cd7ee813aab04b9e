// Binomial-tree nonblocking collectives for the simulation (sim_mpi_fix.hpp).
// Each is a schedule: stages of point-to-point requests, a stage started
// once the one before it is complete, all advanced from test(). Ranks are
// taken relative to the root (v = rank - root mod n); v's parent is v minus
// its lowest set bit, its children v+1, v+2, v+4, ... below that bit, and
// its subtree the ranks [v, v + lowest bit), so a subtree's blocks arrive
// contiguous and in rank order. Tags of their own keep these messages apart
// from the data phase's; collectives on one communicator happen in the same
// order on every rank, and MPI keeps the messages of one tag in order.
#include "sim_mpi_fix.hpp"

#include <algorithm>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <vector>

namespace shmstack::sim {
namespace {

constexpr int kTag = 31337;

struct Schedule {
  std::deque<std::function<void(Schedule&)>> stages;
  std::vector<MPI_Request> pending;
  std::vector<std::vector<char>> buffers;  // alive until the schedule ends

  void recv(void* at, std::size_t bytes, int from, MPI_Comm comm) {
    pending.emplace_back();
    MPI_Irecv(at, static_cast<int>(bytes), MPI_BYTE, from, kTag, comm, &pending.back());
  }
  void send(const void* at, std::size_t bytes, int to, MPI_Comm comm) {
    pending.emplace_back();
    MPI_Isend(at, static_cast<int>(bytes), MPI_BYTE, to, kTag, comm, &pending.back());
  }
  // True once every stage is done. All simulated ranks share this code; actors never run concurrently.
  bool advance() {
    for (;;) {
      if (!pending.empty()) {
        int done = 0;
        MPI_Testall(static_cast<int>(pending.size()), pending.data(), &done, MPI_STATUSES_IGNORE);
        if (!done) return false;
        pending.clear();
      }
      if (stages.empty()) return true;
      auto stage = std::move(stages.front());
      stages.pop_front();
      stage(*this);
    }
  }
};

std::map<MPI_Request, std::unique_ptr<Schedule>>& schedules() {
  static std::map<MPI_Request, std::unique_ptr<Schedule>> all;
  return all;
}

// The caller's request: the schedule's own address, which only test() ever
// sees (mpi_comm passes its requests to nothing else); MPI_REQUEST_NULL once done.
int begin(std::unique_ptr<Schedule> schedule, MPI_Request* request) {
  *request = reinterpret_cast<MPI_Request>(schedule.get());
  schedules()[*request] = std::move(schedule);
  return MPI_SUCCESS;
}

struct Tree {
  int n, root, v;
  Tree(MPI_Comm comm, int root_rank) : root(root_rank) {
    int rank = 0;
    MPI_Comm_size(comm, &n);
    MPI_Comm_rank(comm, &rank);
    v = (rank - root + n) % n;
  }
  int low() const { return v == 0 ? 1 << 30 : v & -v; }
  int abs(int rel) const { return (rel + root) % n; }
  int parent() const { return abs(v - low()); }
  std::vector<int> children() const {  // relative ranks, ascending
    std::vector<int> out;
    for (long mask = 1; mask < low() && v + mask < n; mask <<= 1) out.push_back(static_cast<int>(v + mask));
    return out;
  }
  int subtree(int rel) const {
    int lowest = rel == 0 ? 1 << 30 : rel & -rel;
    return static_cast<int>(std::min<long>(static_cast<long>(rel) + lowest, n) - rel);
  }
};

std::size_t bytes_of(int count, MPI_Datatype type) {
  int size = 0;
  MPI_Type_size(type, &size);
  return static_cast<std::size_t>(count) * static_cast<std::size_t>(size);
}

// Adds a broadcast of `bytes` at `buffer` from the tree's root.
void add_bcast(Schedule& s, const Tree& t, void* buffer, std::size_t bytes, MPI_Comm comm) {
  if (t.v != 0) s.stages.push_back([=](Schedule& x) { x.recv(buffer, bytes, t.parent(), comm); });
  s.stages.push_back([=](Schedule& x) {
    for (int c : t.children()) x.send(buffer, bytes, t.abs(c), comm);
  });
}

}  // namespace

int ibcast(void* buffer, int count, MPI_Datatype type, int root, MPI_Comm comm, MPI_Request* request) {
  auto s = std::make_unique<Schedule>();
  add_bcast(*s, Tree(comm, root), buffer, bytes_of(count, type), comm);
  return begin(std::move(s), request);
}

int igatherv(const void* send, int send_count, MPI_Datatype send_type, void* recv, const int* recv_counts,
             const int* displacements, MPI_Datatype recv_type, int root, MPI_Comm comm, MPI_Request* request) {
  auto s = std::make_unique<Schedule>();
  Tree t(comm, root);
  const std::size_t mine = bytes_of(send_count, send_type);
  const int span = t.subtree(t.v);
  // Stage 1: the byte count of every rank in this subtree (children's first).
  s->buffers.emplace_back(static_cast<std::size_t>(span) * sizeof(std::uint64_t));
  auto* sizes = reinterpret_cast<std::uint64_t*>(s->buffers.back().data());
  sizes[0] = mine;
  s->stages.push_back([=](Schedule& x) {
    for (int c : t.children())
      x.recv(sizes + (c - t.v), static_cast<std::size_t>(t.subtree(c)) * sizeof(std::uint64_t), t.abs(c), comm);
  });
  if (t.v != 0)
    s->stages.push_back([=](Schedule& x) { x.send(sizes, static_cast<std::size_t>(span) * sizeof(std::uint64_t),
                                                  t.parent(), comm); });
  // Stage 2: the bytes, in rank order, own first.
  Schedule* self = s.get();
  s->stages.push_back([=](Schedule& x) {
    std::size_t total = 0;
    for (int i = 0; i < span; ++i) total += sizes[i];
    self->buffers.emplace_back(total);
    char* data = self->buffers.back().data();
    std::memcpy(data, send, mine);
    std::size_t at = mine;
    int next = 1;
    for (int c : t.children()) {
      for (; next < c - t.v; ++next) at += sizes[next];
      std::size_t bytes = 0;
      for (int i = c - t.v; i < c - t.v + t.subtree(c); ++i) bytes += sizes[i];
      x.recv(data + at, bytes, t.abs(c), comm);
    }
  });
  if (t.v != 0) {
    s->stages.push_back([=](Schedule& x) { x.send(self->buffers.back().data(), self->buffers.back().size(),
                                                  t.parent(), comm); });
  } else {
    const std::size_t unit = bytes_of(1, recv_type);
    s->stages.push_back([=](Schedule&) {
      const char* data = self->buffers.back().data();
      for (int i = 0; i < span; ++i) {
        int rank = t.abs(i);
        std::memcpy(static_cast<char*>(recv) + static_cast<std::size_t>(displacements[rank]) * unit, data,
                    static_cast<std::size_t>(recv_counts[rank]) * unit);
        data += sizes[i];
      }
    });
  }
  return begin(std::move(s), request);
}

int igather(const void* send, int send_count, MPI_Datatype send_type, void* recv, int recv_count,
            MPI_Datatype recv_type, int root, MPI_Comm comm, MPI_Request* request) {
  int n = 0, rank = 0;
  MPI_Comm_size(comm, &n);
  MPI_Comm_rank(comm, &rank);
  // The same tree as igatherv; the counts and displacements live with the request.
  static std::map<MPI_Comm, std::vector<int>> layouts;  // root only: counts then displacements
  std::vector<int>& layout = layouts[comm];
  if (rank == root) {
    layout.assign(2 * static_cast<std::size_t>(n), recv_count);
    for (int i = 0; i < n; ++i) layout[static_cast<std::size_t>(n + i)] = i * recv_count;
  }
  return igatherv(send, send_count, send_type, recv, layout.data(), layout.data() + n, recv_type, root, comm,
                  request);
}

int iallreduce(const void* send, void* recv, int count, MPI_Datatype type, MPI_Op op, MPI_Comm comm,
               MPI_Request* request) {
  auto s = std::make_unique<Schedule>();
  Tree t(comm, 0);
  const std::size_t bytes = bytes_of(count, type);
  std::memcpy(recv, send, bytes);
  std::vector<int> children = t.children();
  for (std::size_t i = 0; i < children.size(); ++i) s->buffers.emplace_back(bytes);
  Schedule* self = s.get();
  s->stages.push_back([=](Schedule& x) {
    for (std::size_t i = 0; i < children.size(); ++i) x.recv(self->buffers[i].data(), bytes, t.abs(children[i]), comm);
  });
  s->stages.push_back([=](Schedule& x) {
    for (std::size_t i = 0; i < children.size(); ++i) MPI_Reduce_local(self->buffers[i].data(), recv, count, type, op);
    if (t.v != 0) x.send(recv, bytes, t.parent(), comm);
  });
  add_bcast(*s, t, recv, bytes, comm);
  return begin(std::move(s), request);
}

int ibarrier(MPI_Comm comm, MPI_Request* request) {
  auto s = std::make_unique<Schedule>();
  Tree t(comm, 0);
  s->stages.push_back([=](Schedule& x) {
    for (int c : t.children()) x.recv(nullptr, 0, t.abs(c), comm);
  });
  if (t.v != 0) s->stages.push_back([=](Schedule& x) { x.send(nullptr, 0, t.parent(), comm); });
  add_bcast(*s, t, nullptr, 0, comm);
  return begin(std::move(s), request);
}

int test(MPI_Request* request, int* flag, MPI_Status* status) {
  auto it = schedules().find(*request);
  if (it == schedules().end()) return MPI_Test(request, flag, status);
  *flag = 0;
  if (!it->second->advance()) return MPI_SUCCESS;
  schedules().erase(it);
  *request = MPI_REQUEST_NULL;
  *flag = 1;
  if (status != MPI_STATUS_IGNORE) *status = MPI_Status{};
  return MPI_SUCCESS;
}

}  // namespace shmstack::sim
