#include "analysis/token_stats.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ts {

TokenStats token_stats(const float* logits, int64_t n_vocab, int32_t target, int top_k) {
  TokenStats r;
  r.id = target;
  const bool has_target = target >= 0 && target < n_vocab;
  const float zt = has_target ? logits[target] : std::numeric_limits<float>::infinity();
  const size_t k = static_cast<size_t>(std::max(0, std::min<int>(top_k, static_cast<int>(n_vocab))));

  // min-heap on (logit, -id): the root is the weakest of the current top-k
  std::vector<std::pair<float, int32_t>> heap;
  heap.reserve(k + 1);
  auto weaker = [](const std::pair<float, int32_t>& a, const std::pair<float, int32_t>& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };

  double m = -std::numeric_limits<double>::infinity(), S = 0, T = 0;
  int64_t greater = 0;
  for (int64_t j = 0; j < n_vocab; ++j) {
    const float zf = logits[j];
    const double z = zf;
    greater += zf > zt;
    if (zf == -std::numeric_limits<float>::infinity()) continue;  // p = 0: adds nothing to S or T
    if (z > m) {
      if (S > 0) {
        const double a = std::exp(m - z);
        T = a * (T + (m - z) * S);
        S *= a;
      }
      m = z;
    }
    const double e = std::exp(z - m);
    S += e;
    T += e * (z - m);
    if (k) {
      const std::pair<float, int32_t> cand{zf, static_cast<int32_t>(j)};
      if (heap.size() < k) {
        heap.push_back(cand);
        std::push_heap(heap.begin(), heap.end(), weaker);
      } else if (zf > heap.front().first) {  // equal logits: the lower id, seen first, stays
        std::pop_heap(heap.begin(), heap.end(), weaker);
        heap.back() = cand;
        std::push_heap(heap.begin(), heap.end(), weaker);
      }
    }
  }
  r.log_z = m + std::log(S);
  r.entropy = std::log(S) - T / S;
  if (has_target) {
    r.logprob = static_cast<double>(zt) - r.log_z;
    r.rank = 1 + greater;
  }
  std::sort(heap.begin(), heap.end(), [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  });
  r.top.reserve(heap.size());
  for (const auto& [z, id] : heap) r.top.push_back({id, static_cast<double>(z) - r.log_z});
  return r;
}

}  // namespace ts
