// LRR, the Log-likelihood Log-Rank Ratio (Su et al. 2023, "DetectLLM: Leveraging Log Rank Information for
// Zero-Shot Detection of Machine-Generated Text"):
//
//   LRR = −Σ_t log p_t(x_t) / Σ_t log rank_t(x_t)          higher ⇒ machine-written
//
// (the paper writes it with means, −(1/n)Σ log p / (1/n)Σ log r; the n cancels). When every token is the model's
// top choice, Σ log rank = 0: the score is +inf (the most machine-like value) — the authors' code divides by zero
// there. An empty document gives NaN.
#pragma once

#include <span>

#include "analysis/position_signals.h"

namespace ts::analysis {

double lrr(std::span<const PositionSignals> pos);

}  // namespace ts::analysis
