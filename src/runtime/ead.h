// Entropy Adaptive Decoding (EAD; Simonds, "Entropy Adaptive Decoding: Dynamic Model Switching for Efficient
// Inference", arXiv 2502.06833; ../shared/docs/decoding.md §1.17).
//
// A small model M_S and a large model M_L (same vocabulary) share one token history. At step t the current model's
// raw logits give, before any temperature,
//   H_t = −Σ p log2 p  (bits),      H̄_t = mean of H_{t−w+1..t}   (w = 5; fewer while fewer than w steps exist)
// where each H_i is the entropy of the model that produced token i. The token of step t comes from the current
// model's logits through the caller's chain; then H̄_t picks the model for step t + 1:
//   current M_S and H̄_t > τ                                  → M_L
//   current M_L, H̄_t ≤ τ, and M_L has produced ≥ min_stay tokens since it took over → M_S
// Generation starts on M_S. The model taking over is given the whole history, so it catches up on the tokens it has
// not seen in one batched forward (ModelSequence keeps its cache of the common prefix).
//
// Defaults: w = 5 (the paper). τ and the minimum stay are not given in decoding.md (the paper sweeps τ; "the exact
// hysteresis value was not recovered"): τ = 2 bits, min_stay = w = 5, so that control can return to M_S only once the
// window holds M_L's own entropies. The output is not M_L's distribution (EAD accepts the divergence); with τ = +inf
// it is plain generation with M_S, token for token.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <vector>

#include "runtime/generator.h"
#include "runtime/speculative.h"

namespace ts {

struct EadOptions {
  double threshold = 2.0;  // τ, bits, on the rolling mean
  int window = 5;          // w
  int min_stay = 5;        // tokens M_L produces before control may return to M_S (≤ 1: none)
};

enum class EadModel { kSmall, kLarge };

// The switching rule alone, fed one entropy per step.
class EadSwitch {
 public:
  explicit EadSwitch(const EadOptions& o) : o_(o) {}
  // The entropy (bits) of the distribution the current model gave at this step; returns the model for the next.
  EadModel observe(double entropy_bits);
  EadModel current() const { return current_; }
  double mean() const { return mean_; }  // H̄ after the last observe()

 private:
  EadOptions o_;
  EadModel current_ = EadModel::kSmall;
  std::deque<double> window_;
  double mean_ = 0;
  int64_t stay_ = 0;  // tokens the current model has produced since it took over
};

struct EadStep {
  int64_t index = 0;
  EadModel model = EadModel::kSmall;  // the model that produced this token
  double entropy_bits = 0;            // H_t of that model's raw distribution
  double mean_bits = 0;               // H̄_t
  EadModel next = EadModel::kSmall;   // the model for the next token
};
using EadStepSink = std::function<void(const EadStep&)>;

struct EadSummary : GenerateSummary {
  int64_t large_tokens = 0;  // tokens produced by M_L
  int64_t switches = 0;      // changes of model, both ways
  int64_t small_positions = 0, large_positions = 0;  // forward positions per model (generate_ead only)
  double large_fraction() const { return generated ? static_cast<double>(large_tokens) / generated : 0.0; }
};

// vocab: the engine whose tokenizer gives end-of-generation and token text (either model: their vocabularies match).
Expected<EadSummary> ead_loop(const Engine& vocab, LogitOracle& large, LogitOracle& small,
                              const std::vector<int32_t>& prompt, sampling::Chain& chain, sampling::Rng& rng,
                              const GenerateOptions& opt, const EadOptions& eo, const GenSink& sink,
                              const EadStepSink& on_step = nullptr);

// Errors when the vocabularies differ or the small model's context is shorter than the run needs.
Expected<EadSummary> generate_ead(const Engine& large, const Engine& small, const std::vector<int32_t>& prompt,
                                  sampling::Chain& chain, sampling::Rng& rng, const GenerateOptions& opt,
                                  const EadOptions& eo, ThreadPool& pool, const GenSink& sink,
                                  const EadStepSink& on_step = nullptr);

}  // namespace ts
