#include "tensor/vec_ops.h"

#include <algorithm>
#include <cmath>

#include "tensor/cpu.h"
#include "tensor/vec_ops_impl.h"

namespace ts {

double exp_shift_sum_ref(float* x, int64_t n, float shift) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - shift);
    s += x[i];
  }
  return s;
}

double exp_shift_sum(float* x, int64_t n, float shift) {
  switch (active_isa()) {
    case Isa::kAvx512: return vec_detail::exp_shift_sum_avx512(x, n, shift);
    case Isa::kAvx2: return vec_detail::exp_shift_sum_avx2(x, n, shift);
    default: return exp_shift_sum_ref(x, n, shift);
  }
}

float max_of(const float* x, int64_t n) {
  float m = -INFINITY;
  for (int64_t i = 0; i < n; ++i) m = std::max(m, x[i]);  // vectorises without reassociation concerns
  return m;
}

void accumulate_logits_ref(LogitAccumulator& acc, const float* z, int64_t n, float z_target) {
  for (int64_t j = 0; j < n; ++j) {
    const float zf = z[j];
    acc.greater += zf > z_target;
    if (zf == -INFINITY) continue;  // p = 0
    const double v = zf;
    if (v > acc.m) vec_detail::raise_max(acc, v);
    const double d = v - acc.m;
    const double e = std::exp(d);
    acc.S += e;
    acc.T += e * d;
    acc.U += e * d * d;
  }
}

void accumulate_logits(LogitAccumulator& acc, const float* z, int64_t n, float z_target) {
  switch (active_isa()) {
    case Isa::kAvx512: return vec_detail::accumulate_logits_avx512(acc, z, n, z_target);
    case Isa::kAvx2: return vec_detail::accumulate_logits_avx2(acc, z, n, z_target);
    default: return accumulate_logits_ref(acc, z, n, z_target);
  }
}

int64_t indices_above(const float* z, int64_t n, float threshold, int32_t* idx) {
  switch (active_isa()) {
    case Isa::kAvx512: return vec_detail::indices_above_avx512(z, n, threshold, idx);
    case Isa::kAvx2: return vec_detail::indices_above_avx2(z, n, threshold, idx);
    default: break;
  }
  int64_t c = 0;
  for (int64_t i = 0; i < n; ++i)
    if (z[i] > threshold) idx[c++] = static_cast<int32_t>(i);
  return c;
}

void silu_mul_ref(float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    gate[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

void silu_mul(float* gate, const float* up, int64_t n) {
  switch (active_isa()) {
    case Isa::kAvx512: return vec_detail::silu_mul_avx512(gate, up, n);
    case Isa::kAvx2: return vec_detail::silu_mul_avx2(gate, up, n);
    default: return silu_mul_ref(gate, up, n);
  }
}

uint64_t sum_words_ref(const uint64_t* p, int64_t n) {
  uint64_t s = 0;
  for (int64_t i = 0; i < n; ++i) s += p[i];
  return s;
}

uint64_t sum_words(const uint64_t* p, int64_t n) {
  switch (active_isa()) {
    case Isa::kAvx512: return vec_detail::sum_words_avx512(p, n);
    case Isa::kAvx2: return vec_detail::sum_words_avx2(p, n);
    default: return sum_words_ref(p, n);
  }
}

}  // namespace ts
