// XTC, "Exclude Top Choices" (p-e-w, llama.cpp PR #9742; llama_sample_xtc_apply).
//
// With probability `probability` per step (one draw u from ctx.rng; it fires when u ≤ probability), take p = the
// softmax of the current set and let A = {i : p_i ≥ threshold}. If |A| ≥ 2, remove every member of A except the
// least likely one (the last of A in canonical order), provided at least min_keep tokens remain. This steers away
// from the most obvious continuations while keeping one viable "top choice". No draw is made when XTC cannot act
// (probability ≤ 0, threshold > 0.5 — two tokens cannot both exceed 0.5 — or fewer than 2 candidates), as in
// llama.cpp. Without ctx.rng the coin reads u = 1: XTC fires only at probability ≥ 1. Survivors keep their order.
// Defaults: probability 0.5, threshold 0.1 (the values its author proposes; llama.cpp ships probability 0 = off),
// min_keep 1.
#include "sampling/samplers.h"

namespace ts::sampling {

void Xtc::apply(Candidates& c, const Context& ctx) {
  if (probability_ <= 0.0f || threshold_ > 0.5f || c.size() < 2) return;
  const double u = ctx.rng ? ctx.rng->uniform() : 1.0;
  if (u > probability_) return;
  softmax(c);
  size_t n_above = 0;
  const Candidate* last = nullptr;  // the least likely member of A
  for (const Candidate& x : c.data) {
    if (x.p < threshold_) continue;
    ++n_above;
    if (!last || better(*last, x)) last = &x;
  }
  if (n_above < 2) return;
  const size_t removed = n_above - 1;
  if (c.size() - removed < static_cast<size_t>(std::max(min_keep_, 0))) return;
  const int32_t keep_id = last->id;
  std::erase_if(c.data, [&](const Candidate& x) { return x.p >= threshold_ && x.id != keep_id; });
}

std::string Xtc::spec() const {
  SpecWriter w("xtc");
  w.primary(probability_);
  if (threshold_ != 0.1f) w.key("threshold", threshold_);
  if (min_keep_ != 1) w.key("min_keep", int64_t(min_keep_));
  return w.str();
}

Expected<SamplerPtr> Xtc::parse(SpecArgs& args) {
  float probability = 0.5f, threshold = 0.1f;
  int32_t min_keep = 1;
  if (auto s = args.get_float("", probability, 0, 1); !s.ok()) return s.error();
  if (auto s = args.get_float("threshold", threshold, 0, 1); !s.ok()) return s.error();
  if (auto s = args.get_int("min_keep", min_keep, 0, INT32_MAX); !s.ok()) return s.error();
  if (auto s = args.finish(); !s.ok()) return s.error();
  return SamplerPtr(std::make_unique<Xtc>(probability, threshold, min_keep));
}

}  // namespace ts::sampling
