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

// A two-level fat tree with `width` nodes per leaf switch that routes by
// destination (D-mod-K: an edge between leaves goes through spine
// dst % width, as SimGrid's FAT_TREE and InfiniBand's ftree routing do), the
// job's ranks in switch order: how many tree edges share the busiest
// switch-to-spine link? Every edge carries half the stream, so more than two
// on one link slows the whole broadcast (three: 2/3 of the bandwidth).
int busiest_spine_link(int n, int width) {
  std::vector<int> up(static_cast<std::size_t>(n / width + 1) * width), down(up.size());
  for (int r = 0; r < n; ++r)
    for (const TreeLinks& tree : shmstack::two_tree(r, n))
      for (int c : tree.children) {
        if (r / width == c / width) continue;
        ++up[static_cast<std::size_t>(r / width) * width + c % width];
        ++down[static_cast<std::size_t>(c / width) * width + c % width];
      }
  return std::max(*std::max_element(up.begin(), up.end()), *std::max_element(down.begin(), down.end()));
}

// (With the paper's shift instead of the mirror: three at every size here.
// Jobs that fill their last leaf switch only partly may still see three.)
TEST_CASE("two-tree: at most two edges on any spine link of a destination-routed fat tree") {
  for (int width : {4, 16, 32})
    for (int n : {16, 64, 256, 1024, 4096, 16384}) {
      if (n < 2 * width) continue;
      CAPTURE(width);
      CAPTURE(n);
      CHECK(busiest_spine_link(n, width) <= 2);
    }
}

TEST_CASE("the default ring: 4 for the k-ary tree, 4 per level for the two-tree, 8 to 64") {
  using shmstack::default_ring;
  for (int n : {1, 2, 16, 1024, 16384}) CHECK(default_ring(false, n) == 4);
  CHECK(default_ring(true, 1) == 8);
  CHECK(default_ring(true, 4) == 8);
  CHECK(default_ring(true, 8) == 12);
  CHECK(default_ring(true, 16) == 16);
  CHECK(default_ring(true, 17) == 20);
  CHECK(default_ring(true, 256) == 32);
  CHECK(default_ring(true, 1024) == 40);
  CHECK(default_ring(true, 16384) == 56);
  CHECK(default_ring(true, 1 << 20) == 64);
}

TEST_CASE("the default transport: the k-ary tree up to 8 nodes, the two-tree from 9") {
  CHECK_FALSE(shmstack::default_two_tree(1));
  CHECK_FALSE(shmstack::default_two_tree(8));
  CHECK(shmstack::default_two_tree(9));
  CHECK(shmstack::default_two_tree(16384));
}
