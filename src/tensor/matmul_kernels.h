// Internal to matmul: the per-ISA pieces of the blocked fp32 GEMM (register-tile kernel and panel transpose).
//
// Packed layouts (all fp32, 64-byte aligned):
//   A (activations): an mr-row sliver of X over kc columns, stored k-major: a[p * mr + i] = X[i, k0 + p];
//                    rows past the end of X are zero.
//   B (weights):     an nr-row sliver of W over kc columns, stored k-major: b[p * nr + j] = W[j, k0 + p];
//                    rows past the end of W are zero.
// A tile computes C[i, j] (+)= sum_p a[p * mr + i] * b[p * nr + j] for i < rows, j < cols, one fp32 FMA per product
// in order of p, so every ISA rounds like a plain fp32 dot product accumulated per (i, j) over each kc block.
#pragma once

#include <cstdint>

namespace ts::matmul_detail {

struct GemmKernel {
  int mr = 0;  // rows of X per register tile
  int nr = 0;  // rows of W (columns of Y) per register tile
  // C (row stride ldc) = [C +] A·Bᵀ on a rows × cols corner of the mr × nr tile; accumulate=false overwrites.
  void (*tile)(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int rows, int cols,
               bool accumulate) = nullptr;
  // dst[p * nr + j] = src[j * ld + p] for j < rows, p < kc; rows..nr-1 are zero-filled. (B packing.)
  void (*pack_b)(const float* src, int64_t ld, int rows, int64_t kc, float* dst) = nullptr;
  // dst[p * mr + i] = src[i * ld + p] for i < rows, p < kc; rows..mr-1 are zero-filled. (A packing.)
  void (*pack_a)(const float* src, int64_t ld, int rows, int64_t kc, float* dst) = nullptr;
};

// Defined in matmul_avx512.cpp / matmul_avx2.cpp; call only when ts::active_isa() allows that ISA.
GemmKernel gemm_kernel_avx512();
GemmKernel gemm_kernel_avx2();

}  // namespace ts::matmul_detail
