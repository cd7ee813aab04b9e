// shmstack bcast: install stacks on every node of an MPI job (DESIGN §7).
//
// Who does what:
//
//   world rank 0      the reader: the only process that touches the archive
//                     (or packs the directory on the fly); also its node's leader
//   node leaders      node rank 0 of MPI_COMM_TYPE_SHARED: answer for the node
//                     and install into its /dev/shm
//   other ranks       wait quietly (no spinning) for the outcome
//
// The phases, with the collective that ends each one:
//
//   plan      rank 0 reads each archive's manifest (recording the bytes, so
//             the file is read once: stream_sources.hpp) or walks the
//             directory, and broadcasts the plan to every rank. A plan error
//             (missing or unreadable archive) stops everyone here.
//   control   each leader answers present / needs / cannot (bad root, no
//             space for everything it needs, or its memory cgroup cannot
//             hold it plus the margin) -> gathered at rank 0 (for the
//             messages) -> one all_ok over leaders decides. If any node
//             cannot, no data moves.
//   data      per stack, the leaders that need it and rank 0 form a data
//             communicator; pump_stream (chunk_stream.hpp) moves the archive
//             through a bounded ring on the main thread (the only MPI
//             thread), handing each chunk to an install thread that runs
//             the same install engine as unpack (install.hpp). A leader whose
//             install fails keeps draining the stream, its staging removed.
//   outcome   leaders' reports gathered at rank 0; an all_ok over the world
//             gives every rank the result, so every rank exits non-zero on
//             any failure.
//
// A signal, an MPI error or a broken stream mid-phase would leave peers
// waiting forever: those end in MPI_Abort after local cleanup (the staging
// directory is removed as the install thread unwinds).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bcast/bcast_plan.hpp"
#include "install/memory_cgroup.hpp"

namespace shmstack {

struct BcastOptions {
  std::vector<std::string> stacks;    // archives or directories
  std::string root;                   // resolved ROOT
  unsigned threads = 1;               // per leader: decompression workers, and as many writers
  unsigned pack_threads = 1;          // rank 0, for a directory: compression workers
  int level = 1;                      // for a directory
  std::vector<std::string> excludes;  // for a directory
  std::vector<std::string> old_prefixes;  // for a directory (PackOptions)
  std::uint64_t chunk_bytes = 2 << 20;
  std::uint64_t ring = 0;  // chunks in flight per rank; 0: default_ring() (tree_shape.hpp)
  int fanout = 2;  // k > 0: a pipelined k-ary tree (the default); 0: MPI_Ibcast
  // The two-tree instead of the k-ary tree (tree_shape.hpp); unset: by the
  // number of nodes (default_two_tree()), unless --tree, --fanout or --ibcast.
  std::optional<bool> two_tree;
  MemoryMargin memory_margin;  // per leader: memory to leave free in its memory cgroup
};

struct BcastOutcome {
  bool ok = false;                    // the same on every rank
  Plan plan;                          // every rank
  std::vector<std::string> problems;  // rank 0: one line per failed node (and why)
  std::vector<std::string> summary;   // rank 0: one line per stack (timing)
};

// Runs on every rank, inside an MpiSession.
BcastOutcome broadcast(const BcastOptions& options);

}  // namespace shmstack
