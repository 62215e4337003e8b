// Cautious Next Token Prediction (CNTP; Wang, Zhang, Bai, Chiu, Hu, Zhang, Dong, Yin, Amirghodsi, Fu, Findings of
// ACL 2025, arXiv 2507.03038; code: wyzjack/CNTP, README `_sample_reflect_perplexity`; ../shared/docs/decoding.md
// §1.16).
//
// At each step, with q the processed (post-chain) distribution and H = −Σ q ln q its entropy in nats,
//   N = ⌊1 + (N_max − 1) · clip((H − H_low) / (H_high − H_low), 0, 1)⌋          (H_low 0.01, H_high 1.5, N_max 10)
// N = 1: one ordinary step (chain.apply, chain.select, chain.accept — exactly generate()'s, same random draws).
// N > 1: N independent rollouts from this point, each on its own fork of the chain, drawing in turn from the shared
// Rng. A rollout's first token is drawn from q; it continues token by token (logits of history + rollout so far)
// and ends after a punctuation token, an end-of-generation token (unless ignore_eos), at the token budget (what is
// left of n_new and of the context) or, if set, at max_segment tokens. Its perplexity is
//   PPL = exp(−(1/L) Σ_t ln q_t(x_t))       (q_t: the processed distribution the rollout drew x_t from)
// and the whole segment of the lowest-PPL rollout (the first one on ties) is committed, with its fork of the chain.
//
// Punctuation: the authors stop on the ids of the first token of encode(s) for s in . , \n ? ! : ; ) ] } — the bare
// character's token. Here a token stops a rollout when its decoded bytes, leading spaces removed, are exactly one of
// those characters (so " ." stops too; ".\n" or "..." does not), which does not depend on how encode() splits a lone
// character. The authors' rollouts have no length cap (max_segment 0 here).
//
// Cost: N·L single-token forwards per branched step, plus re-feeding the committed segment (one batched forward)
// when the winner is not the last rollout run — the rollouts share one KV cache, which keeps the common prefix
// (LogitOracle / ModelSequence) and rolls back for free.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/generator.h"
#include "runtime/speculative.h"

namespace ts {

struct CntpOptions {
  double entropy_low = 0.01;   // H_low, nats
  double entropy_high = 1.5;   // H_high, nats
  int max_trials = 10;         // N_max; 1 makes CNTP plain sampling
  int max_segment = 0;         // most tokens per rollout; 0: no cap beyond the budget (the authors' code)
  std::string stops = ".,\n?!:;)]}";  // the punctuation characters that end a rollout
};

int cntp_trials(double entropy_nats, const CntpOptions& o);
// True if the token's decoded bytes, leading spaces removed, are exactly one of o.stops' characters.
bool cntp_is_stop(std::string_view token_bytes, const CntpOptions& o);
// exp(−mean logprob); 1 for an empty segment.
double segment_perplexity(const std::vector<double>& logprobs);

struct CntpStep {
  int64_t index = 0;     // of the segment's first token
  double entropy = 0;    // H of the processed distribution, nats
  int trials = 1;        // N (1: an ordinary step)
  int chosen = 0;        // the committed rollout
  std::vector<std::vector<int32_t>> segments;  // every rollout's tokens (N = 1: the one token)
  std::vector<double> perplexities;            // every rollout's PPL
};
using CntpStepSink = std::function<void(const CntpStep&)>;

struct CntpSummary : GenerateSummary {
  int64_t branched_steps = 0;   // steps with N > 1
  int64_t rollouts = 0;         // rollouts run
  int64_t rollout_tokens = 0;   // tokens sampled in rollouts (committed or not)
  int64_t positions_evaluated = 0;  // forward positions (generate_cntp only; the loop cannot see its oracle's work)
};

// on_step, if set, runs once per step before the sink sees that step's tokens.
Expected<CntpSummary> cntp_loop(const Engine& engine, LogitOracle& oracle, const std::vector<int32_t>& prompt,
                                sampling::Chain& chain, sampling::Rng& rng, const GenerateOptions& opt,
                                const CntpOptions& co, const GenSink& sink, const CntpStepSink& on_step = nullptr);

Expected<CntpSummary> generate_cntp(const Engine& engine, const std::vector<int32_t>& prompt, sampling::Chain& chain,
                                    sampling::Rng& rng, const GenerateOptions& opt, const CntpOptions& co,
                                    ThreadPool& pool, const GenSink& sink, const CntpStepSink& on_step = nullptr);

}  // namespace ts
