// η-sampling (Hewitt, Manning, Liang, "Truncation Sampling as Language Model Desmoothing", Findings of EMNLP 2022).
//
// An entropy-dependent floor: with p the softmax of the current set and H = −Σ p_i ln p_i (nats),
//   η = min(ε, √ε · exp(−H)),   keep p_i ≥ η,
// and at least the min_keep most probable tokens, as HF's EtaLogitsWarper (which removes p < η). A flat distribution
// (high H) gets a floor far below ε, a peaked one gets ε itself. Survivors keep their order. ε = 0 is a no-op.
// Defaults: ε = 3e-4 (HF's doc suggests 3e-4..4e-3), min_keep = 1.
#include <cmath>

#include "sampling/samplers.h"

namespace ts::sampling {

void Eta::apply(Candidates& c, const Context& /*ctx*/) {
  if (epsilon_ <= 0.0f || c.empty()) return;
  softmax(c);
  const double h = entropy_nats(c);
  const double eta = std::min(double(epsilon_), std::sqrt(double(epsilon_)) * std::exp(-h));
  const size_t min_keep = std::max<size_t>(1, static_cast<size_t>(std::max(min_keep_, 0)));
  filter_keep_top(c, [&](const Candidate& x) { return double(x.p) >= eta; }, min_keep);
}

std::string Eta::spec() const {
  SpecWriter w("eta");
  w.primary(epsilon_);
  if (min_keep_ != 1) w.key("min_keep", int64_t(min_keep_));
  return w.str();
}

Expected<SamplerPtr> Eta::parse(SpecArgs& args) {
  float e = 3e-4f;
  int32_t min_keep = 1;
  if (auto s = args.get_float("", e, 0, 1); !s.ok()) return s.error();
  if (auto s = args.get_int("min_keep", min_keep, 0, INT32_MAX); !s.ok()) return s.error();
  if (auto s = args.finish(); !s.ok()) return s.error();
  return SamplerPtr(std::make_unique<Eta>(e, min_keep));
}

}  // namespace ts::sampling
