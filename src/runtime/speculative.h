// Lossless speculative decoding (Leviathan, Kalman, Matias, ICML 2023; Chen et al. 2023; ../shared/docs/decoding.md
// §2.1, §2.2, §2.5).
//
// Each round a drafter proposes x̃_1..x̃_γ after the committed tokens c; one batched target pass gives the processed
// (post-chain) distributions p_1..p_{γ+1}; the tokens are then verified left to right:
//   - explicit draft distribution q_i (a draft model sampling from its own post-chain distribution):
//       accept x̃_i when r < min(1, p_i(x̃_i) / q_i(x̃_i)), r ~ U(0,1); otherwise emit x ~ norm(max(0, p_i − q_i)) and
//       end the round;
//   - deterministic drafts (the draft model's argmax with greedy_draft, or n-gram lookup), q one-hot: emit
//     y ~ p_i with the chain's own selector and accept iff y = x̃_i ("sample and compare", the same rule for
//     one-hot q). This consumes the random stream exactly as plain generation does, so a seeded run emits the same
//     tokens as generate() with the same seed;
//   - all γ accepted: a bonus token x ~ p_{γ+1}.
// Either way every emitted token is distributed as in plain sampling from the chain. p and q are both the chain's
// processed distributions (q from a copy of the chain advanced along the drafted tokens); the target chain's
// accept() runs once per emitted token, so stateful samplers (mirostat) advance only along accepted text.
//
// Draft length: at most n_draft; with stop_h in (0, 1) drafting also stops as soon as the estimated probability
// that some drafted token is rejected, 1 − Π_j q_j(x̃_j), exceeds stop_h (SpecDec++'s threshold policy, with the
// draft's own probability as the acceptance estimate in place of a trained head).
// N-gram drafting (prompt lookup, Saxena 2023): the longest suffix of the committed tokens of length n_max..n_min
// that occurred earlier proposes the tokens that followed its latest earlier occurrence.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "runtime/generator.h"
#include "runtime/model_sequence.h"
#include "sampling/candidates.h"

namespace ts {

struct SpeculativeOptions {
  const Engine* draft = nullptr;  // draft model (same vocabulary); null: n-gram lookup
  int n_draft = 8;                // most tokens drafted per round
  bool greedy_draft = false;      // draft model proposes its argmax (deterministic draft) instead of sampling q
  double stop_h = 0;              // adaptive length threshold in (0, 1); 0: off
  int ngram_min = 1, ngram_max = 3;
  uint64_t draft_seed = 0x5eed;   // the draft model's own random stream
};

struct Verdict {
  int32_t token = -1;
  bool accepted = false;
};

// The general rule at one drafted position: p, q processed distributions (normalised), x drawn from q.
Verdict verify_with_q(const sampling::Candidates& p, const sampling::Candidates& q, int32_t x, sampling::Rng& rng,
                      std::vector<float>& scratch);
// One-hot draft: y = chain.select(p, rng); accepted iff y == x.
Verdict verify_one_hot(const sampling::Candidates& p, int32_t x, const sampling::Chain& chain, sampling::Rng& rng);

// Prompt lookup: up to k tokens that followed the latest earlier occurrence of the longest matching suffix.
std::vector<int32_t> ngram_draft(const std::vector<int32_t>& history, int n_min, int n_max, int k);

// Errors when the two models' vocabularies differ (size, or the text of any token), naming the first difference.
Status check_same_vocabulary(const Engine& target, const Engine& draft, const std::string& draft_name);

// Where a decoder's logits come from: a model sequence (ModelOracle), or, in tests, a memo of one keyed by prefix.
class LogitOracle {
 public:
  virtual ~LogitOracle() = default;
  // As ModelSequence::logits_after: rows after tokens[from..n).
  virtual Status logits_after(std::span<const int32_t> tokens, int64_t from, std::vector<float>& out) = 0;
};

class ModelOracle : public LogitOracle {
 public:
  ModelOracle(const Model& model, int64_t capacity, ThreadPool& pool) : seq_(model, capacity), pool_(&pool) {}
  Status logits_after(std::span<const int32_t> tokens, int64_t from, std::vector<float>& out) override {
    return seq_.logits_after(tokens, from, out, *pool_);
  }

 private:
  ModelSequence seq_;
  ThreadPool* pool_;
};

// The decoding loop over oracles (draft_oracle null: n-gram drafting; spec.draft must then be null too).
Expected<GenerateSummary> speculative_loop(const Engine& target, LogitOracle& target_oracle, LogitOracle* draft_oracle,
                                           const std::vector<int32_t>& prompt, sampling::Chain& chain,
                                           sampling::Rng& rng, const GenerateOptions& opt,
                                           const SpeculativeOptions& spec, const GenSink& sink);

Expected<GenerateSummary> generate_speculative(const Engine& target, const std::vector<int32_t>& prompt,
                                               sampling::Chain& chain, sampling::Rng& rng,
                                               const GenerateOptions& opt, const SpeculativeOptions& spec,
                                               ThreadPool& pool, const GenSink& sink);

}  // namespace ts
