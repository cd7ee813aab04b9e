#include "bcast/mpi_transport.hpp"

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

TreeTransport::TreeTransport(const Comm& comm, std::size_t ring, int fanout) : comm_(comm), slots_(ring) {
  int rank = comm.rank();
  if (rank > 0) parent_ = (rank - 1) / fanout;
  for (int k = 1; k <= fanout; ++k) {
    long child = static_cast<long>(rank) * fanout + k;
    if (child < comm.size()) children_.push_back(static_cast<int>(child));
  }
}

TreeTransport::~TreeTransport() {
  for (Slot& slot : slots_) {
    drop(slot.receive);
    for (MPI_Request& send : slot.sends) drop(send);
  }
}

void TreeTransport::forward(Slot& slot) {
  slot.sends.assign(children_.size(), MPI_REQUEST_NULL);
  for (std::size_t i = 0; i < children_.size(); ++i)
    check(MPI_Isend(slot.message, slot.count, MPI_BYTE, children_[i], kChunkTag, comm_.get(), &slot.sends[i]),
          "MPI_Isend");
}

void TreeTransport::start(std::size_t index, char* message, std::size_t size, std::uint64_t) {
  Slot& slot = slots_[index];
  slot.message = message;
  slot.count = checked_count(size);
  slot.received = is_root();
  if (is_root()) {
    forward(slot);
  } else {
    check(MPI_Irecv(message, slot.count, MPI_BYTE, parent_, kChunkTag, comm_.get(), &slot.receive), "MPI_Irecv");
  }
}

bool TreeTransport::arrived(std::size_t index) {
  Slot& slot = slots_[index];
  if (!slot.received && test(slot.receive)) {
    slot.received = true;
    forward(slot);
  }
  return slot.received;
}

bool TreeTransport::idle(std::size_t index) {
  Slot& slot = slots_[index];
  if (!slot.received && slot.receive != MPI_REQUEST_NULL) return false;
  for (MPI_Request& send : slot.sends)
    if (!test(send)) return false;
  return true;
}

}  // namespace shmstack::mpi
