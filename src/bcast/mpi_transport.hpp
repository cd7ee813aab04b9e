// The two ways the data phase moves a chunk over the data communicator
// (rank 0 of it is the reader):
//
//  - TreeTransport (the default): pipelined trees of point-to-point
//    messages (tree_shape.hpp: the k-ary tree, or the two-tree): each rank
//    receives a chunk from its parent in the chunk's tree and, once it is in,
//    forwards it to its children there while the next chunks are already on
//    their way.
//  - IbcastTransport (--ibcast): one MPI_Ibcast per message; the MPI library
//    picks the algorithm (MPICH: binomial tree for small messages, scatter +
//    allgather for large ones). Up to `ring` broadcasts are in flight, so
//    they pipeline.
// The tree is the default because it was the faster where measured (4 and 8
// simulated nodes: 7-15%, even at 1 and 2; MPICH's scatter + allgather passes
// every chunk in more, smaller messages); an MPI whose broadcast is tuned for
// the network (or offloaded to it) may well do better with --ibcast.
//
// Both only ever run on the main thread (MPI_THREAD_FUNNELED), driven by
// pump_stream's polling (arrived/idle test requests, never block).
#pragma once

#include <mpi.h>

#include <deque>
#include <memory>
#include <utility>
#include <vector>

#include "bcast/bcast_plan.hpp"
#include "bcast/chunk_stream.hpp"
#include "bcast/mpi_comm.hpp"
#include "bcast/tree_shape.hpp"

namespace shmstack::mpi {

class IbcastTransport final : public Transport {
 public:
  IbcastTransport(const Comm& comm, std::size_t ring);
  ~IbcastTransport() override;
  bool is_root() const override { return comm_.rank() == 0; }
  void start(std::size_t slot, char* message, std::size_t size, std::uint64_t seq) override;
  bool arrived(std::size_t slot) override;
  bool idle(std::size_t slot) override;

 private:
  const Comm& comm_;
  std::vector<MPI_Request> requests_;
};

class TreeTransport final : public Transport {
 public:
  static constexpr std::size_t kSendsPerChild = 2;
  // `trees`: this rank's links in each tree (kary_tree or two_tree).
  TreeTransport(const Comm& comm, std::size_t ring, std::vector<TreeLinks> trees);
  ~TreeTransport() override;
  bool is_root() const override { return comm_.rank() == 0; }
  void start(std::size_t slot, char* message, std::size_t size, std::uint64_t seq) override;
  bool arrived(std::size_t slot) override;
  bool idle(std::size_t slot) override;
  void poll() override { send_queued(); }

 private:
  struct Slot {
    char* message = nullptr;
    int count = 0;
    std::size_t tree = 0;
    MPI_Request receive = MPI_REQUEST_NULL;
    bool received = false;
    int sends_left = 0;  // to children: queued or in flight
  };
  // What this rank sends to one child, oldest first: at most kSendsPerChild
  // in flight, the rest queued (see send_queued()).
  struct Child {
    int rank = -1;
    std::deque<std::size_t> queued;  // slots
    std::deque<std::pair<std::size_t, MPI_Request>> in_flight;
  };
  void forward(std::size_t index);
  bool progress(std::size_t index);
  void send_queued();
  Child& child(int rank);
  const Comm& comm_;
  std::vector<TreeLinks> trees_;
  std::vector<Slot> slots_;
  std::vector<Child> children_;
  std::vector<bool> waiting_;  // arrived(): per tree, stopped at a chunk still on its way
};

// The plan's transport over `data`: the two-tree, the k-ary tree, or
// MPI_Ibcast (fanout 0). shmstack and the simulation both start it here.
std::unique_ptr<Transport> make_transport(const Comm& data, const Plan& plan);

}  // namespace shmstack::mpi
