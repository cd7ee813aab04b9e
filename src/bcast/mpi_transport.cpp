#include "bcast/mpi_transport.hpp"

#include <algorithm>

namespace shmstack::mpi {
namespace {

constexpr int kChunkTag = 4242;

bool test(MPI_Request& request) {
  if (request == MPI_REQUEST_NULL) return true;
  int done = 0;
  check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), "MPI_Test");
  return done != 0;
}

// A transport destroyed with requests in flight is an error unwinding on its
// way to MPI_Abort (peers are gone or out of step): nothing may block there.
// Point-to-point requests are cancelled and freed.
void drop(MPI_Request& request) {
  if (request == MPI_REQUEST_NULL) return;
  MPI_Cancel(&request);
  MPI_Request_free(&request);
}

}  // namespace

IbcastTransport::IbcastTransport(const Comm& comm, std::size_t ring) : comm_(comm), requests_(ring, MPI_REQUEST_NULL) {}

// Nonblocking collectives can be neither cancelled nor freed (MPI 3.0,
// 5.12), and waiting could block forever: unfinished ones are left to the
// MPI_Abort that follows (see drop()).
IbcastTransport::~IbcastTransport() = default;

void IbcastTransport::start(std::size_t slot, char* message, std::size_t size, std::uint64_t) {
  check(MPI_Ibcast(message, checked_count(size), MPI_BYTE, 0, comm_.get(), &requests_[slot]), "MPI_Ibcast");
}

bool IbcastTransport::arrived(std::size_t slot) { return is_root() || test(requests_[slot]); }

bool IbcastTransport::idle(std::size_t slot) { return test(requests_[slot]); }

TreeTransport::TreeTransport(const Comm& comm, std::size_t ring, std::vector<TreeLinks> trees)
    : comm_(comm), trees_(std::move(trees)), slots_(ring) {
  for (const TreeLinks& tree : trees_)
    for (int rank : tree.children)
      if (std::none_of(children_.begin(), children_.end(), [&](const Child& c) { return c.rank == rank; }))
        children_.push_back(Child{rank, {}, {}});
}

TreeTransport::~TreeTransport() {
  for (Slot& slot : slots_) drop(slot.receive);
  for (Child& c : children_)
    for (auto& [slot, send] : c.in_flight) drop(send);
}

TreeTransport::Child& TreeTransport::child(int rank) {
  return *std::find_if(children_.begin(), children_.end(), [&](const Child& c) { return c.rank == rank; });
}

void TreeTransport::forward(std::size_t index) {
  Slot& slot = slots_[index];
  const std::vector<int>& children = trees_[slot.tree].children;
  slot.sends_left = static_cast<int>(children.size());
  for (int rank : children) child(rank).queued.push_back(index);
  send_queued();
}

// Sends to a child one after another rather than all at once: MPI keeps
// them in order anyway, and a network that shares a link fairly among the
// messages on it (SimGrid's model, and many real ones) would otherwise
// finish all of a rank's chunks at the same late moment, so that every hop
// of the pipeline cost ring chunk times instead of one. Two in flight keep
// the link busy while the pump notices that one is done.
void TreeTransport::send_queued() {
  for (Child& c : children_) {
    while (!c.in_flight.empty() && test(c.in_flight.front().second)) {
      --slots_[c.in_flight.front().first].sends_left;
      c.in_flight.pop_front();
    }
    while (!c.queued.empty() && c.in_flight.size() < kSendsPerChild) {
      std::size_t index = c.queued.front();
      c.queued.pop_front();
      const Slot& slot = slots_[index];
      c.in_flight.emplace_back(index, MPI_REQUEST_NULL);
      check(MPI_Isend(slot.message, slot.count, MPI_BYTE, c.rank, kChunkTag + static_cast<int>(slot.tree),
                      comm_.get(), &c.in_flight.back().second),
            "MPI_Isend");
    }
  }
}

void TreeTransport::start(std::size_t index, char* message, std::size_t size, std::uint64_t seq) {
  Slot& slot = slots_[index];
  slot.message = message;
  slot.count = checked_count(size);
  slot.tree = seq % trees_.size();
  slot.received = is_root();
  if (is_root()) {
    forward(index);
  } else {
    // A tag per tree: a rank may have the same parent in both trees of a
    // two-tree, which may forward a later chunk of one tree first.
    check(MPI_Irecv(message, slot.count, MPI_BYTE, trees_[slot.tree].parent, kChunkTag + static_cast<int>(slot.tree),
                    comm_.get(), &slot.receive),
          "MPI_Irecv");
  }
}

bool TreeTransport::progress(std::size_t index) {
  Slot& slot = slots_[index];
  if (!slot.received && slot.receive != MPI_REQUEST_NULL && test(slot.receive)) {
    slot.received = true;
    forward(index);
  }
  return slot.received;
}

bool TreeTransport::arrived(std::size_t index) {
  if (trees_.size() == 1) return progress(index);
  // Chunks come from several parents and the pump asks in order: forward
  // whatever is in, so that one tree never waits for the other. The pump
  // asks for its oldest chunk, so slots index, index+1, ... hold ascending
  // chunks; within a tree they are forwarded in that order (one tag per
  // tree, and MPI keeps messages of one tag in order), so a tree stops at
  // its first chunk still on its way.
  waiting_.assign(trees_.size(), false);  // no allocation after the first call
  for (std::size_t k = 0; k < slots_.size(); ++k) {
    std::size_t at = (index + k) % slots_.size();
    const Slot& slot = slots_[at];
    if (slot.received || slot.receive == MPI_REQUEST_NULL || waiting_[slot.tree]) continue;
    if (!progress(at)) waiting_[slot.tree] = true;
  }
  return slots_[index].received;
}

bool TreeTransport::idle(std::size_t index) {
  const Slot& slot = slots_[index];
  if (!slot.received && slot.receive != MPI_REQUEST_NULL) return false;
  if (slot.sends_left > 0) send_queued();
  return slot.sends_left == 0;
}

std::unique_ptr<Transport> make_transport(const Comm& data, const Plan& plan) {
  if (plan.two_tree) return std::make_unique<TreeTransport>(data, plan.ring, two_tree(data.rank(), data.size()));
  if (plan.fanout > 0)
    return std::make_unique<TreeTransport>(data, plan.ring,
                                           std::vector{kary_tree(data.rank(), data.size(), plan.fanout)});
  return std::make_unique<IbcastTransport>(data, plan.ring);
}

}  // namespace shmstack::mpi
