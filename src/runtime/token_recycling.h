// Token Recycling (Luo et al., ACL 2025, arXiv 2408.08696; ../shared/docs/decoding.md §2.4): a train-free draft
// tree from the target model's own past predictions.
//
// An adjacency table M[V×k] holds, for each token t, the k most likely successors of t the last time the target
// computed a position whose input was t (the top-k of that row's raw logits, best first, lower id first on ties;
// −1 where t was never seen). The tree speculative loop (tree_speculative.h) updates it from every row of every
// target pass, rejected tree nodes included, and each round builds the draft tree breadth first from the last
// committed token along M, following a fixed template: every node at depth d (the root is depth 0) gets the
// successors of rank 0..breadth[d]−1 of its token as children, until max_nodes nodes or max_depth levels. The
// children of a node are distinct tokens, and the tree is a function of past target logits only, so verifying it
// by sampling the target and descending into the matching child is lossless.
//
// The paper keeps the table across requests ("hot start") and builds an 80-node static tree tuned for GPUs; our
// default template is smaller (TreeSpecOptions), sized for CPU batches, and a caller may pass its own table to
// keep it across generations.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "runtime/tree_oracle.h"

namespace ts {

class RecycleTable {
 public:
  RecycleTable(int64_t n_vocab, int k);

  int k() const { return k_; }
  int64_t n_vocab() const { return n_vocab_; }
  // The k successors of `token`, best first; −1 for none.
  std::span<const int32_t> successors(int32_t token) const {
    return {next_.data() + static_cast<size_t>(token) * static_cast<size_t>(k_), static_cast<size_t>(k_)};
  }
  // M[token] ← the top k of logits (n_vocab floats; NaN never counts).
  void update(int32_t token, const float* logits);

 private:
  int64_t n_vocab_;
  int k_;
  std::vector<int32_t> next_;  // [n_vocab][k]
};

// The draft tree for one round: breadth first from `root` along the table (see above). Deterministic (no q).
DraftTree recycle_tree(const RecycleTable& table, int32_t root, std::span<const int> breadth, int64_t max_depth,
                       int64_t max_nodes);

}  // namespace ts
