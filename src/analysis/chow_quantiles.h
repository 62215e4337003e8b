// Chow-quantile cascade-deferral features (Gupta et al., ICLR 2024, "Language Model Cascades: Token-Level
// Uncertainty and Beyond"): rather than the sum or mean of per-token confidences (Chow-Sum / Chow-Average), the
// quantiles of the per-token probabilities
//
//   π_t = p_t(x_t),   features = quantile_α(π_1, …, π_n)  for α = 0, 0.1, …, 1
//
// (α = 0 is the least confident token). Linear-interpolated quantiles (order_stats.h). An empty document gives
// NaN for every α.
#pragma once

#include <span>
#include <vector>

#include "analysis/position_signals.h"

namespace ts::analysis {

std::vector<double> chow_quantiles(std::span<const PositionSignals> pos, std::span<const double> alphas);
std::vector<double> chow_quantiles(std::span<const PositionSignals> pos);  // α = 0, 0.1, …, 1 (11 values)

}  // namespace ts::analysis
