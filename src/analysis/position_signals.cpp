#include "analysis/position_signals.h"

namespace ts::analysis {

PositionSignals position_signals(const TokenStats& scoring) {
  PositionSignals p;
  p.id = scoring.id;
  p.logprob = scoring.logprob;
  p.rank = scoring.rank;
  p.entropy = scoring.entropy;
  p.varentropy = scoring.varentropy;
  p.max_prob = scoring.max_prob;
  p.margin = scoring.margin;
  return p;
}

PositionSignals position_signals(const TokenStats& scoring, const ContrastStats& reference_vs_scoring) {
  PositionSignals p = position_signals(scoring);
  p.has_reference = true;
  p.contrast = reference_vs_scoring;
  return p;
}

}  // namespace ts::analysis
