// Top-nσ (Tang, Zhu, Fan, Ye, Yang, Ma, "Top-nσ: Not All Logits Are You Need", 2024; llama.cpp
// llama_sampler_top_n_sigma_apply).
//
// Over the finite logits of the current set let z_max be the largest and σ their population standard deviation
// (divide by the count). Keep z_i ≥ z_max − n·σ; the others (and −inf logits) leave the set. Dividing every logit by T
// scales z_max and σ alike, so the kept set does not depend on a temperature applied before it. n ≤ 0 is a no-op
// (llama.cpp's −1 = off); a set of ≤ 1 candidate is left alone. Mean and σ are computed in double. Default here:
// n = 1 (the paper's recommendation); llama.cpp ships −1.
#include <cfloat>
#include <cmath>

#include "sampling/samplers.h"

namespace ts::sampling {

void TopNSigma::apply(Candidates& c, const Context& /*ctx*/) {
  if (n_ <= 0.0f || c.size() <= 1) return;
  double sum = 0, z_max = -INFINITY;
  size_t n = 0;
  for (const Candidate& x : c.data) {
    if (x.logit == -INFINITY) continue;
    sum += x.logit;
    z_max = std::max(z_max, double(x.logit));
    ++n;
  }
  if (n == 0) return;
  const double mean = sum / double(n);
  double acc = 0;
  for (const Candidate& x : c.data)
    if (x.logit != -INFINITY) acc += (x.logit - mean) * (x.logit - mean);
  const double sigma = std::sqrt(acc / double(n));
  const double z_min = z_max - double(n_) * sigma;
  std::erase_if(c.data, [&](const Candidate& x) { return x.logit == -INFINITY || double(x.logit) < z_min; });
}

std::string TopNSigma::spec() const { return SpecWriter("top_n_sigma").primary(n_).str(); }

Expected<SamplerPtr> TopNSigma::parse(SpecArgs& args) {
  float n = 1.0f;
  if (auto s = args.get_float("", n, -FLT_MAX, FLT_MAX); !s.ok()) return s.error();
  if (auto s = args.finish(); !s.ok()) return s.error();
  return SamplerPtr(std::make_unique<TopNSigma>(n));
}

}  // namespace ts::sampling
