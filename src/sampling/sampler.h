// The sampler interface: shapers edit a candidate set, a selector picks one token from it.
//
// Contract (what makes speculative decoding and branching decoders exact):
//  - apply(c, ctx) is a function of (c, ctx, the sampler's configuration and state). It never changes the state:
//    calling it twice, or on a fork, gives the same result and leaves the next step unaffected. The only
//    randomness it may use is ctx.rng (XTC's coin), which belongs to the caller.
//  - accept(token) is the one place where state moves (mirostat's μ). It is called once per generated token,
//    after the apply() that produced that token's distribution; prompt tokens go into ctx.history, not accept().
//  - Samplers that depend on earlier tokens (penalties, DRY) read ctx.history and keep no history of their own, so
//    a fork needs nothing but a copy of the token list it already has.
//  - clone() copies configuration and state; reset() returns the state to its initial value.
//  - spec() writes the sampler in the chain-spec syntax of chain.h and parses back to an equal sampler.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "sampling/candidates.h"
#include "sampling/rng.h"

namespace ts::sampling {

struct Context {
  // Prompt and generated ids so far, oldest first; the token being chosen comes after history.back().
  std::span<const int32_t> history;
  // Decoded bytes of one token (not its vocabulary spelling: "\n", not "Ċ"). Only DRY's sequence breakers use it;
  // left empty, DRY has no breakers.
  std::function<std::string(int32_t)> token_text;
  // XTC's per-step coin. Null: XTC fires only when its probability is ≥ 1.
  Rng* rng = nullptr;
};

class Sampler {
 public:
  virtual ~Sampler() = default;
  virtual std::string name() const = 0;  // the spec name, "min_p"
  virtual std::string spec() const = 0;  // "min_p=0.05"; parses back to an equal sampler
  virtual void apply(Candidates& c, const Context& ctx) = 0;
  virtual void accept(int32_t token) {}
  virtual void reset() {}
  virtual std::unique_ptr<Sampler> clone() const = 0;
  virtual bool is_selector() const { return false; }
};

// The last stage of a chain. Its apply() leaves exactly the distribution select() draws from (greedy: the argmax
// alone; mirostat: its truncation), so the chain's output is the true distribution of the next token.
class Selector : public Sampler {
 public:
  bool is_selector() const override { return true; }
  // Default: inverse CDF, see sample_inverse_cdf.
  virtual int32_t select(const Candidates& c, Rng& rng) const;
};

// One uniform draw u ∈ [0,1); scans the set in its current order and returns the first id whose cumulative p
// exceeds u·Σp (Σ in double). Tokens with p = 0 are never returned. -1 for an empty set.
int32_t sample_inverse_cdf(const Candidates& c, Rng& rng);
// The candidate with the highest p, the lowest id on ties; no draw. -1 for an empty set.
int32_t select_most_probable(const Candidates& c);

}  // namespace ts::sampling
