#include "bcast/tree_shape.hpp"

#include <algorithm>
#include <bit>

namespace shmstack {
namespace {

// The in-order binary tree on labels 1..m: a label's height is its number of
// trailing zero bits (the leaves are the odd labels) and the root is the
// largest power of two <= m. Labels above m are left out; their places are
// taken by the nearest label below them on the same path.
long bit(int height) { return 1L << height; }

long in_order_parent(long label, long m) {
  long root = static_cast<long>(std::bit_floor(static_cast<unsigned long>(m)));
  for (int h = std::countr_zero(static_cast<unsigned long>(label)); label != root; ++h) {
    long parent = (label >> (h + 1)) & 1 ? label - bit(h) : label + bit(h);
    if (parent <= m) return parent;
    label = parent;
  }
  return 0;
}

std::vector<long> in_order_children(long label, long m) {
  int h = std::countr_zero(static_cast<unsigned long>(label));
  if (h == 0) return {};
  std::vector<long> children{label - bit(h - 1)};
  long right = label + bit(h - 1);
  while (right > m) {
    int hr = std::countr_zero(static_cast<unsigned long>(right));
    if (hr == 0) return children;
    right -= bit(hr - 1);
  }
  children.push_back(right);
  return children;
}

}  // namespace

TreeLinks kary_tree(int rank, int size, int k) {
  TreeLinks links;
  if (rank > 0) links.parent = (rank - 1) / k;
  for (int i = 1; i <= k; ++i) {
    long child = static_cast<long>(rank) * k + i;
    if (child < size) links.children.push_back(static_cast<int>(child));
  }
  return links;
}

std::vector<TreeLinks> two_tree(int rank, int size) {
  std::vector<TreeLinks> trees(2);
  const long m = size - 1;  // ranks 1..m are in the trees
  if (m < 1) return trees;
  // Tree 0 labels rank r with r. Tree 1 mirrors ranks 1..mt (mt even, so a
  // label and its mirror differ in parity: inner in one tree, leaf in the
  // other); when m is odd, rank m (a leaf in tree 0) is one more leaf in
  // tree 1, under the rank labelled mt (rank 1, a leaf in tree 0).
  const long mt = m % 2 == 0 ? m : m - 1;
  auto mirror = [mt](long x) { return mt + 1 - x; };  // rank <-> label in tree 1
  for (int t = 0; t < 2; ++t) {
    const long labels = t == 0 ? m : mt;
    auto rank_of = [&](long label) { return static_cast<int>(t == 0 ? label : mirror(label)); };
    if (rank == 0) {  // sends to the tree's root (rank m alone when tree 1 has no labels: n = 2)
      long root = static_cast<long>(std::bit_floor(static_cast<unsigned long>(labels)));
      trees[t].children.push_back(root > 0 ? rank_of(root) : static_cast<int>(m));
      continue;
    }
    if (t == 1 && rank > mt) {  // rank m, the extra leaf
      trees[t].parent = mt > 0 ? rank_of(mt) : 0;
      continue;
    }
    long label = t == 0 ? rank : mirror(rank);
    long parent = in_order_parent(label, labels);
    trees[t].parent = parent == 0 ? 0 : rank_of(parent);
    for (long child : in_order_children(label, labels)) trees[t].children.push_back(rank_of(child));
    if (t == 1 && mt != m && label == mt) trees[t].children.push_back(static_cast<int>(m));
  }
  return trees;
}

bool default_two_tree(int size) { return size > 8; }

std::size_t default_ring(bool two_tree, int size) {
  if (!two_tree) return 4;
  std::size_t levels = static_cast<std::size_t>(std::bit_width(static_cast<unsigned>(std::max(size, 2) - 1)));
  return std::clamp<std::size_t>(4 * levels, 8, 64);
}

}  // namespace shmstack
