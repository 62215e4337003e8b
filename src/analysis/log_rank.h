// Log-rank score (GLTR-style; Gehrmann et al. 2019, used as a baseline by DetectGPT and DetectLLM):
//
//   score = −(1/n) Σ_t log rank_t(x_t),   rank 1 = most likely          higher ⇒ machine-written
//
// Every position must carry its target's rank (≥ 1). An empty document gives NaN.
#pragma once

#include <span>

#include "analysis/position_signals.h"

namespace ts::analysis {

double log_rank_score(std::span<const PositionSignals> pos);

}  // namespace ts::analysis
