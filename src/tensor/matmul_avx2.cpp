// AVX2 + FMA pieces of the blocked fp32 GEMM (layouts and contract: matmul_kernels.h).
//
// Register tile: 6 rows of X × 16 weight rows = 12 ymm accumulators + 2 for weights + 1 broadcast = 15 of 16.
//
// Small-m tile (matmul_ordered with 1..5 rows of X): one row × 4 slivers or two rows × 2 slivers, 8 ymm accumulators
// either way, activations broadcast straight from X. Each output is the same FMA chain as in tile_6x16.
//
// F16 / BF16 weights are widened (vcvtph2ps / a shift, as dequantize_row does here) inside the panel transpose, so
// they are packed straight from the mapped rows into the same panel as dequantize_row + pack_b_16 would make.
#include <immintrin.h>

#include "tensor/matmul_kernels.h"

namespace ts::matmul_detail {
namespace {

constexpr int kMr = 6;
constexpr int kNr = 16;

void tile_6x16(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int rows, int cols,
               bool accumulate) {
  __m256 acc0[kMr], acc1[kMr];
#pragma GCC unroll 16
  for (int i = 0; i < kMr; ++i) acc0[i] = acc1[i] = _mm256_setzero_ps();
#pragma GCC unroll 2
  for (int64_t p = 0; p < kc; ++p) {
    const __m256 b0 = _mm256_load_ps(b);
    const __m256 b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 16
    for (int i = 0; i < kMr; ++i) {
      const __m256 ai = _mm256_broadcast_ss(a + i);
      acc0[i] = _mm256_fmadd_ps(ai, b0, acc0[i]);
      acc1[i] = _mm256_fmadd_ps(ai, b1, acc1[i]);
    }
    a += kMr;
    b += kNr;
  }
#pragma GCC unroll 16
  for (int i = 0; i < kMr; ++i) {
    if (i >= rows) break;
    float* ci = c + i * ldc;
    if (cols == kNr) {
      __m256 v0 = acc0[i], v1 = acc1[i];
      if (accumulate) {
        v0 = _mm256_add_ps(_mm256_loadu_ps(ci), v0);
        v1 = _mm256_add_ps(_mm256_loadu_ps(ci + 8), v1);
      }
      _mm256_storeu_ps(ci, v0);
      _mm256_storeu_ps(ci + 8, v1);
    } else {  // right edge of Y: go through a buffer so nothing past column `cols` is touched
      alignas(32) float buf[kNr];
      _mm256_store_ps(buf, acc0[i]);
      _mm256_store_ps(buf + 8, acc1[i]);
      for (int j = 0; j < cols; ++j) ci[j] = accumulate ? ci[j] + buf[j] : buf[j];
    }
  }
}

// R rows of X against T consecutive slivers (sliver t at b + t·sliver); cols: the valid columns from c on.
template <int R, int T>
void small_rows_tile(int64_t kc, const float* x, int64_t ldx, const float* b, int64_t sliver, float* c, int64_t ldc,
                     int cols, bool accumulate) {
  __m256 acc[R][2 * T];
#pragma GCC unroll 16
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 16
    for (int v = 0; v < 2 * T; ++v) acc[i][v] = _mm256_setzero_ps();
  for (int64_t p = 0; p < kc; ++p) {
#pragma GCC unroll 16
    for (int i = 0; i < R; ++i) {
      const __m256 ai = _mm256_broadcast_ss(x + i * ldx + p);
#pragma GCC unroll 16
      for (int v = 0; v < 2 * T; ++v)
        acc[i][v] = _mm256_fmadd_ps(ai, _mm256_load_ps(b + (v / 2) * sliver + p * kNr + (v % 2) * 8), acc[i][v]);
    }
  }
#pragma GCC unroll 16
  for (int t = 0; t < T; ++t) {
    const int tc = cols - t * kNr;
    if (tc <= 0) break;
#pragma GCC unroll 16
    for (int i = 0; i < R; ++i) {
      float* ci = c + i * ldc + t * kNr;
      if (tc >= kNr) {
        __m256 v0 = acc[i][2 * t], v1 = acc[i][2 * t + 1];
        if (accumulate) {
          v0 = _mm256_add_ps(_mm256_loadu_ps(ci), v0);
          v1 = _mm256_add_ps(_mm256_loadu_ps(ci + 8), v1);
        }
        _mm256_storeu_ps(ci, v0);
        _mm256_storeu_ps(ci + 8, v1);
      } else {  // right edge of Y, as in tile_6x16
        alignas(32) float buf[kNr];
        _mm256_store_ps(buf, acc[i][2 * t]);
        _mm256_store_ps(buf + 8, acc[i][2 * t + 1]);
        for (int j = 0; j < tc; ++j) ci[j] = accumulate ? ci[j] + buf[j] : buf[j];
      }
    }
  }
}

// R rows against every sliver: groups of T slivers, then the rest one at a time.
template <int R, int T>
void small_rows(int64_t kc, const float* x, int64_t ldx, const float* b, int slivers, int64_t sliver, float* c,
                int64_t ldc, int cols, bool accumulate) {
  int t = 0;
  for (; t + T <= slivers; t += T)
    small_rows_tile<R, T>(kc, x, ldx, b + t * sliver, sliver, c + t * kNr, ldc, cols - t * kNr, accumulate);
  for (; t < slivers; ++t)
    small_rows_tile<R, 1>(kc, x, ldx, b + t * sliver, sliver, c + t * kNr, ldc, cols - t * kNr, accumulate);
}

void tile_small(int64_t kc, const float* x, int64_t ldx, int rows, const float* b, int slivers,
                int64_t sliver_stride, float* c, int64_t ldc, int cols, bool accumulate) {
  int i = 0;
  for (; i + 2 <= rows; i += 2)
    small_rows<2, 2>(kc, x + i * ldx, ldx, b, slivers, sliver_stride, c + i * ldc, ldc, cols, accumulate);
  if (i < rows) small_rows<1, 4>(kc, x + i * ldx, ldx, b, slivers, sliver_stride, c + i * ldc, ldc, cols, accumulate);
}

// 8×8 transpose in registers: on entry r[i] is row i, on return r[p] is column p.
__attribute__((always_inline)) inline void transpose8(__m256 r[8]) {
  __m256 t[8];
#pragma GCC unroll 8
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
#pragma GCC unroll 8
  for (int g = 0; g < 2; ++g) {  // r[4g + e] holds column 4L + e of rows 4g..4g+3 in 128-bit lane L
    const __m256d lo01 = _mm256_castps_pd(t[4 * g]), hi01 = _mm256_castps_pd(t[4 * g + 1]);
    const __m256d lo23 = _mm256_castps_pd(t[4 * g + 2]), hi23 = _mm256_castps_pd(t[4 * g + 3]);
    r[4 * g] = _mm256_castpd_ps(_mm256_unpacklo_pd(lo01, lo23));
    r[4 * g + 1] = _mm256_castpd_ps(_mm256_unpackhi_pd(lo01, lo23));
    r[4 * g + 2] = _mm256_castpd_ps(_mm256_unpacklo_pd(hi01, hi23));
    r[4 * g + 3] = _mm256_castpd_ps(_mm256_unpackhi_pd(hi01, hi23));
  }
#pragma GCC unroll 8
  for (int e = 0; e < 4; ++e) {  // reads and writes r[e], r[4 + e] only: in place is safe
    const __m256 lo = _mm256_permute2f128_ps(r[e], r[4 + e], 0x20), hi = _mm256_permute2f128_ps(r[e], r[4 + e], 0x31);
    r[e] = lo;
    r[e + 4] = hi;
  }
}

// 8×8 transpose of src rows (stride ld) into dst rows (stride ldd, 32-byte aligned).
inline void transpose8x8(const float* src, int64_t ld, float* dst, int64_t ldd) {
  __m256 r[8];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(src + i * ld);
  transpose8(r);
#pragma GCC unroll 8
  for (int p = 0; p < 8; ++p) _mm256_store_ps(dst + p * ldd, r[p]);
}

void pack_a_6(const float* src, int64_t ld, int rows, int64_t kc, float* dst) {
  for (int64_t p = 0; p < kc; ++p)
    for (int i = 0; i < kMr; ++i) dst[p * kMr + i] = i < rows ? src[i * ld + p] : 0.0f;
}

void pack_b_16(const float* src, int64_t ld, int rows, int64_t kc, float* dst) {
  int64_t p = 0;
  if (rows == kNr) {
    for (; p + 8 <= kc; p += 8) {
      transpose8x8(src + p, ld, dst + p * kNr, kNr);
      transpose8x8(src + 8 * ld + p, ld, dst + p * kNr + 8, kNr);
    }
  }
  for (; p < kc; ++p)
    for (int j = 0; j < kNr; ++j) dst[p * kNr + j] = j < rows ? src[j * ld + p] : 0.0f;
}

// Widening of 8 stored halves to fp32, exactly as the AVX2 dequantize_row (quant_kernels_avx2.cpp) does: F16 by
// vcvtph2ps (its scalar tail uses the same instruction), BF16 by a shift.
struct WidenF16 {
  __m256 operator()(__m128i h) const { return _mm256_cvtph_ps(h); }
};
struct WidenBf16 {
  __m256 operator()(__m128i h) const { return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16)); }
};

// pack_b_16 on rows of 16-bit values: each 8 × 8 block is widened as it is loaded and transposed in registers.
// Rows past `rows` are zero; a last block narrower than 8 columns is copied into a zeroed buffer first (AVX2 has no
// masked 16-bit load), and only its valid columns are stored.
template <class Widen>
void pack_b_16_halves(const uint16_t* src, int64_t ld, int rows, int64_t kc, float* dst) {
  const Widen widen;
  for (int64_t p0 = 0; p0 < kc; p0 += 8) {
    const int width = kc - p0 >= 8 ? 8 : static_cast<int>(kc - p0);
    for (int h = 0; h < kNr; h += 8) {
      __m256 r[8];
      if (rows == kNr && width == 8) {
#pragma GCC unroll 8
        for (int i = 0; i < 8; ++i)
          r[i] = widen(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + (h + i) * ld + p0)));
      } else {
#pragma GCC unroll 8
        for (int i = 0; i < 8; ++i) {
          alignas(16) uint16_t part[8] = {};
          if (h + i < rows)
            for (int p = 0; p < width; ++p) part[p] = src[(h + i) * ld + p0 + p];
          r[i] = h + i < rows ? widen(_mm_load_si128(reinterpret_cast<const __m128i*>(part))) : _mm256_setzero_ps();
        }
      }
      transpose8(r);
      float* d = dst + p0 * kNr + h;
      if (width == 8) {
#pragma GCC unroll 8
        for (int p = 0; p < 8; ++p) _mm256_store_ps(d + p * kNr, r[p]);
      } else {  // through a buffer, so that r is only ever indexed by constants (and stays in registers)
        alignas(32) float buf[8][8];
#pragma GCC unroll 8
        for (int p = 0; p < 8; ++p) _mm256_store_ps(buf[p], r[p]);
        for (int p = 0; p < width; ++p) _mm256_store_ps(d + p * kNr, _mm256_load_ps(buf[p]));
      }
    }
  }
}

}  // namespace

GemmKernel gemm_kernel_avx2() {
  GemmKernel k{kMr, kNr, tile_6x16, pack_b_16, pack_a_6, tile_small};
  k.pack_b_f16 = pack_b_16_halves<WidenF16>;
  k.pack_b_bf16 = pack_b_16_halves<WidenBf16>;
  return k;
}

}  // namespace ts::matmul_detail
