// Logits over a token tree that hangs after a committed history: what tree speculative decoding asks of a model.
//
// A DraftTree lists nodes in an order where every parent comes before its children: tokens[i] with parents[i] in
// −1..i−1, −1 meaning a child of the root, the last committed token. tree_logits(history, tree, rows) returns one
// row of logits per requested row: −1 is the distribution after `history`, i ≥ 0 the distribution after history
// followed by the root-to-node path of node i. Rows are a function of the token path alone, so an oracle may
// memoize them (the tests do).
//
// ModelTreeOracle computes them with Model::forward_tree on one KV cache and reuses what it already holds: the
// committed tokens (a common prefix), and of the tree from its last call either the nodes the new history has
// accepted (kept in place by KVCache::keep_path, so the next round needs no re-evaluation) or, when the history is
// unchanged, the nodes that the new tree repeats at its start (so a drafter that grows a tree one node at a time
// evaluates each node once). Everything not reused is evaluated in one tree-masked pass: the committed tokens not
// yet cached as a chain (longer catch-ups, such as the prompt, go through a plain forward first), the root, and the
// new nodes.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "model/kv_cache.h"
#include "model/model.h"
#include "sampling/candidates.h"
#include "tensor/thread_pool.h"
#include "tokenscope/expected.h"

namespace ts {

struct DraftTree {
  std::vector<int32_t> tokens;
  std::vector<int32_t> parents;  // parents[i] < i; −1: a child of the root (the last committed token)
  // Stochastic trees only: q[u] is the draft distribution node u's children were drawn from without replacement,
  // in their order in the tree (u = 0 the root, 1 + i node i); empty for a deterministic tree.
  std::vector<sampling::Candidates> q;

  int64_t size() const { return static_cast<int64_t>(tokens.size()); }
  void add(int32_t token, int32_t parent) {
    tokens.push_back(token);
    parents.push_back(parent);
  }
};

class TreeLogitOracle {
 public:
  virtual ~TreeLogitOracle() = default;
  // out ← rows.size() rows of n_vocab logits, in the order of `rows` (each −1 or a node index). history non-empty.
  virtual Status tree_logits(std::span<const int32_t> history, std::span<const int32_t> tokens,
                             std::span<const int32_t> parents, std::span<const int32_t> rows,
                             std::vector<float>& out) = 0;
};

class ModelTreeOracle : public TreeLogitOracle {
 public:
  // capacity: the most cache slots used at once (history plus the largest tree, plus one).
  ModelTreeOracle(const Model& model, int64_t capacity, ThreadPool& pool);
  Status tree_logits(std::span<const int32_t> history, std::span<const int32_t> tokens,
                     std::span<const int32_t> parents, std::span<const int32_t> rows,
                     std::vector<float>& out) override;
  // Positions evaluated and forward calls so far (a measure of work).
  int64_t positions_evaluated() const { return evaluated_; }
  int64_t forward_calls() const { return calls_; }

 private:
  const Model* model_;
  KVCache cache_;
  ThreadPool* pool_;
  std::vector<int32_t> lin_;                 // tokens at slots 0..lin_.size(), fed in order
  std::vector<int32_t> tree_tok_, tree_par_;  // the tree at slots lin_.size().., parents within the tree
  int64_t evaluated_ = 0, calls_ = 0;
};

}  // namespace ts
