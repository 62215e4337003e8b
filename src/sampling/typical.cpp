// Locally typical sampling (Meister, Pimentel, Wiher, Cotterell, "Locally Typical Sampling", TACL 2023).
//
// With p the softmax of the current set and H = −Σ p_i ln p_i, score each token by s_i = |−ln p_i − H| (how far its
// surprise is from the expected surprise). Sort ascending by s_i and keep the shortest prefix whose mass exceeds τ
// (strictly: Σ > τ), and at least min_keep tokens, as llama.cpp's llama_sampler_typical_apply does. The survivors
// stay in score order, so the set is no longer sorted by probability. Ties in the score go to the more probable,
// then the lower id. τ ≥ 1 is a no-op. Defaults: τ = 0.9 (HF TypicalLogitsWarper's mass; llama.cpp ships 1.0 = off),
// min_keep = 1.
#include <cmath>
#include <numeric>

#include "sampling/samplers.h"

namespace ts::sampling {

void Typical::apply(Candidates& c, const Context& /*ctx*/) {
  if (p_ >= 1.0f || c.empty()) return;
  softmax(c);
  const double h = entropy_nats(c);
  std::vector<double> score(c.size());
  for (size_t i = 0; i < c.size(); ++i) {
    const double p = c.data[i].p;
    score[i] = p > 0 ? std::abs(-std::log(p) - h) : INFINITY;
  }
  std::vector<size_t> order(c.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (score[a] != score[b]) return score[a] < score[b];
    return better(c.data[a], c.data[b]);
  });
  const size_t min_keep = std::max<size_t>(1, static_cast<size_t>(std::max(min_keep_, 0)));
  size_t keep = c.size();
  double cum = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    cum += c.data[order[i]].p;
    if (cum > p_ && i + 1 >= min_keep) {
      keep = i + 1;
      break;
    }
  }
  std::vector<Candidate> out(keep);
  for (size_t i = 0; i < keep; ++i) out[i] = c.data[order[i]];
  c.data = std::move(out);
  c.sorted = false;
}

std::string Typical::spec() const {
  SpecWriter w("typical");
  w.primary(p_);
  if (min_keep_ != 1) w.key("min_keep", int64_t(min_keep_));
  return w.str();
}

Expected<SamplerPtr> Typical::parse(SpecArgs& args) {
  float p = 0.9f;
  int32_t min_keep = 1;
  if (auto s = args.get_float("", p, 0, 1); !s.ok()) return s.error();
  if (auto s = args.get_int("min_keep", min_keep, 0, INT32_MAX); !s.ok()) return s.error();
  if (auto s = args.finish(); !s.ok()) return s.error();
  return SamplerPtr(std::make_unique<Typical>(p, min_keep));
}

}  // namespace ts::sampling
