// Fast-DetectGPT, analytic sampling discrepancy (Bao et al., ICLR 2024, "Fast-DetectGPT: Efficient Zero-Shot
// Detection of Machine-Generated Text via Conditional Probability Curvature"; repo baoguangsheng/fast-detect-gpt):
//
//   LL    = Σ_t log p_t(x_t)                          p: the scoring model
//   μ_t   = Σ_v q_t(v) log p_t(v)                     q: the sampling ("reference") model
//   s2_t  = Σ_v q_t(v) (log p_t(v))² − μ_t²
//   score = (LL − Σ_t μ_t) / sqrt(Σ_t s2_t)            higher ⇒ machine-written
//
// The sums over positions are taken before the division and the square root, exactly as the authors'
// get_sampling_discrepancy_analytic (ll.sum(), mean_ref.sum(), var_ref.sum().sqrt()) — not a mean of per-token
// z-scores. Two settings:
//   SamplingModel::kScoring   q = p (white-box): μ_t = −H(p_t), s2_t = Var_p[log p] (token_stats' varentropy)
//   SamplingModel::kReference q = the reference model of a two-model run: μ_t = −H(q_t, p_t) = −contrast.cross_ab,
//                             s2_t = contrast.var_a_log_b; every position must then carry contrast statistics.
// When Σ s2_t = 0 (every q_t puts all its mass on tokens p rates equally), the score is 0 if LL = Σ μ_t and ±inf
// otherwise. An empty document gives NaN.
#pragma once

#include <span>

#include "analysis/position_signals.h"
#include "tokenscope/expected.h"

namespace ts::analysis {

enum class SamplingModel { kScoring, kReference };

struct FastDetectGptTerms {
  double log_likelihood_sum = 0;  // Σ log p_t(x_t)
  double mean_sum = 0;            // Σ μ_t
  double variance_sum = 0;        // Σ s2_t
  double score = 0;               // (LL − Σ μ_t) / sqrt(Σ s2_t)
};

// Error (input) when sampling is kReference and a position has no reference statistics.
Expected<FastDetectGptTerms> fast_detectgpt(std::span<const PositionSignals> pos, SamplingModel sampling);

}  // namespace ts::analysis
