// Internal to src/tensor (not a public header): the block layouts of the quantized formats, exactly as ggml stores
// them in GGUF files (layouts as in ggml-common.h), helpers shared by the per-format files, and the per-format and
// per-ISA kernels the dispatcher in quant.cpp chooses from.
//
// The SIMD translation units (*_avx2.cpp, *_avx512.cpp) include this header too. Everything defined here is either a
// plain struct or `static inline` (internal linkage): a shared `inline` function compiled once with -mavx512f and
// once without would be merged by the linker, and scalar code could end up running AVX-512 instructions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "tokenscope/dtype.h"

namespace ts::quant {

constexpr int kQK = 32;    // elements per block of the legacy formats (Q4_0 .. Q8_0)
constexpr int kQKK = 256;  // elements per super-block of the k-quants (Q2_K .. Q6_K)

// fp16 fields are stored as raw IEEE binary16 bits; uint8_t arrays keep every block at its ggml byte size.
struct BlockQ4_0 { uint16_t d; uint8_t qs[16]; };
struct BlockQ4_1 { uint16_t d, m; uint8_t qs[16]; };
struct BlockQ5_0 { uint16_t d; uint8_t qh[4]; uint8_t qs[16]; };
struct BlockQ5_1 { uint16_t d, m; uint8_t qh[4]; uint8_t qs[16]; };
struct BlockQ8_0 { uint16_t d; int8_t qs[32]; };
struct BlockQ2_K { uint8_t scales[16]; uint8_t qs[64]; uint16_t d, dmin; };
struct BlockQ3_K { uint8_t hmask[32]; uint8_t qs[64]; uint8_t scales[12]; uint16_t d; };
struct BlockQ4_K { uint16_t d, dmin; uint8_t scales[12]; uint8_t qs[128]; };
struct BlockQ5_K { uint16_t d, dmin; uint8_t scales[12]; uint8_t qh[32]; uint8_t qs[128]; };
struct BlockQ6_K { uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; uint16_t d; };

static_assert(sizeof(BlockQ4_0) == 18 && sizeof(BlockQ4_1) == 20 && sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24 && sizeof(BlockQ8_0) == 34 && sizeof(BlockQ2_K) == 84);
static_assert(sizeof(BlockQ3_K) == 110 && sizeof(BlockQ4_K) == 144 && sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);

// IEEE binary16 -> binary32, exact (subnormals, infinities and NaN payloads included).
static inline float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    // zero or subnormal: mant * 2^-24, exact in fp32
    float v = static_cast<float>(mant) * 5.9604644775390625e-8f;
    std::memcpy(&bits, &v, 4);
    bits |= sign;
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// binary32 -> binary16, round to nearest even; overflow gives infinity, NaN stays a (quiet) NaN.
static inline uint16_t float_to_half(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  x &= 0x7fffffffu;
  if (x >= 0x7f800000u) return sign | (x > 0x7f800000u ? static_cast<uint16_t>(0x7e00u | ((x >> 13) & 0x3ffu)) : 0x7c00u);
  if (x >= 0x477ff000u) return sign | 0x7c00u;  // >= 65520 rounds (ties to even) past 65504
  if (x < 0x38800000u) {
    // Result is subnormal (or zero): adding 0.5 puts the value where the fp32 ulp is 2^-24, the binary16 subnormal
    // step, so the fp32 addition itself rounds to nearest even at the right place.
    float a;
    std::memcpy(&a, &x, 4);
    float r = a + 0.5f;
    uint32_t rb;
    std::memcpy(&rb, &r, 4);
    return sign | static_cast<uint16_t>(rb - 0x3f000000u);
  }
  const uint32_t odd = (x >> 13) & 1u;
  x += 0xfffu + odd;           // round to nearest even at bit 13
  x -= (127u - 15u) << 23;     // rebias the exponent
  return sign | static_cast<uint16_t>(x >> 13);
}

static inline float bf16_bits_to_float(uint16_t h) {
  const uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

static inline uint16_t float_to_bf16_bits(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);  // NaN: keep it quiet
  x += 0x7fffu + ((x >> 16) & 1u);
  return static_cast<uint16_t>(x >> 16);
}

// Q4_K / Q5_K: sub-block j (0..7) has a 6-bit scale and a 6-bit min packed into 12 bytes: for j < 4 the low six bits
// of bytes j and j+4; for j >= 4 the nibbles of byte j+4 plus the top two bits of bytes j-4 (scale) and j (min).
// (Packing as in ggml-quants.c get_scale_min_k4.)
static inline void k4_scale_min(int j, const uint8_t* s, uint8_t* sc, uint8_t* mn) {
  if (j < 4) {
    *sc = s[j] & 63;
    *mn = s[j + 4] & 63;
  } else {
    *sc = static_cast<uint8_t>((s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4));
    *mn = static_cast<uint8_t>((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
  }
}

// Q3_K: sub-block j (0..15) has a 6-bit scale biased by 32: low nibble in byte j (j < 8) or the high nibble of byte
// j-8, top two bits at bit 2*(j/4) of byte 8 + j%4 (packing as in ggml-quants.c quantize_row_q3_K_ref).
static inline int q3k_scale(int j, const uint8_t* s) {
  const int lo = j < 8 ? (s[j] & 0xF) : (s[j - 8] >> 4);
  const int hi = (s[8 + (j & 3)] >> (2 * (j >> 2))) & 3;
  return (lo | (hi << 4)) - 32;
}

using DequantFn = void (*)(const void* src, float* dst, int64_t n);
using DotFn = float (*)(const void* row, const float* x, int64_t n);
// out[i] = dot(row, x + i·ldx) for i < m (2 <= m <= 4), each bit-identical to DotFn's result for that row.
using MultiDotFn = void (*)(const void* row, const float* x, int64_t ldx, int m, int64_t n, float* out);
// out[j] = dot(rows + j·stride, x) for j < nrows (any nrows >= 0), each bit-identical to DotFn's result for that row:
// the GEMV of one activation row, several weight rows per pass over x.
using DotRowsFn = void (*)(const uint8_t* rows, size_t stride, int64_t nrows, const float* x, int64_t n, float* out);
using QuantFn = void (*)(const float* src, void* dst, int64_t n);

// Scalar references, one file per format (quant_<format>.cpp).
void dequantize_f32_ref(const void* src, float* dst, int64_t n);
void dequantize_f16_ref(const void* src, float* dst, int64_t n);
void dequantize_bf16_ref(const void* src, float* dst, int64_t n);
void dequantize_q4_0_ref(const void* src, float* dst, int64_t n);
void dequantize_q4_1_ref(const void* src, float* dst, int64_t n);
void dequantize_q5_0_ref(const void* src, float* dst, int64_t n);
void dequantize_q5_1_ref(const void* src, float* dst, int64_t n);
void dequantize_q8_0_ref(const void* src, float* dst, int64_t n);
void dequantize_q2_k_ref(const void* src, float* dst, int64_t n);
void dequantize_q3_k_ref(const void* src, float* dst, int64_t n);
void dequantize_q4_k_ref(const void* src, float* dst, int64_t n);
void dequantize_q5_k_ref(const void* src, float* dst, int64_t n);
void dequantize_q6_k_ref(const void* src, float* dst, int64_t n);

void quantize_f32_ref(const float* src, void* dst, int64_t n);
void quantize_f16_ref(const float* src, void* dst, int64_t n);
void quantize_bf16_ref(const float* src, void* dst, int64_t n);
void quantize_q4_0_ref(const float* src, void* dst, int64_t n);
void quantize_q4_1_ref(const float* src, void* dst, int64_t n);
void quantize_q5_0_ref(const float* src, void* dst, int64_t n);
void quantize_q5_1_ref(const float* src, void* dst, int64_t n);
void quantize_q8_0_ref(const float* src, void* dst, int64_t n);
void quantize_q2_k_ref(const float* src, void* dst, int64_t n);
void quantize_q3_k_ref(const float* src, void* dst, int64_t n);
void quantize_q4_k_ref(const float* src, void* dst, int64_t n);
void quantize_q5_k_ref(const float* src, void* dst, int64_t n);
void quantize_q6_k_ref(const float* src, void* dst, int64_t n);

// Shared by the k-quant quantizers (quant_k_fit.cpp).
//
// Fit x[i] ~ scale * L[i] - min with L[i] in 0..nmax, min >= 0, minimizing sum w[i] * err^2 (or |err| when use_abs):
// starts from the range (max - min) / nmax, then tries nstep+1 candidate inverse scales (rmin + rdelta*k + nmax) /
// range, each followed by a weighted least-squares solve for scale and min. (The search ggml's make_qkx2_quants runs.)
// Returns scale; *min_out = min.
float fit_scale_min(int n, int nmax, const float* x, const float* w, uint8_t* L, float* min_out, float rmin,
                    float rdelta, int nstep, bool use_abs);
// Fit x[i] ~ scale * L[i] with L[i] in -nmax..nmax-1, weights x^2, trying inverse scales (nmax + 0.1k) / max for
// k = -9..9 around the one mapping the largest-magnitude element to -nmax (the search of ggml's make_qx_quants).
// L receives the biased codes L[i] + nmax. Returns scale (may be negative).
float fit_scale_symmetric(int n, int nmax, const float* x, int8_t* L);
// Q4_K / Q5_K: the 6-bit scales and mins relative to the largest of each (max_scale, max_min >= 0), packed into 12
// bytes as k4_scale_min reads them; *d = fp16(max_scale / 63), *dmin = fp16(max_min / 63).
void pack_k4_scales(const float* scales, const float* mins, float max_scale, float max_min, uint8_t* out,
                    uint16_t* d, uint16_t* dmin);
// Q4_K / Q5_K, one super-block of 256: fits each sub-block of 32 with fit_scale_min (weights rms + |x|, codes
// 0..nmax), packs the scales (pack_k4_scales), then recomputes the codes L[256] against the scales as stored.
void quantize_k4_codes(const float* x, int nmax, float rmin, float rdelta, int nstep, uint8_t* scales12, uint16_t* d,
                       uint16_t* dmin, uint8_t* L);
// Q3_K's fit: codes -nmax..nmax-1 from the largest-magnitude element, then up to five passes that move single codes
// to where they raise the x^2-weighted fit (sum w x l)^2 / sum w l^2 (the search of ggml's make_q3_quants with
// rmse). L receives the biased codes L[i] + nmax. Returns the least-squares scale.
float fit_scale_q3(int n, int nmax, const float* x, int8_t* L);
// Round to nearest, ties to even (what ggml's nearest_int does under the default rounding mode).
int round_even(float v);

// Per-ISA kernels (quant_kernels_avx2.cpp / quant_kernels_avx512.cpp). Null members: no kernel for that type.
struct SimdKernels {
  DequantFn dequantize = nullptr;
  DotFn dot = nullptr;
  MultiDotFn dot_multi = nullptr;  // null: dot once per row
  DotRowsFn dot_rows = nullptr;    // null: dot once per weight row
  DotRowsFn dot_each = nullptr;    // dot of one row after another in one call (no lockstep); null: dot per row
};
SimdKernels avx2_kernels(DType t);
SimdKernels avx512_kernels(DType t);

}  // namespace ts::quant
