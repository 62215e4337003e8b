// Forking tokens (Wang et al. 2025, "Beyond the 80/20 Rule: High-Entropy Minority Tokens Drive Effective
// Reinforcement Learning for LLM Reasoning"): the minority of tokens with the highest entropy H(p_t) are the
// forks where the reasoning path is decided.
//
//   flag_t = H(p_t) ≥ quantile_{1−f}(H(p_1), …, H(p_n))       f = 0.2: the top 20% within the document
//
// The paper picks the top 20% by an entropy percentile; we use the linear quantile (order_stats.h; numpy's and
// torch's default). Ties at the threshold are all flagged, so a few more than f·n tokens may be flagged when
// entropies repeat.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "analysis/position_signals.h"

namespace ts::analysis {

std::vector<uint8_t> forking_token_flags(std::span<const PositionSignals> pos, double top_fraction = 0.2);

}  // namespace ts::analysis
