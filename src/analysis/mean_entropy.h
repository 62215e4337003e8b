// Mean token entropy of the scoring model's next-token distributions:
//
//   mean_entropy = (1/n) Σ_t H(p_t)
//
// lm-polygraph's "Mean Token Entropy" uncertainty estimator reports it as is (higher ⇒ more uncertain); the
// entropy baseline for machine-text detection (Gehrmann et al. 2019; the DetectGPT paper's baselines) reports
// −mean_entropy so that higher ⇒ machine-written, since machine text tends to have lower entropy.
// An empty document gives NaN.
#pragma once

#include <span>

#include "analysis/position_signals.h"

namespace ts::analysis {

double mean_entropy(std::span<const PositionSignals> pos);
inline double entropy_detector_score(std::span<const PositionSignals> pos) { return -mean_entropy(pos); }

}  // namespace ts::analysis
