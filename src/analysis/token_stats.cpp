#include "analysis/token_stats.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "tensor/vec_ops.h"

namespace ts {

TokenStats token_stats(const float* logits, int64_t n_vocab, int32_t target, int top_k) {
  TokenStats r;
  r.id = target;
  const bool has_target = target >= 0 && target < n_vocab;
  const float zt = has_target ? logits[target] : std::numeric_limits<float>::infinity();
  const size_t k_out = static_cast<size_t>(std::max<int64_t>(0, std::min<int64_t>(top_k, n_vocab)));
  // the heap always holds at least the top two, for max_prob and margin; indices_above keeps this cheap
  const size_t k = std::max<size_t>(k_out, static_cast<size_t>(std::min<int64_t>(2, n_vocab)));

  // min-heap on (logit, -id): the root is the weakest of the current top-k
  std::vector<std::pair<float, int32_t>> heap;
  heap.reserve(k + 1);
  auto weaker = [](const std::pair<float, int32_t>& a, const std::pair<float, int32_t>& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  auto offer = [&](float z, int32_t id) {
    if (z == -std::numeric_limits<float>::infinity()) return;
    if (heap.size() < k) {
      heap.emplace_back(z, id);
      std::push_heap(heap.begin(), heap.end(), weaker);
    } else if (z > heap.front().first) {  // equal logits: the lower id, seen first, stays
      std::pop_heap(heap.begin(), heap.end(), weaker);
      heap.back() = {z, id};
      std::push_heap(heap.begin(), heap.end(), weaker);
    }
  };

  // One read of the logits, in L1-sized chunks: the accumulators, then (while the chunk is in cache) the top-k
  // candidates above the heap's current minimum.
  constexpr int64_t kChunk = 4096;
  int32_t idx[kChunk];
  LogitAccumulator acc;
  for (int64_t b = 0; b < n_vocab; b += kChunk) {
    const int64_t len = std::min(kChunk, n_vocab - b);
    const float* z = logits + b;
    accumulate_logits(acc, z, len, zt);
    if (!k) continue;
    int64_t j = 0;
    for (; j < len && heap.size() < k; ++j) offer(z[j], static_cast<int32_t>(b + j));
    if (j == len) continue;
    const int64_t c = indices_above(z + j, len - j, heap.front().first, idx);
    for (int64_t i = 0; i < c; ++i) offer(z[j + idx[i]], static_cast<int32_t>(b + j + idx[i]));
  }
  r.log_z = acc.m + std::log(acc.S);
  r.entropy = std::log(acc.S) - acc.T / acc.S;
  const double mean_d = acc.T / acc.S;  // E_p[z − m]
  r.varentropy = std::max(0.0, acc.U / acc.S - mean_d * mean_d);
  if (has_target) {
    r.logprob = static_cast<double>(zt) - r.log_z;
    r.rank = 1 + acc.greater;
  }
  std::sort(heap.begin(), heap.end(), [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  });
  const double p1 = heap.empty() ? 0.0 : std::exp(static_cast<double>(heap[0].first) - r.log_z);
  const double p2 = heap.size() < 2 ? 0.0 : std::exp(static_cast<double>(heap[1].first) - r.log_z);
  r.max_prob = p1;
  r.margin = p1 - p2;
  heap.resize(std::min(heap.size(), k_out));
  r.top.reserve(heap.size());
  for (const auto& [z, id] : heap) r.top.push_back({id, static_cast<double>(z) - r.log_z});
  return r;
}

}  // namespace ts
