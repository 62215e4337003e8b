// Internal: the per-ISA entry points behind vec_ops.h.
#pragma once

#include "tensor/vec_ops.h"

namespace ts::vec_detail {

double exp_shift_sum_avx2(float* x, int64_t n, float shift);
double exp_shift_sum_avx512(float* x, int64_t n, float shift);
void accumulate_logits_avx2(LogitAccumulator& acc, const float* z, int64_t n, float z_target);
void accumulate_logits_avx512(LogitAccumulator& acc, const float* z, int64_t n, float z_target);
int64_t indices_above_avx512(const float* z, int64_t n, float threshold, int32_t* idx);

}  // namespace ts::vec_detail
