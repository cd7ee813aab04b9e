// Who sends each chunk to whom in the tree transports (mpi_transport.hpp):
// pure functions of a rank and the data communicator's size, so every rank
// computes its own links without asking and the shapes are tested without MPI.
// Rank 0 is the reader; chunk `seq` travels down tree `seq % trees.size()`.
//
//  - k-ary tree: one tree, rank r's parent is (r-1)/k, its children
//    r*k+1 ... r*k+k. Every inner rank sends each chunk k times over its
//    one link, so a broadcast of S bytes takes at least k*S/B.
//  - two-tree (Sanders, Speck and Traeff, "Two-tree algorithms for full
//    bandwidth broadcast, reduction and scan", Parallel Computing 35, 2009):
//    two binary trees over ranks 1..n-1, even chunks down one, odd chunks
//    down the other, and rank 0 sending each chunk to the root of its tree.
//    The first tree is the in-order binary tree (the ranks with an odd
//    number are its leaves); the second is the first mirrored (rank r has
//    label n-r when n-1 is even; when it is odd, ranks 1..n-2 are mirrored
//    and rank n-1 is one more leaf, under rank 1), so that a rank inner in
//    one tree is a leaf in the other: each rank sends S (half the chunks, to
//    two children) and receives S, and the time tends to S/B with a depth of
//    about 2 log2 n. (The paper shifts the labels by one when n-1 is odd. On
//    a fat tree that routes by destination (D-mod-K, as InfiniBand's ftree
//    does) and with the job's ranks in switch order, the shift sends the
//    first tree's long edges and the second tree's edges into every
//    multiple of the leaf width through the same up-link: three edges on
//    one link, 2/3 of the bandwidth at 1,024 simulated nodes. The mirror
//    keeps every link at two; doc/performance-sim.md, tree_shape_test.)
#pragma once

#include <cstddef>
#include <vector>

namespace shmstack {

struct TreeLinks {
  int parent = -1;  // -1 at rank 0
  std::vector<int> children;
};

// Rank `rank`'s links in the k-ary tree on `size` ranks (k >= 1).
TreeLinks kary_tree(int rank, int size, int k);

// Rank `rank`'s links in each of the two trees of the two-tree on `size` ranks.
std::vector<TreeLinks> two_tree(int rank, int size);

// Is the two-tree the transport when none is given, for `size` ranks? From 9
// on. Simulated, it beats the binary tree at every size from 16 to 1,024
// nodes and on every platform (at 1,024 nodes and 4 GiB: 1.33x the bound
// S/B, against 2.77x); on the 1-8 nodes here, which share two cores, every
// rank of the two-tree forwards and the CPU is the limit: 13% slower at 4
// nodes (doc/performance-sim.md).
bool default_two_tree(int size);

// The ring (chunks in flight per rank) when none is given, for `size` ranks.
// The k-ary tree: 4 (deeper rings changed nothing, simulated or here). The
// two-tree: 4 per level of the tree, 8 to 64. A rank lies at different
// depths in its two trees and hands chunks to its install in order, so it
// holds the early tree's chunks until the late tree's arrive: the ring must
// cover that skew, which grows with the depth. (Simulated, 1 GiB: 256 nodes
// moved 5.6 GB/s per node with 16, 10.6 GB/s with 32; doc/performance-sim.md.)
std::size_t default_ring(bool two_tree, int size);

}  // namespace shmstack
