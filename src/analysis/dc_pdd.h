// DC-PDD, divergence-based calibration for pretraining-data detection (Zhang et al., EMNLP 2024, "Pretraining Data
// Detection for Large Language Models: A Divergence-based Calibration Method"; repo zhang-wei-chao/DC-PDD).
//
// A reference token-frequency distribution from a large public corpus, Laplace-smoothed:
//   f(v) = (count(v) + 1) / (N + |V|),   N = Σ_v count(v)
// and over the FIRST occurrence of each distinct token in the text only:
//   α_t   = p_t(x_t) · (−log f(x_t))           p_t(x_t) a probability, not a log-probability
//   α_t   = min(α_t, a)                         a = 0.01 by default (the repo's --a)
//   score = mean of α_t over those positions     higher ⇒ member
//
// As the authors' com_det_sco.py (ce = x_pro · log(1/x_fre) over first-occurrence indexes, ce[ce > a] = a), which
// reports −mean(ce) under its "larger ⇒ non-member" convention; we keep the paper's sign. Token counts come from
// the same tokenizer as the scored text (the repo counts the first 1024 tokens of each C4 document).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "analysis/position_signals.h"
#include "tokenscope/expected.h"

namespace ts::analysis {

class TokenFrequency {
 public:
  // counts[v]: occurrences of token v in the reference corpus; |V| = counts.size().
  explicit TokenFrequency(std::vector<uint64_t> counts);
  int64_t vocab_size() const { return static_cast<int64_t>(counts_.size()); }
  uint64_t total() const { return total_; }
  double freq(int32_t id) const;          // f(id); id must be in [0, vocab_size)
  double neg_log_freq(int32_t id) const;  // −log f(id)

 private:
  std::vector<uint64_t> counts_;
  uint64_t total_ = 0;
};

// Error (input) when a token id lies outside the frequency table. An empty document gives NaN.
Expected<double> dc_pdd(std::span<const PositionSignals> pos, const TokenFrequency& freq, double a = 0.01);

}  // namespace ts::analysis
