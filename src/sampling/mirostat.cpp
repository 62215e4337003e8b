// Mirostat v1 and v2 (Basu, Ramachandran, Keskar, Varshney, "Mirostat: A Neural Text Decoding Algorithm that
// Directly Controls Perplexity", ICLR 2021; llama.cpp llama_sampler_mirostat(_v2)_apply). Both target an average
// surprise of τ bits with a feedback variable μ, initialised to 2τ.
//
// v1: p = softmax of the current set (n candidates), sorted. Estimate the Zipf exponent from the top m tokens,
//   ŝ = Σ_{i<m−1} t_i b_i / Σ_{i<m−1} t_i²,  t_i = ln((i+2)/(i+1)),  b_i = ln(p_i / p_{i+1}),
// set ε̂ = ŝ − 1 and k = (ε̂ · 2^μ / (1 − n^{−ε̂}))^{1/ŝ} (the limit (2^μ / ln n)^{1/ŝ} at ε̂ = 0), keep the top
// max(1, ⌊k⌋) and renormalise. llama.cpp uses the vocabulary size for n; here it is the size of the set reaching
// mirostat, which is the vocabulary in the usual chain (logit_bias → temp → mirostat) and the honest count when
// something truncates earlier. Pairs with p = 0 are left out of ŝ; with no usable pair, or a k that is not a
// finite number, every candidate is kept.
// v2: p = softmax; drop the tokens with surprise −log2 p_i > μ (keeping at least the most likely one), renormalise.
// Both: after token x is chosen, e = −log2 p(x) − τ with p(x) from the truncated, renormalised distribution, and
// μ ← μ − η · e.
//
// Deliberate difference from llama.cpp: there μ moves inside apply(), on the token mirostat drew itself, so merely
// looking at the distribution moves μ and a token chosen elsewhere (a speculative draft accepted by the verifier)
// never updates it. Here apply() only remembers its output distribution; accept(x) reads p(x) from it and updates
// μ, then forgets it. If there was no apply() since the last accept() or reset(), or x was not in the kept set, μ
// is left unchanged (x had probability 0 under the distribution mirostat produced, so its surprise is undefined).
// Defaults (llama.cpp): τ = 5, η = 0.1, m = 100.
#include <cfloat>
#include <cmath>

#include "sampling/samplers.h"

namespace ts::sampling {

void MirostatBase::remember(const Candidates& c) {
  last_.clear();
  last_.reserve(c.size());
  for (const Candidate& x : c.data) last_.emplace_back(x.id, x.p);
}

void MirostatBase::accept(int32_t token) {
  for (const auto& [id, p] : last_) {
    if (id != token || p <= 0) continue;
    const double e = -std::log2(double(p)) - double(tau_);
    mu_ = static_cast<float>(double(mu_) - double(eta_) * e);
    break;
  }
  last_.clear();
}

void MirostatBase::reset() {
  mu_ = 2.0f * tau_;
  last_.clear();
}

void Mirostat::apply(Candidates& c, const Context& /*ctx*/) {
  if (c.empty()) return;
  softmax(c);
  const size_t n = c.size();
  const size_t m = std::min(n, static_cast<size_t>(std::max(m_, 1)));
  sort_top(c, m);
  double sum_tb = 0, sum_tt = 0;
  for (size_t i = 0; i + 1 < m; ++i) {
    const double p0 = c.data[i].p, p1 = c.data[i + 1].p;
    if (p0 <= 0 || p1 <= 0) break;  // sorted: the rest are 0 too
    const double t = std::log(double(i + 2) / double(i + 1));
    sum_tb += t * std::log(p0 / p1);
    sum_tt += t * t;
  }
  size_t keep = n;
  if (sum_tt > 0) {
    const double s_hat = sum_tb / sum_tt;
    const double eps_hat = s_hat - 1.0;
    const double two_mu = std::exp2(double(mu_));
    const double base = std::abs(eps_hat) < 1e-9 ? two_mu / std::log(double(n))
                                                 : eps_hat * two_mu / (1.0 - std::pow(double(n), -eps_hat));
    const double k = std::pow(base, 1.0 / s_hat);
    if (std::isfinite(k)) keep = static_cast<size_t>(std::clamp(std::floor(k), 1.0, double(n)));
  }
  sort_top(c, keep);
  truncate(c, keep);
  c.sorted = true;
  softmax(c);
  remember(c);
}

void MirostatV2::apply(Candidates& c, const Context& /*ctx*/) {
  if (c.empty()) return;
  softmax(c);
  const double mu = mu_;
  filter_keep_top(c, [&](const Candidate& x) { return x.p > 0 && -std::log2(double(x.p)) <= mu; }, 1);
  sort_desc(c);
  softmax(c);
  remember(c);
}

std::string Mirostat::spec() const {
  SpecWriter w("mirostat");
  w.primary(tau_);
  if (eta_ != 0.1f) w.key("eta", eta_);
  if (m_ != 100) w.key("m", int64_t(m_));
  return w.str();
}

std::string MirostatV2::spec() const {
  SpecWriter w("mirostat_v2");
  w.primary(tau_);
  if (eta_ != 0.1f) w.key("eta", eta_);
  return w.str();
}

Expected<SamplerPtr> Mirostat::parse(SpecArgs& args) {
  float tau = 5.0f, eta = 0.1f;
  int32_t m = 100;
  if (auto s = args.get_float("", tau, 0, 1e4); !s.ok()) return s.error();
  if (auto s = args.get_float("eta", eta, 0, 1e4); !s.ok()) return s.error();
  if (auto s = args.get_int("m", m, 1, INT32_MAX); !s.ok()) return s.error();
  if (auto s = args.finish(); !s.ok()) return s.error();
  return SamplerPtr(std::make_unique<Mirostat>(tau, eta, m));
}

Expected<SamplerPtr> MirostatV2::parse(SpecArgs& args) {
  float tau = 5.0f, eta = 0.1f;
  if (auto s = args.get_float("", tau, 0, 1e4); !s.ok()) return s.error();
  if (auto s = args.get_float("eta", eta, 0, 1e4); !s.ok()) return s.error();
  if (auto s = args.finish(); !s.ok()) return s.error();
  return SamplerPtr(std::make_unique<MirostatV2>(tau, eta));
}

}  // namespace ts::sampling
