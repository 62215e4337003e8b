// Binoculars (Hans et al., ICML 2024, "Spotting LLMs With Binoculars: Zero-Shot Detection of Machine-Generated
// Text"; repo ahans30/Binoculars). Observer M1 and performer M2 share a tokenizer:
//
//   log PPL_M2(x) = −(1/n) Σ_t log M2_t(x_t)
//   X-PPL(x)      = −(1/n) Σ_t Σ_v M1_t(v) log M2_t(v)       the observer's distribution scored by the performer
//   B(x)          = log PPL_M2(x) / X-PPL(x)                  lower ⇒ machine-written
//
// Roles follow the authors' detector.py, which docs/detection.md checked: ppl = perplexity(performer_logits),
// x_ppl = entropy(observer_logits, performer_logits) = softmax(observer) · −log_softmax(performer). In our
// PositionSignals the performer M2 is the scoring model (logprob) and the observer M1 the reference model, so the
// per-position X-PPL term is contrast.cross_ab = H(M1_t, M2_t). Defaults there: observer Falcon-7B, performer
// Falcon-7B-instruct; thresholds 0.9015 (accuracy) / 0.8536 (low FPR), B below the threshold ⇒ machine.
// Deviation: the authors' x_ppl also averages the distribution after the last token (its logits are not shifted),
// so its mean runs over one more position than ppl's; we average both over the same scored positions.
// An empty document gives NaN.
#pragma once

#include <span>

#include "analysis/position_signals.h"
#include "tokenscope/expected.h"

namespace ts::analysis {

struct BinocularsTerms {
  double log_ppl = 0;  // log PPL under the performer, nats per token
  double x_ppl = 0;    // mean cross-entropy observer → performer, nats per token
  double score = 0;    // log_ppl / x_ppl
};

// Error (input) when a position has no reference (observer) statistics.
Expected<BinocularsTerms> binoculars(std::span<const PositionSignals> pos);

}  // namespace ts::analysis
