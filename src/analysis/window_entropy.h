// Window entropy and high-window-entropy (HWE) tokens (ARES, "Multimodal Adaptive Reasoning via Difficulty-Aware
// Token-Level Entropy Shaping", arXiv 2510.08457): single-token entropy is noisy; its mean over a sliding window of
// w tokens (w ≈ 4–8) marks sustained uncertainty, the reasoning-critical moments.
//
//   W_t = (1/|I_t|) Σ_{i ∈ I_t} H(p_i),   I_t = [max(0, t − w + 1), t]      a trailing window (causal: usable
//                                                                           while generating); the first w − 1
//                                                                           positions average what exists
//   HWE flags: W_t ≥ quantile_{1−f}(W)       the top fraction f of positions by window entropy (order_stats.h)
//   highest-entropy span: the w consecutive positions [begin, begin + w) with the largest mean entropy (the
//                         earliest on ties; the whole document when it is shorter than w)
// w must be ≥ 1.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "analysis/position_signals.h"

namespace ts::analysis {

std::vector<double> window_entropy(std::span<const PositionSignals> pos, int64_t w);
std::vector<uint8_t> high_window_entropy_flags(std::span<const PositionSignals> pos, int64_t w, double top_fraction);

struct EntropySpan {
  int64_t begin = 0, end = 0;  // positions [begin, end) of the span
  double mean_entropy = 0;     // NaN for an empty document
};
EntropySpan highest_entropy_span(std::span<const PositionSignals> pos, int64_t w);

}  // namespace ts::analysis
