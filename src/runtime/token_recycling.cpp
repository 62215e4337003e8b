// Token Recycling's adjacency table and template tree; see token_recycling.h.
#include "runtime/token_recycling.h"

#include <algorithm>
#include <cmath>
#include <deque>

namespace ts {

RecycleTable::RecycleTable(int64_t n_vocab, int k)
    : n_vocab_(n_vocab), k_(k < 1 ? 1 : k), next_(static_cast<size_t>(n_vocab) * static_cast<size_t>(k_), -1) {}

void RecycleTable::update(int32_t token, const float* logits) {
  if (token < 0 || token >= n_vocab_) return;
  int32_t* row = next_.data() + static_cast<size_t>(token) * static_cast<size_t>(k_);
  std::vector<float> best(static_cast<size_t>(k_), -INFINITY);
  std::fill(row, row + k_, -1);
  float floor = -INFINITY;  // the k-th best so far
  for (int64_t i = 0; i < n_vocab_; ++i) {
    const float z = logits[i];
    if (!(z > floor)) continue;  // ties keep the lower id; NaN fails every comparison
    int j = k_ - 1;
    for (; j > 0 && z > best[static_cast<size_t>(j - 1)]; --j) {
      best[static_cast<size_t>(j)] = best[static_cast<size_t>(j - 1)];
      row[j] = row[j - 1];
    }
    best[static_cast<size_t>(j)] = z;
    row[j] = static_cast<int32_t>(i);
    floor = best[static_cast<size_t>(k_ - 1)];
  }
}

DraftTree recycle_tree(const RecycleTable& table, int32_t root, std::span<const int> breadth, int64_t max_depth,
                       int64_t max_nodes) {
  DraftTree tree;
  struct Item {
    int32_t node;  // −1: the root
    int32_t token;
    int64_t depth;
  };
  std::deque<Item> queue{{-1, root, 0}};
  while (!queue.empty()) {
    const Item it = queue.front();
    queue.pop_front();
    if (it.depth >= max_depth || it.depth >= static_cast<int64_t>(breadth.size())) continue;
    if (it.token < 0 || it.token >= table.n_vocab()) continue;
    const auto next = table.successors(it.token);
    const int b = std::min(breadth[static_cast<size_t>(it.depth)], table.k());
    for (int r = 0; r < b && next[static_cast<size_t>(r)] >= 0; ++r) {
      if (tree.size() >= max_nodes) return tree;
      tree.add(next[static_cast<size_t>(r)], it.node);
      queue.push_back({static_cast<int32_t>(tree.size() - 1), next[static_cast<size_t>(r)], it.depth + 1});
    }
  }
  return tree;
}

}  // namespace ts
