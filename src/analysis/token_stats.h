// Statistics of one next-token distribution, computed from raw logits in a single fused pass.
//
//   log p_i = z_i − logZ,   logZ = m + log Σ_j e^{z_j − m}            (m = max_j z_j, tracked online)
//   H = −Σ p_i log p_i = log S − T / S,   S = Σ e^{z_j − m},  T = Σ e^{z_j − m}(z_j − m)
//   varentropy V = Var_p[log p] = Σ p_i (log p_i)² − H² = U / S − (T / S)²,   U = Σ e^{z_j − m}(z_j − m)²
//     (log p_i = (z_i − m) − log S, and the variance does not change when every value is shifted by log S)
//   rank(t) = 1 + #{ j : z_j > z_t }        (1 = most likely; ties share the better rank)
//   max_prob = p_(1),  margin = p_(1) − p_(2)  from the two largest logits (a top-2 heap is always kept)
//
// When the running maximum rises from m to m', S, T and U are rescaled (tensor/vec_ops.h), so S, T, U, the rank
// count and a size-max(k,2) min-heap for the top-k all come from one read of the logits. S, T, U accumulate in
// double. With μ = −H and σ² = V this one pass gives the per-position terms of Min-K%++ and of Fast-DetectGPT when
// the sampling and scoring models are the same (analysis/min_k_plus_plus.h, analysis/fast_detectgpt.h).
#pragma once

#include <cstdint>
#include <vector>

namespace ts {

struct TopEntry {
  int32_t id = 0;
  double logprob = 0;
};

struct TokenStats {
  int32_t id = -1;        // the actual next token (-1: none, statistics of the distribution only)
  double logprob = 0;     // log p(id), natural log
  int64_t rank = 0;       // 1 = most likely
  double entropy = 0;     // nats
  double log_z = 0;       // log-partition, so any logprob is z_i − log_z
  double varentropy = 0;  // Var_p[log p], nats²; ≥ 0
  double max_prob = 0;    // probability of the most likely token
  double margin = 0;      // p_(1) − p_(2); p_(2) = 0 when only one logit is finite
  std::vector<TopEntry> top;  // the k most likely, most likely first (ties: lower id first)
};

// target may be -1 (no actual token). top_k 0 gives no top list. logits: n_vocab floats.
TokenStats token_stats(const float* logits, int64_t n_vocab, int32_t target, int top_k);

}  // namespace ts
