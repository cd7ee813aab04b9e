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
//    number are its leaves); the second is the first mirrored (n-1 even) or
//    shifted by one (n-1 odd), so that a rank inner in one tree is a leaf in
//    the other: each rank sends S (half the chunks, to two children) and
//    receives S, and the time tends to S/B with a depth of about 2 log2 n.
#pragma once

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

}  // namespace shmstack
