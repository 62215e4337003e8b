// AVX-512 pieces of the blocked fp32 GEMM (layouts and contract: matmul_kernels.h).
//
// Register tile: kMr rows of X × 32 weight rows = kMr × 2 zmm accumulators. Each k step loads two zmm of packed
// weights, broadcasts kMr activations and issues 2·kMr FMAs; with kMr = 8 that is 16 independent accumulators,
// enough to cover FMA latency on both the double-pumped (Zen 4) and full-width (Zen 5, Intel) units, and 19 of the
// 32 zmm registers in all.
//
// Small-m tile (matmul_ordered with 1..7 rows of X): R <= 4 rows of X × T slivers of 32 weight rows, 2·R·T zmm
// accumulators (8 for one row: one row alone needs several slivers to have enough chains in flight), activations
// broadcast straight from X. Each output is the same FMA chain as in tile_8x32, so the row is bit-identical.
#include <immintrin.h>

#include "tensor/matmul_kernels.h"

// GCC 12's AVX-512 intrinsics seed unused lanes with `_mm512_undefined_ps()`, which -Wuninitialized misreports
// (GCC bug 105593, fixed in 13); the registers in question are fully overwritten.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace ts::matmul_detail {
namespace {

constexpr int kMr = 8;
constexpr int kNr = 32;

void tile_8x32(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int rows, int cols,
               bool accumulate) {
  __m512 acc0[kMr], acc1[kMr];
#pragma GCC unroll 16
  for (int i = 0; i < kMr; ++i) acc0[i] = acc1[i] = _mm512_setzero_ps();
#pragma GCC unroll 2
  for (int64_t p = 0; p < kc; ++p) {
    const __m512 b0 = _mm512_load_ps(b);
    const __m512 b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 16
    for (int i = 0; i < kMr; ++i) {
      const __m512 ai = _mm512_set1_ps(a[i]);
      acc0[i] = _mm512_fmadd_ps(ai, b0, acc0[i]);
      acc1[i] = _mm512_fmadd_ps(ai, b1, acc1[i]);
    }
    a += kMr;
    b += kNr;
  }
  const __mmask16 m0 = cols >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << cols) - 1);
  const __mmask16 m1 = cols >= 32 ? __mmask16(0xFFFF) : cols <= 16 ? __mmask16(0) : __mmask16((1u << (cols - 16)) - 1);
#pragma GCC unroll 16
  for (int i = 0; i < kMr; ++i) {
    if (i >= rows) break;
    float* ci = c + i * ldc;
    __m512 v0 = acc0[i], v1 = acc1[i];
    if (accumulate) {
      v0 = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, ci), v0);
      v1 = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, ci + 16), v1);
    }
    _mm512_mask_storeu_ps(ci, m0, v0);
    _mm512_mask_storeu_ps(ci + 16, m1, v1);
  }
}

// Masks of the valid columns of a 32-wide sliver whose first `cols` columns are wanted.
inline __mmask16 low_mask(int cols) { return cols >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << cols) - 1); }
inline __mmask16 high_mask(int cols) { return cols <= 16 ? __mmask16(0) : low_mask(cols - 16); }

// R rows of X against T consecutive slivers (sliver t at b + t·kc·kNr); cols: the valid columns from c on.
template <int R, int T>
void small_rows_tile(int64_t kc, const float* x, int64_t ldx, const float* b, float* c, int64_t ldc, int cols,
                     bool accumulate) {
  __m512 acc[R][2 * T];
#pragma GCC unroll 16
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 16
    for (int v = 0; v < 2 * T; ++v) acc[i][v] = _mm512_setzero_ps();
  const int64_t sliver = kc * kNr;
  for (int64_t p = 0; p < kc; ++p) {
    __m512 bv[2 * T];
#pragma GCC unroll 16
    for (int t = 0; t < T; ++t) {
      bv[2 * t] = _mm512_load_ps(b + t * sliver + p * kNr);
      bv[2 * t + 1] = _mm512_load_ps(b + t * sliver + p * kNr + 16);
    }
#pragma GCC unroll 16
    for (int i = 0; i < R; ++i) {
      const __m512 ai = _mm512_set1_ps(x[i * ldx + p]);
#pragma GCC unroll 16
      for (int v = 0; v < 2 * T; ++v) acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
    }
  }
#pragma GCC unroll 16
  for (int t = 0; t < T; ++t) {
    const int tc = cols - t * kNr;
    if (tc <= 0) break;
    const __mmask16 m0 = low_mask(tc), m1 = high_mask(tc);
#pragma GCC unroll 16
    for (int i = 0; i < R; ++i) {
      float* ci = c + i * ldc + t * kNr;
      __m512 v0 = acc[i][2 * t], v1 = acc[i][2 * t + 1];
      if (accumulate) {
        v0 = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, ci), v0);
        v1 = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, ci + 16), v1);
      }
      _mm512_mask_storeu_ps(ci, m0, v0);
      _mm512_mask_storeu_ps(ci + 16, m1, v1);
    }
  }
}

// R rows against every sliver: groups of kWide slivers (4 for up to two rows, 2 for more: at most 16 accumulators
// plus the weight vectors in registers), then the rest two and one at a time.
template <int R>
void small_rows(int64_t kc, const float* x, int64_t ldx, const float* b, int slivers, float* c, int64_t ldc, int cols,
                bool accumulate) {
  constexpr int kWide = R <= 2 ? 4 : 2;
  const int64_t sliver = kc * kNr;
  int t = 0;
  for (; t + kWide <= slivers; t += kWide)
    small_rows_tile<R, kWide>(kc, x, ldx, b + t * sliver, c + t * kNr, ldc, cols - t * kNr, accumulate);
  if (kWide > 2 && t + 2 <= slivers) {
    small_rows_tile<R, 2>(kc, x, ldx, b + t * sliver, c + t * kNr, ldc, cols - t * kNr, accumulate);
    t += 2;
  }
  for (; t < slivers; ++t)
    small_rows_tile<R, 1>(kc, x, ldx, b + t * sliver, c + t * kNr, ldc, cols - t * kNr, accumulate);
}

void tile_small(int64_t kc, const float* x, int64_t ldx, int rows, const float* b, int slivers, float* c, int64_t ldc,
                int cols, bool accumulate) {
  for (int i = 0; i < rows;) {
    const int r = rows - i >= 4 ? 4 : rows - i;
    const float* xi = x + i * ldx;
    float* ci = c + i * ldc;
    switch (r) {
      case 4: small_rows<4>(kc, xi, ldx, b, slivers, ci, ldc, cols, accumulate); break;
      case 3: small_rows<3>(kc, xi, ldx, b, slivers, ci, ldc, cols, accumulate); break;
      case 2: small_rows<2>(kc, xi, ldx, b, slivers, ci, ldc, cols, accumulate); break;
      default: small_rows<1>(kc, xi, ldx, b, slivers, ci, ldc, cols, accumulate); break;
    }
    i += r;
  }
}

// 16×16 transpose of src rows (stride ld) into dst rows (stride ldd): three interleave stages.
inline void transpose16x16(const float* src, int64_t ld, float* dst, int64_t ldd) {
  __m512 r[16], t[16];
  for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_ps(src + i * ld);
  for (int i = 0; i < 8; ++i) {  // 32-bit interleave of row pairs
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int g = 0; g < 4; ++g) {  // 64-bit interleave: r[4g + e] now holds column 4L + e of rows 4g..4g+3 in lane L
    const __m512d lo01 = _mm512_castps_pd(t[4 * g]), hi01 = _mm512_castps_pd(t[4 * g + 1]);
    const __m512d lo23 = _mm512_castps_pd(t[4 * g + 2]), hi23 = _mm512_castps_pd(t[4 * g + 3]);
    r[4 * g] = _mm512_castpd_ps(_mm512_unpacklo_pd(lo01, lo23));
    r[4 * g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(lo01, lo23));
    r[4 * g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(hi01, hi23));
    r[4 * g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(hi01, hi23));
  }
  for (int e = 0; e < 4; ++e) {  // gather lane L of the four row groups into column 4L + e
    const __m512 v02 = _mm512_shuffle_f32x4(r[e], r[4 + e], 0x88), v13 = _mm512_shuffle_f32x4(r[e], r[4 + e], 0xdd);
    const __m512 w02 = _mm512_shuffle_f32x4(r[8 + e], r[12 + e], 0x88);
    const __m512 w13 = _mm512_shuffle_f32x4(r[8 + e], r[12 + e], 0xdd);
    _mm512_store_ps(dst + (e + 0) * ldd, _mm512_shuffle_f32x4(v02, w02, 0x88));
    _mm512_store_ps(dst + (e + 8) * ldd, _mm512_shuffle_f32x4(v02, w02, 0xdd));
    _mm512_store_ps(dst + (e + 4) * ldd, _mm512_shuffle_f32x4(v13, w13, 0x88));
    _mm512_store_ps(dst + (e + 12) * ldd, _mm512_shuffle_f32x4(v13, w13, 0xdd));
  }
}

// 8×8 transpose with ymm registers (the A sliver is 8 rows deep).
inline void transpose8x8(const float* src, int64_t ld, float* dst, int64_t ldd) {
  __m256 r[8], t[8];
  for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(src + i * ld);
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int g = 0; g < 2; ++g) {  // r[4g + e] holds column 4L + e of rows 4g..4g+3 in 128-bit lane L
    const __m256d lo01 = _mm256_castps_pd(t[4 * g]), hi01 = _mm256_castps_pd(t[4 * g + 1]);
    const __m256d lo23 = _mm256_castps_pd(t[4 * g + 2]), hi23 = _mm256_castps_pd(t[4 * g + 3]);
    r[4 * g] = _mm256_castpd_ps(_mm256_unpacklo_pd(lo01, lo23));
    r[4 * g + 1] = _mm256_castpd_ps(_mm256_unpackhi_pd(lo01, lo23));
    r[4 * g + 2] = _mm256_castpd_ps(_mm256_unpacklo_pd(hi01, hi23));
    r[4 * g + 3] = _mm256_castpd_ps(_mm256_unpackhi_pd(hi01, hi23));
  }
  for (int e = 0; e < 4; ++e) {
    _mm256_store_ps(dst + e * ldd, _mm256_permute2f128_ps(r[e], r[4 + e], 0x20));
    _mm256_store_ps(dst + (e + 4) * ldd, _mm256_permute2f128_ps(r[e], r[4 + e], 0x31));
  }
}

void pack_a_8(const float* src, int64_t ld, int rows, int64_t kc, float* dst) {
  int64_t p = 0;
  if (rows == kMr)
    for (; p + 8 <= kc; p += 8) transpose8x8(src + p, ld, dst + p * kMr, kMr);
  for (; p < kc; ++p)
    for (int i = 0; i < kMr; ++i) dst[p * kMr + i] = i < rows ? src[i * ld + p] : 0.0f;
}

void pack_b_32(const float* src, int64_t ld, int rows, int64_t kc, float* dst) {
  int64_t p = 0;
  if (rows == kNr) {
    for (; p + 16 <= kc; p += 16) {
      transpose16x16(src + p, ld, dst + p * kNr, kNr);
      transpose16x16(src + 16 * ld + p, ld, dst + p * kNr + 16, kNr);
    }
  }
  for (; p < kc; ++p)
    for (int j = 0; j < kNr; ++j) dst[p * kNr + j] = j < rows ? src[j * ld + p] : 0.0f;
}

}  // namespace

GemmKernel gemm_kernel_avx512() { return GemmKernel{kMr, kNr, tile_8x32, pack_b_32, pack_a_8, tile_small}; }

}  // namespace ts::matmul_detail
