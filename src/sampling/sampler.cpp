#include "sampling/sampler.h"

namespace ts::sampling {

int32_t Selector::select(const Candidates& c, Rng& rng) const { return sample_inverse_cdf(c, rng); }

int32_t sample_inverse_cdf(const Candidates& c, Rng& rng) {
  if (c.empty()) return -1;
  double total = 0;
  for (const Candidate& x : c.data) total += x.p;
  const double target = rng.uniform() * total;
  double cum = 0;
  int32_t last_positive = -1;
  for (const Candidate& x : c.data) {
    if (x.p <= 0) continue;
    cum += x.p;
    last_positive = x.id;
    if (cum > target) return x.id;
  }
  // Only reachable through rounding (target within an ulp of total) or an all-zero set.
  return last_positive >= 0 ? last_positive : c.data[0].id;
}

int32_t select_most_probable(const Candidates& c) {
  if (c.empty()) return -1;
  const Candidate* best = &c.data[0];
  for (const Candidate& x : c.data)
    if (x.p > best->p || (x.p == best->p && x.id < best->id)) best = &x;
  return best->id;
}

}  // namespace ts::sampling
