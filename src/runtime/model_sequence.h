// One token sequence on one model, with its KV cache: the unit the generation loops drive.
//
// logits_after(tokens, from) returns the next-token logits after each of tokens[from..n): row r is the distribution
// of the token that follows tokens[0..from+r]. The cache keeps the keys/values of the tokens it was last fed; the
// longest prefix those share with `tokens` (but no more than `from`, whose rows must be computed) is reused and the
// rest is evaluated in one batched forward. So appending a token costs one position, verifying γ drafted tokens
// costs one pass over γ+1 positions, and rolling back after a rejected draft is free (the cache is truncated).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "model/kv_cache.h"
#include "model/model.h"
#include "tensor/thread_pool.h"
#include "tokenscope/expected.h"

namespace ts {

class ModelSequence {
 public:
  // capacity: the longest sequence this will hold (at most the model's training context).
  ModelSequence(const Model& model, int64_t capacity);

  // out ← (n − from) rows of n_vocab logits. Errors: from outside [0, n), n > capacity(), bad ids.
  Status logits_after(std::span<const int32_t> tokens, int64_t from, std::vector<float>& out, ThreadPool& pool);

  const Model& model() const { return *model_; }
  int64_t capacity() const { return cache_.capacity(); }
  int64_t n_vocab() const { return model_->config().n_vocab; }
  // Positions evaluated so far (a measure of work: batched verification counts every row it ran).
  int64_t positions_evaluated() const { return evaluated_; }
  int64_t forward_calls() const { return calls_; }

 private:
  const Model* model_;
  KVCache cache_;
  std::vector<int32_t> fed_;  // the tokens whose keys/values are in cache_
  int64_t evaluated_ = 0, calls_ = 0;
};

}  // namespace ts
