// Matrix products with weights in any stored type and fp32 activations.
//
//   Y[m, n] = X[m, k] · W[n, k]ᵀ      (W: n rows of k elements each, as GGUF stores a linear layer's weight)
//
// m == 1 (generation) is memory-bound: each weight row is streamed once through vec_dot, rows split across threads.
// m > 1 (prompt evaluation) is compute-bound: panels of W are dequantized to fp32 once and multiplied with a
// cache-blocked fp32 kernel, so every product is exact to fp32 rounding whatever the weight type.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tensor/thread_pool.h"
#include "tokenscope/dtype.h"

namespace ts {

// A typed view of a 2-D weight matrix inside a mapped file: rows × cols, rows of row_stride bytes.
struct WeightView {
  DType type = DType::F32;
  const void* data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
  size_t row_stride = 0;  // bytes; row_bytes(type, cols) for a contiguous tensor

  const uint8_t* row(int64_t r) const { return static_cast<const uint8_t*>(data) + static_cast<size_t>(r) * row_stride; }
};

// Y (m × W.rows, row stride ldy floats) = X (m × W.cols, row stride ldx floats) · Wᵀ.
void matmul(const WeightView& W, const float* X, int64_t m, int64_t ldx, float* Y, int64_t ldy, ThreadPool& pool);

// The naive reference: dequantize each row, dot in double, round to float. Kept for tests.
void matmul_ref(const WeightView& W, const float* X, int64_t m, int64_t ldx, float* Y, int64_t ldy);

}  // namespace ts
