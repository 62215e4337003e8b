// Scoring a token sequence: the model's next-token distribution at every position, reduced to TokenStats.
//
// Sequence ids[0..n): position i (1 ≤ i < n) is the prediction of ids[i] from ids[0..i). Sequences longer than the
// context C are scored with a sliding window of C tokens and stride C/2: the first window scores positions 1..C−1;
// each next window starts C/2 tokens later, is evaluated from a fresh cache (RoPE positions restart at 0), and
// scores only the positions not scored before — so every token is predicted from at least C/2 preceding tokens
// (or all of them, inside the first window).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "analysis/token_stats.h"
#include "model/model.h"
#include "tensor/thread_pool.h"
#include "tokenscope/expected.h"

namespace ts {

struct ScoreOptions {
  int64_t ctx = 0;      // window; 0: the model's training context, capped at 4096
  int64_t batch = 256;  // positions per forward call
  int top_k = 5;
};

struct ScoredToken {
  int64_t pos = 0;      // index in ids of the predicted token
  TokenStats stats;
};

int64_t effective_context(const Model& model, const ScoreOptions& opt);

// Calls sink(token) for positions 1..n−1 in order.
Status score_sequence(const Model& model, const std::vector<int32_t>& ids, const ScoreOptions& opt, ThreadPool& pool,
                      const std::function<void(const ScoredToken&)>& sink);

}  // namespace ts
