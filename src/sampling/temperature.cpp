// Temperature and dynamic temperature ("dynatemp"), as llama.cpp's llama_sampler_init_temp_ext(T, δ, κ).
//
//   p_i ∝ exp(z_i / T)                                   (logits are divided by T; the set keeps its order)
//   T ≤ 0: greedy as a truncation — only the argmax survives (highest logit, lowest id on ties), p = 1.
//
// Dynamic temperature (range δ > 0; kqrgy's DynaTemp, llama.cpp PR #4972): with p the softmax of the current set
// of n candidates,
//   T_min = max(0, T − δ),  T_max = T + δ,  Ĥ = H(p) / ln n,  T_dyn = T_min + (T_max − T_min) · Ĥ^κ,
// then the logits are divided by T_dyn (T_dyn ≤ 0 again means greedy). A set of ≤ 1 candidate is left alone.
// Defaults: T = 0.8 (llama.cpp; HF uses 1.0), δ = 0 (off), κ = 1.
#include <cfloat>
#include <cmath>

#include "sampling/samplers.h"

namespace ts::sampling {
namespace {

void scale(Candidates& c, float t) {
  if (t <= 0.0f) {
    const int64_t best = argmax_index(c);
    const Candidate keep = c.data[best];
    c.data.assign(1, keep);
    c.sorted = true;
    return;
  }
  for (Candidate& x : c.data) x.logit /= t;
}

}  // namespace

void Temperature::apply(Candidates& c, const Context& /*ctx*/) {
  if (c.empty()) return;
  if (range_ <= 0.0f) {
    scale(c, temp_);
    return;
  }
  if (c.size() <= 1) return;
  const double t_min = std::max(0.0, double(temp_) - range_);
  const double t_max = double(temp_) + range_;
  softmax(c);
  const double h_norm = entropy_nats(c) / std::log(double(c.size()));
  const double t_dyn = t_min + (t_max - t_min) * std::pow(h_norm, double(exponent_));
  scale(c, static_cast<float>(t_dyn));
}

std::string Temperature::spec() const {
  SpecWriter w("temp");
  w.primary(temp_);
  if (range_ != 0.0f) w.key("range", range_);
  if (exponent_ != 1.0f) w.key("exponent", exponent_);
  return w.str();
}

Expected<SamplerPtr> Temperature::parse(SpecArgs& args) {
  float t = 0.8f, range = 0.0f, exponent = 1.0f;
  if (auto s = args.get_float("", t, -FLT_MAX, FLT_MAX); !s.ok()) return s.error();
  if (auto s = args.get_float("range", range, 0, FLT_MAX); !s.ok()) return s.error();
  if (auto s = args.get_float("exponent", exponent, 0, FLT_MAX); !s.ok()) return s.error();
  if (auto s = args.finish(); !s.ok()) return s.error();
  return SamplerPtr(std::make_unique<Temperature>(t, range, exponent));
}

}  // namespace ts::sampling
