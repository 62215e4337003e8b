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
//
// F16 / BF16 weights are widened (vcvtph2ps / a shift, as dequantize_row does here) inside the panel transpose, so
// they are packed straight from the mapped rows into the same panel as dequantize_row + pack_b_32 would make.
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

// R rows of X against T consecutive slivers (sliver t at b + t·sliver); cols: the valid columns from c on.
template <int R, int T>
void small_rows_tile(int64_t kc, const float* x, int64_t ldx, const float* b, int64_t sliver, float* c, int64_t ldc,
                     int cols, bool accumulate) {
  __m512 acc[R][2 * T];
#pragma GCC unroll 16
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 16
    for (int v = 0; v < 2 * T; ++v) acc[i][v] = _mm512_setzero_ps();
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
void small_rows(int64_t kc, const float* x, int64_t ldx, const float* b, int slivers, int64_t sliver, float* c,
                int64_t ldc, int cols, bool accumulate) {
  constexpr int kWide = R <= 2 ? 4 : 2;
  int t = 0;
  for (; t + kWide <= slivers; t += kWide)
    small_rows_tile<R, kWide>(kc, x, ldx, b + t * sliver, sliver, c + t * kNr, ldc, cols - t * kNr, accumulate);
  if (kWide > 2 && t + 2 <= slivers) {
    small_rows_tile<R, 2>(kc, x, ldx, b + t * sliver, sliver, c + t * kNr, ldc, cols - t * kNr, accumulate);
    t += 2;
  }
  for (; t < slivers; ++t)
    small_rows_tile<R, 1>(kc, x, ldx, b + t * sliver, sliver, c + t * kNr, ldc, cols - t * kNr, accumulate);
}

void tile_small(int64_t kc, const float* x, int64_t ldx, int rows, const float* b, int slivers,
                int64_t sliver_stride, float* c, int64_t ldc, int cols, bool accumulate) {
  for (int i = 0; i < rows;) {
    const int r = rows - i >= 4 ? 4 : rows - i;
    const float* xi = x + i * ldx;
    float* ci = c + i * ldc;
    switch (r) {
      case 4: small_rows<4>(kc, xi, ldx, b, slivers, sliver_stride, ci, ldc, cols, accumulate); break;
      case 3: small_rows<3>(kc, xi, ldx, b, slivers, sliver_stride, ci, ldc, cols, accumulate); break;
      case 2: small_rows<2>(kc, xi, ldx, b, slivers, sliver_stride, ci, ldc, cols, accumulate); break;
      default: small_rows<1>(kc, xi, ldx, b, slivers, sliver_stride, ci, ldc, cols, accumulate); break;
    }
    i += r;
  }
}

// 16×16 transpose in registers: on entry r[i] is row i, on return r[p] is column p. Three interleave stages.
__attribute__((always_inline)) inline void transpose16(__m512 r[16]) {
  __m512 t[16];
#pragma GCC unroll 16
  for (int i = 0; i < 8; ++i) {  // 32-bit interleave of row pairs
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
#pragma GCC unroll 16
  for (int g = 0; g < 4; ++g) {  // 64-bit interleave: r[4g + e] now holds column 4L + e of rows 4g..4g+3 in lane L
    const __m512d lo01 = _mm512_castps_pd(t[4 * g]), hi01 = _mm512_castps_pd(t[4 * g + 1]);
    const __m512d lo23 = _mm512_castps_pd(t[4 * g + 2]), hi23 = _mm512_castps_pd(t[4 * g + 3]);
    r[4 * g] = _mm512_castpd_ps(_mm512_unpacklo_pd(lo01, lo23));
    r[4 * g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(lo01, lo23));
    r[4 * g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(hi01, hi23));
    r[4 * g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(hi01, hi23));
  }
#pragma GCC unroll 16
  for (int e = 0; e < 4; ++e) {  // gather lane L of the four row groups into column 4L + e (reads and writes
                                 // r[e], r[4 + e], r[8 + e], r[12 + e] only, so in place is safe)
    const __m512 v02 = _mm512_shuffle_f32x4(r[e], r[4 + e], 0x88), v13 = _mm512_shuffle_f32x4(r[e], r[4 + e], 0xdd);
    const __m512 w02 = _mm512_shuffle_f32x4(r[8 + e], r[12 + e], 0x88);
    const __m512 w13 = _mm512_shuffle_f32x4(r[8 + e], r[12 + e], 0xdd);
    r[e] = _mm512_shuffle_f32x4(v02, w02, 0x88);
    r[e + 8] = _mm512_shuffle_f32x4(v02, w02, 0xdd);
    r[e + 4] = _mm512_shuffle_f32x4(v13, w13, 0x88);
    r[e + 12] = _mm512_shuffle_f32x4(v13, w13, 0xdd);
  }
}

// 16×16 transpose of src rows (stride ld) into dst rows (stride ldd, 64-byte aligned).
inline void transpose16x16(const float* src, int64_t ld, float* dst, int64_t ldd) {
  __m512 r[16];
#pragma GCC unroll 16
  for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_ps(src + i * ld);
  transpose16(r);
#pragma GCC unroll 16
  for (int p = 0; p < 16; ++p) _mm512_store_ps(dst + p * ldd, r[p]);
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

// Widening of 16 stored halves to fp32, exactly as the AVX-512 dequantize_row (quant_kernels_avx512.cpp) does.
struct WidenF16 {
  __m512 operator()(__m256i h) const { return _mm512_cvtph_ps(h); }
};
struct WidenBf16 {  // bf16 is the top half of a binary32: a shift
  __m512 operator()(__m256i h) const { return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)); }
};

// pack_b_32 on rows of 16-bit values, widened as they are transposed. Whole slivers go 32 columns at a time: each
// row's 64 bytes are read with one load, because the rows of a weight matrix are often 4 KiB apart (k = 2048
// halves), so they share an L1 set, and two half-line loads per row far apart in time would miss twice. The rest
// (fewer than 32 rows, a tail of fewer than 32 columns) goes 16 columns at a time with masked loads (nothing past kc
// or past the last row is read; missing rows are zero) and stores only the valid columns.
template <class Widen>
void pack_b_32_halves(const uint16_t* src, int64_t ld, int rows, int64_t kc, float* dst) {
  const Widen widen;
  const int64_t p_lines = rows == kNr ? kc / 32 * 32 : 0;
  for (int h = 0; h < kNr; h += 16) {
    for (int64_t p0 = 0; p0 < p_lines; p0 += 32) {
      __m512i raw[16];
#pragma GCC unroll 16
      for (int i = 0; i < 16; ++i) {
        raw[i] = _mm512_loadu_si512(src + (h + i) * ld + p0);
        // keeps the one 64-byte load: without it GCC folds each half's extract into a 32-byte load from src again
        asm("" : "+v"(raw[i]));
      }
#pragma GCC unroll 2
      for (int s = 0; s < 2; ++s) {
        __m512 r[16];
#pragma GCC unroll 16
        for (int i = 0; i < 16; ++i)
          r[i] = widen(s == 0 ? _mm512_castsi512_si256(raw[i]) : _mm512_extracti64x4_epi64(raw[i], 1));
        transpose16(r);
        float* d = dst + (p0 + 16 * s) * kNr + h;
#pragma GCC unroll 16
        for (int p = 0; p < 16; ++p) _mm512_store_ps(d + p * kNr, r[p]);
      }
    }
  }
  for (int64_t p0 = p_lines; p0 < kc; p0 += 16) {
    const int width = kc - p0 >= 16 ? 16 : static_cast<int>(kc - p0);
    const __mmask16 m = width == 16 ? __mmask16(0xFFFF) : __mmask16((1u << width) - 1);
    for (int h = 0; h < kNr; h += 16) {
      __m512 r[16];
#pragma GCC unroll 16
      for (int i = 0; i < 16; ++i)
        r[i] = h + i < rows ? widen(_mm256_maskz_loadu_epi16(m, src + (h + i) * ld + p0)) : _mm512_setzero_ps();
      transpose16(r);
      // through a buffer, so that r is only ever indexed by constants (and stays in registers)
      alignas(64) float buf[16][16];
#pragma GCC unroll 16
      for (int p = 0; p < 16; ++p) _mm512_store_ps(buf[p], r[p]);
      float* d = dst + p0 * kNr + h;
      for (int p = 0; p < width; ++p) _mm512_store_ps(d + p * kNr, _mm512_load_ps(buf[p]));
    }
  }
}

}  // namespace

GemmKernel gemm_kernel_avx512() {
  GemmKernel k{kMr, kNr, tile_8x32, pack_b_32, pack_a_8, tile_small};
  k.pack_b_f16 = pack_b_32_halves<WidenF16>;
  k.pack_b_bf16 = pack_b_32_halves<WidenBf16>;
  return k;
}

}  // namespace ts::matmul_detail
