// Internal to matmul: the per-ISA pieces of the blocked fp32 GEMM (register-tile kernel and panel transpose).
//
// Packed layouts (all fp32, 64-byte aligned):
//   A (activations): an mr-row sliver of X over kc columns, stored k-major: a[p * mr + i] = X[i, k0 + p];
//                    rows past the end of X are zero.
//   B (weights):     an nr-row sliver of W over kc columns, stored k-major: b[p * nr + j] = W[j, k0 + p];
//                    rows past the end of W are zero.
// A tile computes C[i, j] (+)= sum_p a[p * mr + i] * b[p * nr + j] for i < rows, j < cols, one fp32 FMA per product
// in order of p, so every ISA rounds like a plain fp32 dot product accumulated per (i, j) over each kc block.
//
// The small-m tile (matmul_ordered with fewer than mr rows of X) computes each C[i, j] by the same sequence of
// operations as the tile: acc = 0, acc = fma(x_i[p], b[p * nr + j], acc) for p = 0..kc−1 (the scalar fallback:
// acc = acc + x_i[p] · b[...], as its tile), then C = acc or C + acc. It reads X in place (row i at x + i · ldx)
// instead of a packed A, and spans several B slivers so that one row of X still has enough independent accumulators.
// Per ISA, a row of Y is therefore bit-identical whichever tile computed it.
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
  // C (row stride ldc) = [C +] X·Bᵀ for rows (1..mr−1) rows of X (x + i·ldx, kc floats each) and `slivers` packed
  // B slivers (sliver t at b + t·sliver_stride, columns t·nr..t·nr+nr−1 of C; the packed panel's stride is kc·nr);
  // only the first `cols` columns are written.
  void (*tile_small)(int64_t kc, const float* x, int64_t ldx, int rows, const float* b, int slivers,
                     int64_t sliver_stride, float* c, int64_t ldc, int cols, bool accumulate) = nullptr;
  // pack_b straight from stored 16-bit rows (src: the first of `rows` rows, ld elements apart, kc elements each),
  // each element widened to fp32 as this ISA's dequantize_row does (the same instruction), so the panel is the one
  // dequantize_row + pack_b would make, without the fp32 copy in between. Null: no fused form (scalar fallback).
  void (*pack_b_f16)(const uint16_t* src, int64_t ld, int rows, int64_t kc, float* dst) = nullptr;
  void (*pack_b_bf16)(const uint16_t* src, int64_t ld, int rows, int64_t kc, float* dst) = nullptr;
};

// Defined in matmul_avx512.cpp / matmul_avx2.cpp; call only when ts::active_isa() allows that ISA.
GemmKernel gemm_kernel_avx512();
GemmKernel gemm_kernel_avx2();

}  // namespace ts::matmul_detail
