// ε-sampling (Hewitt, Manning, Liang, "Truncation Sampling as Language Model Desmoothing", Findings of EMNLP 2022).
//
// An absolute floor: with p the softmax of the current set, keep p_i ≥ ε, and at least the min_keep most probable
// tokens. As HF's EpsilonLogitsWarper (which removes p < ε). Neither llama.cpp nor vLLM has it. Survivors keep their
// order. ε = 0 is a no-op. Defaults: ε = 3e-4 (the low end of the range HF suggests, 3e-4..9e-4), min_keep = 1.
#include "sampling/samplers.h"

namespace ts::sampling {

void Epsilon::apply(Candidates& c, const Context& /*ctx*/) {
  if (epsilon_ <= 0.0f || c.empty()) return;
  softmax(c);
  const size_t min_keep = std::max<size_t>(1, static_cast<size_t>(std::max(min_keep_, 0)));
  filter_keep_top(c, [&](const Candidate& x) { return x.p >= epsilon_; }, min_keep);
}

std::string Epsilon::spec() const {
  SpecWriter w("epsilon");
  w.primary(epsilon_);
  if (min_keep_ != 1) w.key("min_keep", int64_t(min_keep_));
  return w.str();
}

Expected<SamplerPtr> Epsilon::parse(SpecArgs& args) {
  float e = 3e-4f;
  int32_t min_keep = 1;
  if (auto s = args.get_float("", e, 0, 1); !s.ok()) return s.error();
  if (auto s = args.get_int("min_keep", min_keep, 0, INT32_MAX); !s.ok()) return s.error();
  if (auto s = args.finish(); !s.ok()) return s.error();
  return SamplerPtr(std::make_unique<Epsilon>(e, min_keep));
}

}  // namespace ts::sampling
