// Repetition, frequency and presence penalties (llama.cpp llama_sampler_penalties_apply).
//
// Let c_t be the number of times token t occurs among the last N = last_n tokens of ctx.history (−1: all of it; 0:
// off). For every candidate with c_t > 0:
//   repetition (CTRL, Keskar et al. 2019, with the sign fix everyone uses): z ← z / θ if z > 0, else z ← z · θ;
//   then the OpenAI-style penalties:  z ← z − c_t · α_freq − α_present.
// The window is prompt + generated tokens, as llama.cpp's server accepts the prompt into the sampler (vLLM counts only
// generated tokens for frequency/presence). The counts come from ctx.history on every call, so the sampler has no
// state to fork. θ = 1, α_freq = α_present = 0 is a no-op. Defaults (llama.cpp): θ = 1, α_freq = 0, α_present = 0,
// last_n = 64; OpenAI's range for α is −2..2.
#include <cfloat>

#include "sampling/samplers.h"

namespace ts::sampling {

void Penalties::apply(Candidates& c, const Context& ctx) {
  if (last_n_ == 0 || (repeat_ == 1.0f && freq_ == 0.0f && present_ == 0.0f)) return;
  const size_t hist = ctx.history.size();
  const size_t n = last_n_ < 0 ? hist : std::min(hist, static_cast<size_t>(last_n_));
  if (n == 0) return;
  std::vector<int32_t> window(ctx.history.end() - n, ctx.history.end());
  std::sort(window.begin(), window.end());
  std::vector<int32_t> ids;
  std::vector<int32_t> count;
  for (int32_t t : window) {
    if (!ids.empty() && ids.back() == t) {
      ++count.back();
    } else {
      ids.push_back(t);
      count.push_back(1);
    }
  }
  for_each_listed(c, ids, [&](Candidate& x, size_t k) {
    x.logit = x.logit > 0 ? x.logit / repeat_ : x.logit * repeat_;
    x.logit -= float(count[k]) * freq_ + present_;
  });
  c.sorted = false;
}

std::string Penalties::spec() const {
  SpecWriter w("penalties");
  if (repeat_ != 1.0f) w.key("repeat", repeat_);
  if (freq_ != 0.0f) w.key("freq", freq_);
  if (present_ != 0.0f) w.key("present", present_);
  if (last_n_ != 64) w.key("last_n", int64_t(last_n_));
  return w.str();
}

Expected<SamplerPtr> Penalties::parse(SpecArgs& args) {
  float repeat = 1.0f, freq = 0.0f, present = 0.0f;
  int32_t last_n = 64;
  if (auto s = args.get_float("repeat", repeat, 1e-6, FLT_MAX); !s.ok()) return s.error();
  if (auto s = args.get_float("freq", freq, -FLT_MAX, FLT_MAX); !s.ok()) return s.error();
  if (auto s = args.get_float("present", present, -FLT_MAX, FLT_MAX); !s.ok()) return s.error();
  if (auto s = args.get_int("last_n", last_n, -1, INT32_MAX); !s.ok()) return s.error();
  if (auto s = args.finish(); !s.ok()) return s.error();
  return SamplerPtr(std::make_unique<Penalties>(repeat, freq, present, last_n));
}

}  // namespace ts::sampling
