// Top-H (Potraghloo, Azizi, Kundu, Pedram, "Top-H Decoding: Adapting the Creativity and Coherence with Bounded
// Entropy in Text Generation", NeurIPS 2025, arXiv 2509.02510; code: ErfanBaghaei/Top-H-Decoding, logit_processor.py,
// TopH_LogitsProcessor(top_n=100, alpha=0.4)).
//
// The paper poses entropy-constrained mass maximisation — the token set S with the most mass Σ_{i∈S} p_i subject to
// H(q_S) ≤ α·H(p) — and solves it greedily over tokens in probability order. We follow the authors' CODE, whose
// stopping rule differs from the paper's statement when the kept mass σ_m < 1:
//   p = softmax of the current set; p_1 ≥ … ≥ p_n the top n = min(top_n, size), not renormalised;
//   S_m = −Σ_{i≤m} p_i log2 p_i,  budget τ = α · S_n   (the code's (H(p̂_n) − log2 A)·A·α with A = Σ_{i≤n} p_i);
//   keep the largest prefix m with S_m ≤ τ, and always the top token.
// (The code compares S_{m+1}/σ_{m+1} + log2 σ_{m+1} against τ/σ_{m+1} + log2 σ_{m+1}, which is S_{m+1} ≤ τ; S_m
// grows with m, so "stop at the first violation" and "largest prefix" agree.) With α = 1 all n are kept (the code
// would index past its array). Tokens beyond the top n are never kept; 0·log 0 = 0. The code applies its own
// temperature before the softmax; here p is whatever reaches top_h, so put temp before it (HF order) to reproduce
// the paper's T = 2 runs. Defaults: α = 0.4, top_n = 100.
#include <cmath>

#include "sampling/samplers.h"

namespace ts::sampling {
namespace {
double plog2p(double p) { return p > 0 ? -p * std::log2(p) : 0.0; }
}  // namespace

void TopH::apply(Candidates& c, const Context& /*ctx*/) {
  if (c.empty()) return;
  softmax(c);
  const size_t n = std::min(c.size(), static_cast<size_t>(std::max(top_n_, 1)));
  sort_top(c, n);
  double s_n = 0;
  for (size_t i = 0; i < n; ++i) s_n += plog2p(c.data[i].p);
  const double budget = double(alpha_) * s_n;
  double s = plog2p(c.data[0].p);
  size_t keep = 1;
  for (size_t i = 1; i < n; ++i) {
    s += plog2p(c.data[i].p);
    if (s > budget) break;
    keep = i + 1;
  }
  truncate(c, keep);
  c.sorted = true;
}

std::string TopH::spec() const {
  SpecWriter w("top_h");
  w.primary(alpha_);
  if (top_n_ != 100) w.key("top_n", int64_t(top_n_));
  return w.str();
}

Expected<SamplerPtr> TopH::parse(SpecArgs& args) {
  float alpha = 0.4f;
  int32_t top_n = 100;
  if (auto s = args.get_float("", alpha, 0, 1); !s.ok()) return s.error();
  if (alpha <= 0.0f) return args.error("top_h alpha must be in (0, 1]");
  if (auto s = args.get_int("top_n", top_n, 1, INT32_MAX); !s.ok()) return s.error();
  if (auto s = args.finish(); !s.ok()) return s.error();
  return SamplerPtr(std::make_unique<TopH>(alpha, top_n));
}

}  // namespace ts::sampling
