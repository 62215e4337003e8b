// Row-level operations on every tensor type the engine reads: dequantize, dot with fp32, quantize.
//
// One file per number format (src/tensor/quant_<format>.cpp) holds the block layout in its header comment and the
// scalar reference code; SIMD versions live only in *_avx2.cpp / *_avx512.cpp and are chosen once at run time
// (src/tensor/cpu.h). Every SIMD function has a test against its scalar reference.
//
// All entry points take n = number of elements in the row, a multiple of the type's block size.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tokenscope/dtype.h"

namespace ts {

// fp16 / bf16 <-> fp32 (exact conversions; fp32->fp16 rounds to nearest even, fp32->bf16 rounds to nearest even).
float fp16_to_fp32(uint16_t h);
uint16_t fp32_to_fp16(float f);
float bf16_to_fp32(uint16_t h);
uint16_t fp32_to_bf16(float f);

// dst[0..n) = the values the row stores, exactly (each is representable in fp32). Dispatches to the best ISA.
void dequantize_row(DType t, const void* src, float* dst, int64_t n);
// The scalar reference, never dispatched (tests compare the SIMD paths with it).
void dequantize_row_ref(DType t, const void* src, float* dst, int64_t n);

// sum_i w[i] * x[i] with w = dequantize(row); fp32 activations, products accumulated in fp32 (SIMD lanes) and
// reduced at the end. Dispatches to the best ISA.
float vec_dot(DType t, const void* row, const float* x, int64_t n);
float vec_dot_ref(DType t, const void* row, const float* x, int64_t n);
// out[i·ldo + j] = vec_dot(t, rows + j·stride, x + i·ldx, n) for j < nrows, i < m, bit for bit: a GEMV tile for a
// few activation rows, each weight row decoded once per group of up to four activation rows (the SIMD kernels
// multiply each decoded vector into every activation row's accumulators). For m == 1 and float rows too long for
// x to stay in L1 beside them (F16/BF16 from ~4800 columns, F32 from ~3600), up to 8 weight rows are walked in
// lockstep so that each x vector is loaded once for all of them (about 1.35x the streaming rate on Zen 4); shorter
// rows go one after another through one call of the SIMD dot (no dispatch per row).
void vec_dot_tile(DType t, const uint8_t* rows, size_t stride, int64_t nrows, const float* x, int64_t ldx, int64_t m,
                  int64_t n, float* out, int64_t ldo);

// Quantize n floats into row (row_bytes(t, n) bytes), the way llama.cpp's reference quantizers do for the
// formats that have one here (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q6_K, and, where implemented,
// the others). Returns false for a type it cannot produce.
bool quantize_row(DType t, const float* src, void* row, int64_t n);

}  // namespace ts
