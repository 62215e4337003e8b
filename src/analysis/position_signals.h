// The per-position record that the document-level detectors read (analysis/*.h take a span of them).
//
// The runtime fills one PositionSignals per predicted token x_t: the single-model fields from token_stats() of the
// SCORING model p at that position, and — in two-model runs — the contrast fields from contrast_stats() with
// A = the REFERENCE model q and B = the scoring model p, on the same tokenization. The roles, for each method:
//   scoring model p   = Fast-DetectGPT's scoring model = Binoculars' performer M2 = the only model otherwise
//   reference model q = Fast-DetectGPT's sampling ("reference") model = Binoculars' observer M1
// With one model, Fast-DetectGPT's μ_t and s2_t are −entropy and varentropy (white-box, q = p).
#pragma once

#include <cstdint>

#include "analysis/contrast.h"
#include "analysis/token_stats.h"

namespace ts::analysis {

struct PositionSignals {
  int32_t id = -1;        // x_t
  double logprob = 0;     // log p_t(x_t), nats
  int64_t rank = 0;       // rank of x_t under p_t, 1 = most likely (≥ 1 for every scored position)
  double entropy = 0;     // H(p_t), nats
  double varentropy = 0;  // Var_{p_t}[log p_t], nats²
  double max_prob = 0;    // max_v p_t(v)
  double margin = 0;      // p_(1) − p_(2)
  bool has_reference = false;  // contrast is filled
  ContrastStats contrast;      // A = reference q, B = scoring p (contrast.logprob_b == logprob)
};

PositionSignals position_signals(const TokenStats& scoring);
PositionSignals position_signals(const TokenStats& scoring, const ContrastStats& reference_vs_scoring);

}  // namespace ts::analysis
