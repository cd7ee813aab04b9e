// The trees of the tree transports (tree_shape.hpp), checked whole for every
// size up to 300 and some larger: each tree reaches every rank once from
// rank 0, parents and children agree, and in the two-tree no rank sends more
// than two messages per pair of chunks (the property its bandwidth rests on).
#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include "bcast/tree_shape.hpp"

namespace {

using shmstack::TreeLinks;

// Checks one tree given every rank's links in it; returns its depth.
int check_tree(const std::vector<TreeLinks>& links) {
  const int n = static_cast<int>(links.size());
  REQUIRE(links[0].parent == -1);
  std::vector<int> depth(n, -1);
  depth[0] = 0;
  std::vector<int> todo{0};
  int deepest = 0;
  while (!todo.empty()) {
    int r = todo.back();
    todo.pop_back();
    for (int c : links[r].children) {
      REQUIRE(c > 0);
      REQUIRE(c < n);
      REQUIRE(depth[c] == -1);  // reached once
      REQUIRE(links[c].parent == r);
      depth[c] = depth[r] + 1;
      deepest = std::max(deepest, depth[c]);
      todo.push_back(c);
    }
  }
  for (int r = 0; r < n; ++r) REQUIRE(depth[r] >= 0);  // reached at all
  return deepest;
}

int log2_ceil(int n) {
  int bits = 0;
  while ((1 << bits) < n) ++bits;
  return bits;
}

}  // namespace

TEST_CASE("k-ary trees: heap order, every rank reached once") {
  for (int k : {1, 2, 3, 8})
    for (int n = 1; n <= 70; ++n) {
      std::vector<TreeLinks> links;
      for (int r = 0; r < n; ++r) links.push_back(shmstack::kary_tree(r, n, k));
      int depth = check_tree(links);
      if (k == 1) CHECK(depth == n - 1);
    }
  CHECK(shmstack::kary_tree(5, 100, 2).parent == 2);
  CHECK(shmstack::kary_tree(5, 100, 2).children == std::vector<int>{11, 12});
}

TEST_CASE("two-tree: two full trees, every rank inner in at most one, depth about log2 n") {
  std::vector<int> sizes;
  for (int n = 1; n <= 300; ++n) sizes.push_back(n);
  for (int n : {1000, 1024, 1025, 4095, 4096, 16384}) sizes.push_back(n);
  for (int n : sizes) {
    CAPTURE(n);
    std::vector<std::vector<TreeLinks>> links(2);
    for (int r = 0; r < n; ++r) {
      std::vector<TreeLinks> both = shmstack::two_tree(r, n);
      REQUIRE(both.size() == 2);
      links[0].push_back(both[0]);
      links[1].push_back(both[1]);
    }
    for (int t = 0; t < 2; ++t) {
      int depth = check_tree(links[t]);
      CHECK(depth <= log2_ceil(n) + 1);
      if (n > 1) CHECK(links[t][0].children.size() == 1);
    }
    for (int r = 1; r < n; ++r) {
      std::size_t sends = links[0][r].children.size() + links[1][r].children.size();
      CHECK(sends <= 2);
    }
  }
}
