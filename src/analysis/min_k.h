// Min-K% Prob (Shi et al., ICLR 2024, "Detecting Pretraining Data from Large Language Models"; repo
// swj0419/detect-pretrain-code):
//
//   score = mean of the ⌊n·k⌋ lowest log p_t(x_t)      k = 0.2 by default;   higher ⇒ member (seen in training)
//
// The authors' code reports −score under a "larger ⇒ non-member" convention; we keep the sign of the paper's
// formula. ⌊n·k⌋ = 0 (documents shorter than 1/k tokens) takes the single lowest value instead of the code's
// empty mean (analysis/order_stats.h). An empty document gives NaN.
#pragma once

#include <span>

#include "analysis/position_signals.h"

namespace ts::analysis {

double min_k_prob(std::span<const PositionSignals> pos, double k = 0.2);

}  // namespace ts::analysis
