// Statistics of one next-token distribution, computed from raw logits in a single fused pass.
//
//   log p_i = z_i − logZ,   logZ = m + log Σ_j e^{z_j − m}            (m = max_j z_j, tracked online)
//   H = −Σ p_i log p_i = log S − T / S,   S = Σ e^{z_j − m},  T = Σ e^{z_j − m}(z_j − m)
//   rank(t) = 1 + #{ j : z_j > z_t }        (1 = most likely; ties share the better rank)
//
// When the running maximum rises from m to m', S ← S·e^{m−m'} and T ← e^{m−m'}(T + (m−m')·S), so S, T, the rank
// count and a size-k min-heap for the top-k all come from one read of the logits. S and T accumulate in double.
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
  std::vector<TopEntry> top;  // the k most likely, most likely first (ties: lower id first)
};

// target may be -1 (no actual token). top_k 0 gives no top list. logits: n_vocab floats.
TokenStats token_stats(const float* logits, int64_t n_vocab, int32_t target, int top_k);

}  // namespace ts
