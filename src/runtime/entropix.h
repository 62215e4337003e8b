// Entropix-style entropy/varentropy adaptive sampling, the logit part (xjdr-alt/entropix, entropix/sampler.py;
// ../shared/docs/decoding.md §1.15).
//
// At each step the raw distribution p = softmax(z) of the model gives, in bits,
//   H = −Σ p log2 p,        V = Σ p (log2 p + H)²   (= Var[−log2 p])
// and (H, V) pick a state, first match wins (defaults: low_ent = low_vent = 0.1, med_ent = 3, high_ent = high_vent = 5):
//   1. flowing    H < low_ent  ∧ V < low_vent   argmax
//   2. treading   H > high_ent ∧ V < low_vent   insert clarify_token unless the previous token is it (only when a
//                                               token is configured: the reference's id 2564 is model-specific);
//                                               otherwise sample with T' = min(1.5, T·(1.3 + 0.2·a_H))
//   3. forks      H < high_ent ∧ V > high_vent  T' = min(1.5, T·(1.2 + 0.3·s)), k' = max(5, ⌊k·(1 + 0.5·(1 − g))⌋)
//   4. mist       H > med_ent  ∧ V > high_vent  T' = max(2, T·(2 + 0.5·a_V)), P' = max(0.5, P − 0.2·a_H)
//                                               (reached only when 3 fails, so in effect H ≥ high_ent)
//   5. adaptive   otherwise                     T' = T·(1 + 0.3(H + V) + 0.2(a_H + a_V) − 0.2·g),
//                                               P' = clip(P·(1 + 0.1·a_V), 0.1, 1),
//                                               k' = clip(round(k·(1 + 0.3·s − 0.2·g)), 1, 100),
//                                               m' = clip(m·(1 − 0.5(H + V)), 0.01, 0.5),
//                                               best of n = 5 samples by log p
// where T, P, k, m are the base temperature, top-p, top-k and min-p (0.666, 0.90, 27, 0.03) and a_H, a_V, g, s the
// attention entropy, attention varentropy, head agreement and interaction strength. This decoder has no attention
// statistics: it passes them as 0 (EntropixAttention{}), which is what the formulas above reduce to.
//
// Sampling with (T', P', k', m') is the reference's _sample order: logits / T', then min-p, top-k and top-p on the
// tempered distribution. Two departures from the reference code, both towards what it means to do:
//  - min-p takes effect (in _sample it edits `logit` after top-k was already taken from `probs`, a no-op at
//    cceeb84/9d41be6; 97a51d3 fixes it);
//  - top-p keeps the most probable tokens (the reference flips the top-k list to ascending order before its
//    cumulative sum, so when it fires it drops the head, not the tail).
// "Best of n by log p" adds the same confidence term to every sample, so it is the sample with the highest log p
// among n independent draws from q (the shaped distribution). With q sorted descending and tails T_i = Σ_{j≥i} q_j,
//   P(best = x_i) = T_i^n − T_{i+1}^n,
// which is the processed distribution this decoder records and draws from (one draw, the same law as n draws).
//
// The caller's chain runs first, on the raw logits: use it for penalties, logit bias or DRY (Chain() — dist alone —
// for plain entropix); its own temperature or truncations would stack with the state's. Its selector is not used; its
// accept() runs once per emitted token. The state is chosen from the raw distribution, before the chain.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "runtime/generator.h"
#include "runtime/speculative.h"
#include "sampling/candidates.h"

namespace ts {

enum class EntropixState { kFlowing, kTreading, kForks, kMist, kAdaptive };
inline constexpr int kEntropixStates = 5;
const char* entropix_state_name(EntropixState s);  // "flowing", "treading", "forks", "mist", "adaptive"

struct EntropixOptions {
  double temp = 0.666;   // base temperature T
  double top_p = 0.90;   // P
  int top_k = 27;        // k
  double min_p = 0.03;   // m
  double low_ent = 0.1, low_vent = 0.1;   // bits, bits²
  double med_ent = 3.0;
  double high_ent = 5.0, high_vent = 5.0;
  int n_adaptive_samples = 5;
  int32_t clarify_token = -1;  // token "treading" inserts; -1: none (sample with the raised temperature instead)
};

// The attention statistics of full entropix; 0 in this logit-only decoder.
struct EntropixAttention {
  double entropy = 0, varentropy = 0, agreement = 0, interaction = 0;
};

// What one step does.
struct EntropixAction {
  EntropixState state = EntropixState::kAdaptive;
  bool argmax = false;  // flowing
  bool insert = false;  // treading with a clarify token: emit it
  double temp = 1, top_p = 1, min_p = 0;
  int top_k = 0;
  int n_samples = 1;    // best of n (adaptive)
};

EntropixState entropix_state(double entropy_bits, double varentropy_bits, const EntropixOptions& o);
// previous_token: the last token of the sequence so far (the clarify token is not inserted twice in a row).
EntropixAction entropix_action(double entropy_bits, double varentropy_bits, int32_t previous_token,
                               const EntropixOptions& o, const EntropixAttention& attn = {});

// The distribution a sampling action draws from: base's logits / temp, then min-p, top-k, top-p, softmax, and for
// n_samples > 1 the best-of-n law above. p > 0 for every candidate left; sorted most probable first.
sampling::Candidates entropix_distribution(sampling::Candidates base, const EntropixAction& a);
// In place: q (normalised) → the law of the most probable of n independent draws from q.
void best_of_n(sampling::Candidates& q, int n);

struct EntropixStep {
  int64_t index = 0;           // of the token this step emitted
  double entropy_bits = 0, varentropy_bits = 0;  // of the raw distribution
  EntropixAction action;
};
using EntropixStepSink = std::function<void(const EntropixStep&)>;

struct EntropixSummary : GenerateSummary {
  int64_t per_state[kEntropixStates] = {};  // tokens emitted in each state, indexed by EntropixState
  int64_t inserted = 0;                     // clarify tokens inserted
};

// The decoding loop over an oracle (tests give it scripted logits). on_step, if set, runs before sink per token.
Expected<EntropixSummary> entropix_loop(const Engine& engine, LogitOracle& oracle, const std::vector<int32_t>& prompt,
                                        sampling::Chain& chain, sampling::Rng& rng, const GenerateOptions& opt,
                                        const EntropixOptions& eo, const GenSink& sink,
                                        const EntropixStepSink& on_step = nullptr);

Expected<EntropixSummary> generate_entropix(const Engine& engine, const std::vector<int32_t>& prompt,
                                            sampling::Chain& chain, sampling::Rng& rng, const GenerateOptions& opt,
                                            const EntropixOptions& eo, ThreadPool& pool, const GenSink& sink,
                                            const EntropixStepSink& on_step = nullptr);

}  // namespace ts
