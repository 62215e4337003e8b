#include "sampling/candidates.h"

#include <cmath>

namespace ts::sampling {

Candidates from_logits(const float* logits, int64_t n_vocab) {
  Candidates c;
  c.data.resize(n_vocab > 0 ? static_cast<size_t>(n_vocab) : 0);
  for (int64_t i = 0; i < n_vocab; ++i) {
    const float z = logits[i];
    c.data[i] = Candidate{static_cast<int32_t>(i), std::isnan(z) ? -INFINITY : z, 0.0f};
  }
  return c;
}

void softmax(Candidates& c) {
  if (c.empty()) return;
  float m = -INFINITY;
  if (c.sorted) {
    m = c.data[0].logit;
  } else {
    for (const Candidate& x : c.data) m = std::max(m, x.logit);
  }
  if (m == -INFINITY) {
    const float u = 1.0f / static_cast<float>(c.size());
    for (Candidate& x : c.data) x.p = u;
    return;
  }
  double sum = 0;
  for (Candidate& x : c.data) {
    x.p = std::exp(x.logit - m);
    sum += x.p;
  }
  const double inv = 1.0 / sum;  // sum ≥ 1: the maximum contributes exp(0)
  for (Candidate& x : c.data) x.p = static_cast<float>(x.p * inv);
}

void sort_desc(Candidates& c) {
  if (!c.sorted) std::sort(c.data.begin(), c.data.end(), better);
  c.sorted = true;
}

void sort_top(Candidates& c, size_t k) {
  if (c.sorted) return;
  if (k >= c.size()) {
    sort_desc(c);
    return;
  }
  if (k == 0) return;
  if (k <= 128) {
    // Heap selection: one comparison per candidate plus O(log k) for the rare one that enters the top k.
    std::partial_sort(c.data.begin(), c.data.begin() + k, c.data.end(), better);
  } else {
    std::nth_element(c.data.begin(), c.data.begin() + (k - 1), c.data.end(), better);  // O(V)
    std::sort(c.data.begin(), c.data.begin() + k, better);
  }
}

void truncate(Candidates& c, size_t n) {
  if (n < c.size()) c.data.resize(n);
}

int64_t argmax_index(const Candidates& c) {
  if (c.empty()) return -1;
  if (c.sorted) return 0;
  size_t best = 0;
  for (size_t i = 1; i < c.size(); ++i)
    if (better(c.data[i], c.data[best])) best = i;
  return static_cast<int64_t>(best);
}

double entropy_nats(const Candidates& c) {
  double h = 0;
  for (const Candidate& x : c.data)
    if (x.p > 0) h -= double(x.p) * std::log(double(x.p));
  return h;
}

float prob_of(const Candidates& c, int32_t id) {
  if (id >= 0 && static_cast<size_t>(id) < c.size() && c.data[id].id == id) return c.data[id].p;
  for (const Candidate& x : c.data)
    if (x.id == id) return x.p;
  return 0.0f;
}

void to_dense(const Candidates& c, std::span<float> out) {
  std::fill(out.begin(), out.end(), 0.0f);
  for (const Candidate& x : c.data)
    if (x.id >= 0 && static_cast<size_t>(x.id) < out.size()) out[x.id] = x.p;
}

}  // namespace ts::sampling
