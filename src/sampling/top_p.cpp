// Top-p / nucleus sampling (Holtzman, Buys, Du, Forbes, Choi, "The Curious Case of Neural Text Degeneration", 2020).
//
// Sort by p (softmax of the current set) and keep the shortest prefix with Σ p_(i) ≥ P — the token that crosses P is
// included — and at least min_keep tokens. P ≥ 1 is a no-op, as in llama.cpp (llama_sampler_top_p_apply). The
// cumulative sum is in double. Like llama.cpp we first sort only the top 256 of a large unsorted set and fall back to
// a full sort if they do not reach P. Defaults: P = 0.95 (llama.cpp; OpenAI/vLLM/HF 1.0), min_keep = 1.
#include "sampling/samplers.h"

namespace ts::sampling {

void TopP::apply(Candidates& c, const Context& /*ctx*/) {
  if (p_ >= 1.0f || c.empty()) return;
  softmax(c);
  const size_t min_keep = std::max<size_t>(1, static_cast<size_t>(std::max(min_keep_, 0)));
  size_t head = c.sorted ? c.size() : std::min<size_t>(c.size(), 256);
  sort_top(c, head);
  double cum = 0;
  for (size_t i = 0; i < c.size(); ++i) {
    if (i == head) {  // the sorted head did not reach P: sort the rest
      sort_desc(c);
      head = c.size();
    }
    cum += c.data[i].p;
    if (cum >= p_ && i + 1 >= min_keep) {
      truncate(c, i + 1);
      c.sorted = true;
      return;
    }
  }
  sort_desc(c);  // rounding kept Σp just below P: keep everything
}

std::string TopP::spec() const {
  SpecWriter w("top_p");
  w.primary(p_);
  if (min_keep_ != 1) w.key("min_keep", int64_t(min_keep_));
  return w.str();
}

Expected<SamplerPtr> TopP::parse(SpecArgs& args) {
  float p = 0.95f;
  int32_t min_keep = 1;
  if (auto s = args.get_float("", p, 0, 1); !s.ok()) return s.error();
  if (auto s = args.get_int("min_keep", min_keep, 0, INT32_MAX); !s.ok()) return s.error();
  if (auto s = args.finish(); !s.ok()) return s.error();
  return SamplerPtr(std::make_unique<TopP>(p, min_keep));
}

}  // namespace ts::sampling
