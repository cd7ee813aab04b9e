#include "bcast/tree_shape.hpp"

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
  // Tree 0 labels rank r with r; tree 1 mirrors (m even) or shifts (m odd).
  auto label_of = [m](int tree, long r) -> long {
    if (tree == 0) return r;
    if (m % 2 == 0) return m + 1 - r;
    return r == 1 ? m : r - 1;
  };
  auto rank_of = [m](int tree, long label) -> int {
    if (tree == 0) return static_cast<int>(label);
    if (m % 2 == 0) return static_cast<int>(m + 1 - label);
    return static_cast<int>(label == m ? 1 : label + 1);
  };
  const long root = static_cast<long>(std::bit_floor(static_cast<unsigned long>(m)));
  for (int t = 0; t < 2; ++t) {
    if (rank == 0) {
      trees[t].children.push_back(rank_of(t, root));
      continue;
    }
    long label = label_of(t, rank);
    long parent = in_order_parent(label, m);
    trees[t].parent = parent == 0 ? 0 : rank_of(t, parent);
    for (long child : in_order_children(label, m)) trees[t].children.push_back(rank_of(t, child));
  }
  return trees;
}

}  // namespace shmstack
