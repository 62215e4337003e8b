// Greedy selection: the most likely token, the lowest id on ties; no randomness.
//
// As a chain's selector its apply() truncates the set to the argmax of the logits (so the chain's output is the
// one-hot distribution greedy decoding actually follows, which is what speculative verification must compare
// against), and select() returns the highest p, the lowest id on ties, for any set it is given. llama.cpp's greedy
// sampler scans for the first maximum in array order, which is the lowest id while the array is in id order.
#include "sampling/samplers.h"

namespace ts::sampling {

void Greedy::apply(Candidates& c, const Context& /*ctx*/) {
  if (c.empty()) return;
  const Candidate keep = c.data[argmax_index(c)];
  c.data.assign(1, keep);
  c.sorted = true;
}

int32_t Greedy::select(const Candidates& c, Rng& /*rng*/) const { return select_most_probable(c); }

Expected<SamplerPtr> Greedy::parse(SpecArgs& args) {
  if (auto s = args.finish(); !s.ok()) return s.error();
  return SamplerPtr(std::make_unique<Greedy>());
}

}  // namespace ts::sampling
