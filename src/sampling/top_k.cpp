// Top-k (Fan, Lewis, Dauphin 2018): keep the k candidates with the largest logits.
//
// k ≤ 0 is a no-op and k ≥ n keeps everything, as in llama.cpp (llama_sampler_top_k_impl). The survivors are left in
// canonical order (logit descending, lower id first), so ties at the k-th logit keep the lower ids. The set is
// partially sorted: O(n + k log k). Defaults: 40 (llama.cpp); HF uses 50, vLLM −1 (off).

#include "sampling/samplers.h"

namespace ts::sampling {

void TopK::apply(Candidates& c, const Context& /*ctx*/) {
  if (k_ <= 0) return;
  const size_t k = std::min(static_cast<size_t>(k_), c.size());
  sort_top(c, k);
  truncate(c, k);
  c.sorted = true;
}

std::string TopK::spec() const { return SpecWriter("top_k").primary(int64_t(k_)).str(); }

Expected<SamplerPtr> TopK::parse(SpecArgs& args) {
  int32_t k = 40;
  if (auto s = args.get_int("", k, INT32_MIN, INT32_MAX); !s.ok()) return s.error();
  if (auto s = args.finish(); !s.ok()) return s.error();
  return SamplerPtr(std::make_unique<TopK>(k));
}

}  // namespace ts::sampling
