// Dist: draw from the processed distribution by inverse CDF (llama.cpp llama_sampler_dist_apply).
//
// One uniform u ∈ [0, 1) from the caller's Rng; scanning the set in its current order, return the first token whose
// cumulative p exceeds u · Σp (Σ in double; tokens with p = 0 are never returned). Each token is drawn with
// probability p_i exactly, up to the 2^-53 granularity of u. The set is not sorted first: the order only changes
// which u maps to which token, not the distribution. (vLLM's exponential race argmax p_i / E_i is equivalent;
// entropix's argmax p_i / U_i is not an exact categorical draw.) apply() leaves the set as it is.
#include "sampling/samplers.h"

namespace ts::sampling {

Expected<SamplerPtr> Dist::parse(SpecArgs& args) {
  if (auto s = args.finish(); !s.ok()) return s.error();
  return SamplerPtr(std::make_unique<Dist>());
}

}  // namespace ts::sampling
