// Internal: the per-ISA entry points behind vec_ops.h.
#pragma once

#include <cmath>

#include "tensor/vec_ops.h"

namespace ts::vec_detail {

// Moves the accumulator's reference maximum up to new_m (> acc.m), as in vec_ops.h. static: this header is
// compiled into translation units with different -m flags, and an inline function with external linkage could be
// merged into a copy that uses instructions the CPU lacks.
static inline void raise_max(LogitAccumulator& acc, double new_m) {
  if (acc.S > 0) {
    const double d = acc.m - new_m;
    const double a = std::exp(d);
    acc.U = a * (acc.U + 2 * d * acc.T + d * d * acc.S);
    acc.T = a * (acc.T + d * acc.S);
    acc.S *= a;
  }
  acc.m = new_m;
}

double exp_shift_sum_avx2(float* x, int64_t n, float shift);
double exp_shift_sum_avx512(float* x, int64_t n, float shift);
void accumulate_logits_avx2(LogitAccumulator& acc, const float* z, int64_t n, float z_target);
void accumulate_logits_avx512(LogitAccumulator& acc, const float* z, int64_t n, float z_target);
int64_t indices_above_avx2(const float* z, int64_t n, float threshold, int32_t* idx);
int64_t indices_above_avx512(const float* z, int64_t n, float threshold, int32_t* idx);
void silu_mul_avx2(float* gate, const float* up, int64_t n);
void silu_mul_avx512(float* gate, const float* up, int64_t n);
uint64_t sum_words_avx2(const uint64_t* p, int64_t n);
uint64_t sum_words_avx512(const uint64_t* p, int64_t n);

}  // namespace ts::vec_detail
