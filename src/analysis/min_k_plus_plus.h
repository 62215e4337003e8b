// Min-K%++ (Zhang et al., ICLR 2025, "Min-K%++: Improved Baseline for Detecting Pre-Training Data from Large
// Language Models"; repo zjysteven/mink-plus-plus):
//
//   μ_t = Σ_v p_t(v) log p_t(v) = −H(p_t)
//   σ_t² = Σ_v p_t(v) (log p_t(v))² − μ_t² = varentropy(p_t)
//   s_t = (log p_t(x_t) − μ_t) / σ_t
//   score = mean of the ⌊n·k⌋ lowest s_t            k = 0.2 by default;   higher ⇒ member
//
// As the authors' run.py (mu, sigma, (token_log_probs − mu)/sqrt(sigma), mean of the int(n·k) smallest); all from
// token_stats' one pass. A flat distribution on its support has σ_t = 0: s_t is then 0 (x_t is exactly as likely
// as the average) where the code would divide 0 by 0. ⌊n·k⌋ = 0 takes the single lowest s_t (analysis/
// order_stats.h). An empty document gives NaN.
#pragma once

#include <span>

#include "analysis/position_signals.h"

namespace ts::analysis {

double min_k_plus_plus_token(const PositionSignals& p);  // s_t
double min_k_plus_plus(std::span<const PositionSignals> pos, double k = 0.2);

}  // namespace ts::analysis
