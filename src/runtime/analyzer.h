// Running one or more models over the same token ids in lockstep and reducing each position's distributions to the
// per-position signals of analysis/position_signals.h — the input of every detector and membership score.
//
// Lockstep: every model sees the same ids at the same positions, in the same chunks of `batch` positions, each with
// its own KV cache; after each chunk the rows of all models are reduced together (token_stats of each scoring
// model, contrast_stats of each (reference, scoring) pair), so the logits of a chunk are read while still in memory
// and never stored for the whole document. One forward pass per model per document.
//
// Windowing follows score_sequence (runtime/scorer.h) exactly: position i (1 ≤ i < n) is the prediction of ids[i]
// from ids[0..i); sequences longer than the context C are scored in windows of C tokens with stride C/2, each from a
// fresh cache, scoring only positions not scored before. With the same ctx and batch, the logits — and so logprob,
// rank and entropy — are bit-identical to `tokenscope score`'s. C is the smallest of the models' contexts.
//
// Context shift (CK-PLUG's confidence gain, Critical Tokens' contrast): the same model on the answer with and without
// a context prefix. Both runs predict the same answer ids: without = plain_prefix ++ answer, with = context_prefix ++
// answer; answer token j is predicted from prefix ++ answer[0..j). ContrastStats with A = with context, B = without:
//   logprob shift  = log p(x_j | ctx, x_<j) − log p(x_j | x_<j)   = contrast.logprob_diff  (lm-polygraph's PMI term)
//   entropy shift  = H(p(· | x_<j)) − H(p(· | ctx, x_<j))          = entropy_b − entropy_a  (CK-PLUG: < 0 ⇒ conflict)
// Windowing of the answer as above with C reduced by the longer prefix (each window re-reads its prefix).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "analysis/position_signals.h"
#include "analysis/token_stats.h"
#include "model/model.h"
#include "runtime/engine.h"
#include "tensor/thread_pool.h"
#include "tokenscope/expected.h"

namespace ts {

struct AnalyzerOptions {
  int64_t ctx = 0;      // window; 0: the smallest training context of the models, capped at 4096
  int64_t batch = 256;  // positions per forward call
  int top_k = 0;        // alternatives kept in AnalyzedPosition::stats (the first pair's scoring model)
};

// One set of PositionSignals: `scoring` is p (Fast-DetectGPT's scoring model, Binoculars' performer); `reference`,
// when not null, is q (Fast-DetectGPT's sampling model, Binoculars' observer) and fills the contrast fields.
struct SignalPair {
  const Model* scoring = nullptr;
  const Model* reference = nullptr;
};

struct AnalyzedPosition {
  int64_t pos = 0;                                 // index in ids of the predicted token
  TokenStats stats;                                // token_stats of pairs[0].scoring, with top_k alternatives
  std::vector<analysis::PositionSignals> signals;  // one per pair, in the order given
};

// Calls sink for positions 1..n−1 in order. A model appearing in several pairs runs once. Models must share the
// vocabulary size (check_shared_vocabulary checks the texts too). Errors: bad ids, context < 2, no pairs.
Status analyze_sequence(std::span<const SignalPair> pairs, const std::vector<int32_t>& ids,
                        const AnalyzerOptions& opt, ThreadPool& pool,
                        const std::function<void(const AnalyzedPosition&)>& sink);

// The common single-model case: signals of `scoring` alone, or with `reference` (may be null).
Status analyze_sequence(const Model& scoring, const Model* reference, const std::vector<int32_t>& ids,
                        const AnalyzerOptions& opt, ThreadPool& pool,
                        const std::function<void(const AnalyzedPosition&)>& sink);

struct ContextShiftPosition {
  int64_t index = 0;                 // index in the answer ids
  analysis::ContrastStats contrast;  // A = with context, B = without (see the header comment)
};

// Calls sink for every answer token that both runs can predict (all of them when plain_prefix is non-empty, else
// from index 1), in order. Errors: context + window too long for the model, bad ids.
Status analyze_context_shift(const Model& model, const std::vector<int32_t>& context_prefix,
                             const std::vector<int32_t>& plain_prefix, const std::vector<int32_t>& answer,
                             const AnalyzerOptions& opt, ThreadPool& pool,
                             const std::function<void(const ContextShiftPosition&)>& sink);

// Errors (input) unless the two models have the same logit count, tokenizer size and token texts; the message names
// both files and the first differing id.
Status check_shared_vocabulary(const Engine& a, const std::string& a_path, const Engine& b, const std::string& b_path);

}  // namespace ts
