// Log-likelihood of a document under the scoring model, and what is made of it.
//
//   log-likelihood  LL = (1/n) Σ_t log p_t(x_t)        Gehrmann et al. 2019 (GLTR), Solaiman et al. 2019: higher ⇒
//                                                      machine-written; Yeom et al. 2018 "loss" attack: higher ⇒ member
//   NLL sum         −Σ_t log p_t(x_t)                  lm-polygraph "Maximum Sequence Probability" (higher ⇒ uncertain)
//   NLL mean        −LL;   perplexity exp(−LL)          lm-polygraph "Perplexity"
//   bits per byte   −Σ_t log p_t(x_t) / ln 2 / bytes    bytes: UTF-8 length of the scored text (0 bytes gives 0)
// These are the numbers `tokenscope score` prints per document. An empty document gives NaN means.
#pragma once

#include <cstdint>
#include <span>

#include "analysis/position_signals.h"

namespace ts::analysis {

double log_likelihood(std::span<const PositionSignals> pos);

struct Perplexity {
  int64_t tokens = 0;
  double nll_sum = 0;        // nats
  double nll_mean = 0;       // nats per token
  double ppl = 0;            // exp(nll_mean)
  double bits_per_byte = 0;  // 0 when text_bytes is 0
};
Perplexity perplexity(std::span<const PositionSignals> pos, int64_t text_bytes);

}  // namespace ts::analysis
