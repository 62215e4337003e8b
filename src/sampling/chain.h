// Chain: an ordered list of shaping samplers and one selector; the unit the generation loop and the speculative
// decoder work with.
//
//   Candidates dist = chain.apply(logits, n_vocab, ctx);   // the processed distribution: kept ids, normalised p
//   int32_t tok = chain.select(dist, rng);                  // one uniform draw (greedy: none)
//   chain.accept(tok);                                      // the only call that moves state (mirostat's μ)
//
// apply() runs every shaper in order, then the selector's own truncation (greedy: the argmax; mirostat: its k or μ
// cut), then a softmax, and drops tokens whose p is 0 (banned by logit_bias, or underflowed). The result is exactly
// the distribution select() draws from, so speculative verification can use it as the target p. apply() never
// changes state: calling it twice, or on a copy, gives the same result (the rng in ctx, used by XTC, is the
// caller's). A Chain is a value: copying it forks every sampler with its state, for speculative or branching
// decoders.
//
// Spec strings (syntax in spec.h, samplers and defaults in samplers.h):
//   "penalties,repeat=1.1;top_k=40;min_p=0.05;temp=0.8"   explicit order; a trailing selector (dist, greedy,
//                                                          mirostat, mirostat_v2) is optional, dist by default
//   "default"   llama.cpp's order and defaults: logit_bias → penalties → dry → top_n_sigma → top_k → typical →
//               top_p → min_p → xtc → temp → dist, the ones llama.cpp ships off left out:
//               "top_k=40;top_p=0.95;min_p=0.05;temp=0.8;dist"   (temperature LAST: truncations see T = 1)
//   "hf"        Hugging Face transformers' order (temperature FIRST, then top_k → top_p → min_p → typical →
//               epsilon → eta) and its GenerationConfig defaults: "temp=1;top_k=50;dist"
//   "greedy"    the argmax alone
// Items after a preset adjust it: an item naming a sampler the preset has replaces it in place ("default;temp=0.5"),
// a new one is inserted at the preset's canonical position ("default;penalties,repeat=1.1" puts it before top_k),
// epsilon/eta/top_h go after min_p in "default", and a selector replaces the selector. As in llama.cpp, a mirostat
// selector drops the preset's truncations and keeps only logit_bias and temp. spec() always writes the explicit
// chain, which parses back to itself.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sampling/candidates.h"
#include "sampling/rng.h"
#include "sampling/sampler.h"
#include "tokenscope/expected.h"

namespace ts::sampling {

class Chain {
 public:
  Chain();  // dist alone: the model's own distribution
  // selector null: dist. The shapers must not be selectors.
  Chain(std::vector<std::unique_ptr<Sampler>> shapers, std::unique_ptr<Selector> selector);
  Chain(const Chain& other);
  Chain& operator=(const Chain& other);
  Chain(Chain&&) noexcept = default;
  Chain& operator=(Chain&&) noexcept = default;
  ~Chain() = default;

  // Errors (Error::input, one line naming the item): unknown names, bad or out-of-range values, unknown keys, a
  // selector before the end, a preset after the first item, an empty spec.
  static Expected<Chain> parse(std::string_view spec);
  std::string spec() const;

  Candidates apply(const float* logits, int64_t n_vocab, const Context& ctx);
  void apply(Candidates& c, const Context& ctx);  // on a set built by the caller (from_logits or otherwise)
  int32_t select(const Candidates& c, Rng& rng) const;
  int32_t sample(const float* logits, int64_t n_vocab, const Context& ctx, Rng& rng) {
    return select(apply(logits, n_vocab, ctx), rng);
  }
  void accept(int32_t token);
  void reset();
  Chain clone() const { return *this; }

  const std::vector<std::unique_ptr<Sampler>>& shapers() const { return shapers_; }
  const Selector& selector() const { return *selector_; }
  Selector& selector() { return *selector_; }

 private:
  std::vector<std::unique_ptr<Sampler>> shapers_;
  std::unique_ptr<Selector> selector_;
};

}  // namespace ts::sampling
