// Min-p (Nguyen, Baker, Neo, Roush, Kirsch, Shwartz-Ziv, "Turning Up the Heat: Min-p Sampling for Creative and
// Coherent LLM Outputs", 2024).
//
// Keep token i iff p_i ≥ p_base · p_max. As in llama.cpp (llama_sampler_min_p_apply) the test runs in logit space with
// no softmax and no sort: z_i ≥ z_max + ln p_base. At least min_keep tokens survive (the best ones). p_base ≤ 0 is a
// no-op. Survivors keep their order. Defaults: p_base = 0.05 (llama.cpp; the paper recommends 0.05–0.1),
// min_keep = 1.
#include <cmath>

#include "sampling/samplers.h"

namespace ts::sampling {

void MinP::apply(Candidates& c, const Context& /*ctx*/) {
  if (p_ <= 0.0f || c.empty()) return;
  const float z_max = c.data[argmax_index(c)].logit;
  const float z_min = z_max + std::log(p_);
  const size_t min_keep = std::max<size_t>(1, static_cast<size_t>(std::max(min_keep_, 0)));
  filter_keep_top(c, [&](const Candidate& x) { return x.logit >= z_min; }, min_keep);
}

std::string MinP::spec() const {
  SpecWriter w("min_p");
  w.primary(p_);
  if (min_keep_ != 1) w.key("min_keep", int64_t(min_keep_));
  return w.str();
}

Expected<SamplerPtr> MinP::parse(SpecArgs& args) {
  float p = 0.05f;
  int32_t min_keep = 1;
  if (auto s = args.get_float("", p, 0, 1); !s.ok()) return s.error();
  if (auto s = args.get_int("min_keep", min_keep, 0, INT32_MAX); !s.ok()) return s.error();
  if (auto s = args.finish(); !s.ok()) return s.error();
  return SamplerPtr(std::make_unique<MinP>(p, min_keep));
}

}  // namespace ts::sampling
