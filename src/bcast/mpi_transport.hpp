// The two ways the data phase moves a chunk over the data communicator
// (rank 0 of it is the reader):
//
//  - TreeTransport (the default): a pipelined k-ary tree of point-to-point
//    messages: each rank receives a chunk from its parent ((r-1)/k) and, once
//    it is in, forwards it to its children (r*k+1 ... r*k+k) while the next
//    chunk is already on its way.
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

#include <vector>

#include "bcast/chunk_stream.hpp"
#include "bcast/mpi_comm.hpp"

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
  TreeTransport(const Comm& comm, std::size_t ring, int fanout);
  ~TreeTransport() override;
  bool is_root() const override { return comm_.rank() == 0; }
  void start(std::size_t slot, char* message, std::size_t size, std::uint64_t seq) override;
  bool arrived(std::size_t slot) override;
  bool idle(std::size_t slot) override;

 private:
  struct Slot {
    char* message = nullptr;
    int count = 0;
    MPI_Request receive = MPI_REQUEST_NULL;
    bool received = false;
    std::vector<MPI_Request> sends;
  };
  void forward(Slot& slot);
  const Comm& comm_;
  int parent_ = -1;
  std::vector<int> children_;
  std::vector<Slot> slots_;
};

}  // namespace shmstack::mpi
