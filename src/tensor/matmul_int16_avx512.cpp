// AVX-512 VNNI pieces of the int16 GEMM (layouts and formula: matmul_int16.h).
//
// Register tile: kMr = 6 activation rows × kNr = 32 weight rows. A zmm of weights holds 2 consecutive k of 16
// weight rows (one dword of two int16 per row); vpdpwssd multiplies it with the same two k of one activation row
// broadcast to every lane (int16 × int16, two products summed into each int32 lane, exactly). Per sub-block of
// sb = 16 or 32 elements that is sb/2 steps of 12 vpdpwssd into 12 int32 accumulators started at zero, then one
// conversion to fp32 and an fma with ws·dx into 12 fp32 accumulators (and for the formats with mins an fnmadd with
// wm·Σx). 12 + 12 accumulators, 2 weight vectors and a few temporaries fit the 32 zmm registers; 12 independent
// vpdpwssd chains cover its latency × throughput.
//
// The weight panel is decoded per k-block by the int8 path's decoder (decode_sliver_avx512: u8 codes and the scale
// tables), widened to int16 with the offset subtracted, and transposed 16×16 dwords at a time into the k-major
// layout the tile reads.
//
// Only intrinsics and internal-linkage helpers here: see the ODR note in quant_impl.h.

// GCC 12's AVX-512 headers start results from _mm512_undefined_*(), which its own -Wmaybe-uninitialized then flags
// (GCC bug 105593); the warnings say nothing about this file.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstring>

#include "tensor/matmul_int16.h"

namespace ts::int16_detail {
namespace {

using int8_detail::Int8Format;

constexpr int kMr = 6;
constexpr int kNr = 32;
static_assert(kKc <= int8_detail::kMaxDecodeKc);

int64_t a_bytes(const Int8Format& f, int64_t kc) { return (kc * kMr * 2 + 2 * (kc / f.sb) * kMr * 4 + 63) / 64 * 64; }
int64_t b_bytes(const Int8Format& f, int64_t kc) { return (kc * kNr * 2 + 2 * (kc / f.sb) * kNr * 4 + 63) / 64 * 64; }

inline float hmax(__m512 v) {
  __m256 h = _mm256_max_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
  __m128 q = _mm_max_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  q = _mm_max_ps(q, _mm_movehl_ps(q, q));
  q = _mm_max_ss(q, _mm_movehdup_ps(q));
  return _mm_cvtss_f32(q);
}

inline float hsum(__m512 v) {
  __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
  __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  q = _mm_add_ps(q, _mm_movehl_ps(q, q));
  q = _mm_add_ss(q, _mm_movehdup_ps(q));
  return _mm_cvtss_f32(q);
}

// ---- activations: quantize mr rows of X into an A sliver ----

void pack_a(const Int8Format& f, const float* x, int64_t ldx, int rows, int64_t kc, uint8_t* dst) {
  const int64_t ns = kc / f.sb;
  auto* q = reinterpret_cast<int32_t*>(dst);
  auto* dxs = reinterpret_cast<float*>(dst + kc * kMr * 2);
  float* sxs = dxs + ns * kMr;
  const bool sb16 = f.sb == 16, mins = f.mins;  // locals: the stores below may alias f
  alignas(64) int16_t rowq[kKc];
  for (int i = 0; i < kMr; ++i) {
    if (i >= rows) {
      for (int64_t p = 0; p < kc / 2; ++p) q[p * kMr + i] = 0;
      for (int64_t s = 0; s < ns; ++s) dxs[s * kMr + i] = 0.0f, sxs[s * kMr + i] = 0.0f;
      continue;
    }
    const float* xi = x + i * ldx;
    for (int64_t b = 0; b < kc / kActBlock; ++b) {
      const __m512 x0 = _mm512_loadu_ps(xi + 32 * b), x1 = _mm512_loadu_ps(xi + 32 * b + 16);
      const float amax = hmax(_mm512_max_ps(_mm512_abs_ps(x0), _mm512_abs_ps(x1)));
      const float dx = amax / kQMax;
      const __m512 id = _mm512_set1_ps(amax > 0.0f ? kQMax / amax : 0.0f);
      // round to nearest even (the default MXCSR mode), as quantize_act_ref's nearbyint; the saturating narrowing
      // is the reference's clamp
      const __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(x0, id)), q1 = _mm512_cvtps_epi32(_mm512_mul_ps(x1, id));
      _mm256_store_si256(reinterpret_cast<__m256i*>(rowq + 32 * b), _mm512_cvtsepi32_epi16(q0));
      _mm256_store_si256(reinterpret_cast<__m256i*>(rowq + 32 * b + 16), _mm512_cvtsepi32_epi16(q1));
      if (!sb16) {
        dxs[b * kMr + i] = dx;
        if (mins) sxs[b * kMr + i] = hsum(_mm512_add_ps(x0, x1));
      } else {  // two product sub-blocks of 16 share the activation block's scale
        const int64_t s = 2 * b;
        dxs[s * kMr + i] = dxs[(s + 1) * kMr + i] = dx;
        if (mins) sxs[s * kMr + i] = hsum(x0), sxs[(s + 1) * kMr + i] = hsum(x1);
      }
    }
    const auto* r32 = reinterpret_cast<const int32_t*>(rowq);
    for (int64_t p = 0; p < kc / 2; ++p) q[p * kMr + i] = r32[p];
  }
}

// ---- weights: decode rows to byte codes, widen to int16 − offset, transpose into a B sliver ----

void pack_b(DType t, const Int8Format& f, const uint8_t* base, size_t stride, int rows, int64_t k0, int64_t kc,
            uint8_t* dst) {
  auto* ws = reinterpret_cast<float*>(dst + kc * kNr * 2);
  alignas(64) uint8_t codes[kNr][kKc];
  alignas(64) int16_t w16[kNr][kKc];
  int8_detail::decode_sliver_avx512(t, f, base, stride, rows, kNr, k0, kc, &codes[0][0], kKc, ws,
                                    ws + (kc / f.sb) * kNr);
  const __m512i off = _mm512_set1_epi16(static_cast<int16_t>(f.offset));
  for (int j = 0; j < kNr; ++j) {
    if (j >= rows) {  // zero weights, not −offset: padding rows then add exact zeros
      std::memset(w16[j], 0, sizeof(int16_t) * static_cast<size_t>(kc));
      continue;
    }
    for (int64_t p = 0; p < kc; p += 32) {
      const __m512i u = _mm512_cvtepu8_epi16(_mm256_load_si256(reinterpret_cast<const __m256i*>(codes[j] + p)));
      _mm512_store_si512(w16[j] + p, _mm512_sub_epi16(u, off));
    }
  }
  int8_detail::transpose_dwords_avx512(reinterpret_cast<const int32_t*>(w16[0]), kKc / 2, kNr, kc / 2,
                                       reinterpret_cast<int32_t*>(dst));
}

// ---- the register tile ----

template <int kSb, bool kMins>
void tile(int64_t kc, const uint8_t* a, const uint8_t* b, float* c, int64_t ldc, int rows, int cols,
          bool accumulate) {
  const int64_t ns = kc / kSb;
  const auto* aq = reinterpret_cast<const int32_t*>(a);
  const auto* dx = reinterpret_cast<const float*>(a + kc * kMr * 2);
  const float* sx = dx + ns * kMr;
  const auto* ws = reinterpret_cast<const float*>(b + kc * kNr * 2);
  const float* wm = ws + ns * kNr;
  __m512 f0[kMr], f1[kMr];
#pragma GCC unroll 8
  for (int i = 0; i < kMr; ++i) f0[i] = f1[i] = _mm512_setzero_ps();
  for (int64_t s = 0; s < ns; ++s) {
    __m512i i0[kMr], i1[kMr];
#pragma GCC unroll 8
    for (int i = 0; i < kMr; ++i) i0[i] = i1[i] = _mm512_setzero_si512();
    const int32_t* ap = aq + s * (kSb / 2) * kMr;
    const uint8_t* bp = b + s * (kSb / 2) * (kNr * 4);
#pragma GCC unroll 16
    for (int t = 0; t < kSb / 2; ++t) {
      const __m512i w0 = _mm512_load_si512(bp), w1 = _mm512_load_si512(bp + 64);
#pragma GCC unroll 8
      for (int i = 0; i < kMr; ++i) {
        const __m512i xa = _mm512_set1_epi32(ap[i]);
        i0[i] = _mm512_dpwssd_epi32(i0[i], w0, xa);
        i1[i] = _mm512_dpwssd_epi32(i1[i], w1, xa);
      }
      ap += kMr;
      bp += kNr * 4;
    }
    const __m512 s0 = _mm512_load_ps(ws + s * kNr), s1 = _mm512_load_ps(ws + s * kNr + 16);
#pragma GCC unroll 8
    for (int i = 0; i < kMr; ++i) {
      const __m512 d = _mm512_set1_ps(dx[s * kMr + i]);
      f0[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i0[i]), _mm512_mul_ps(s0, d), f0[i]);
      f1[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i1[i]), _mm512_mul_ps(s1, d), f1[i]);
    }
    if constexpr (kMins) {
      const __m512 m0 = _mm512_load_ps(wm + s * kNr), m1 = _mm512_load_ps(wm + s * kNr + 16);
#pragma GCC unroll 8
      for (int i = 0; i < kMr; ++i) {
        const __m512 e = _mm512_set1_ps(sx[s * kMr + i]);
        f0[i] = _mm512_fnmadd_ps(m0, e, f0[i]);
        f1[i] = _mm512_fnmadd_ps(m1, e, f1[i]);
      }
    }
  }
  const __mmask16 k0 = cols >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << cols) - 1);
  const __mmask16 k1 = cols >= 32 ? __mmask16(0xFFFF) : cols <= 16 ? __mmask16(0) : __mmask16((1u << (cols - 16)) - 1);
#pragma GCC unroll 8
  for (int i = 0; i < kMr; ++i) {
    if (i >= rows) break;
    float* ci = c + i * ldc;
    __m512 v0 = f0[i], v1 = f1[i];
    if (accumulate) {
      v0 = _mm512_add_ps(_mm512_maskz_loadu_ps(k0, ci), v0);
      v1 = _mm512_add_ps(_mm512_maskz_loadu_ps(k1, ci + 16), v1);
    }
    _mm512_mask_storeu_ps(ci, k0, v0);
    _mm512_mask_storeu_ps(ci + 16, k1, v1);
  }
}

void tile_any(const Int8Format& f, int64_t kc, const uint8_t* a, const uint8_t* b, float* c, int64_t ldc, int rows,
              int cols, bool accumulate) {
  if (f.sb == 32) {
    if (f.mins) return tile<32, true>(kc, a, b, c, ldc, rows, cols, accumulate);
    return tile<32, false>(kc, a, b, c, ldc, rows, cols, accumulate);
  }
  if (f.mins) return tile<16, true>(kc, a, b, c, ldc, rows, cols, accumulate);
  return tile<16, false>(kc, a, b, c, ldc, rows, cols, accumulate);
}

// ---- the GEMV (m <= kGemvMaxRows): rows in lanes, sub-block sums reduced across the weight row ----
//
// A group of 16 weight rows is decoded per k-block (the GEMM's k-blocks of kKc) into row-major codes. For each
// sub-block s and activation row i, one vpdpwssd per weight row multiplies 32 codes (u, not u − offset) with 32
// quantized activations into 16 int32 lanes; a transposing reduction of the 16 vectors leaves lane j = Σ_{k∈s} u·q
// of weight row j, and adding the activation row's −offset·Σq gives exactly the GEMM's Σ (u − offset)·q. From there
// the fp32 operations are the GEMM tile's, in its order: per k-block f = 0, then per sub-block
// f = fma(float(isum), ws·dx, f) and, with mins, f = f − wm·Σx; Y = f for the first k-block and Y + f after.
// The activations are quantized by quantize_rows, the same operations as pack_a. So each output is bit-identical to
// the GEMM's for the same row.

// Folds a pair of 16-lane vectors into one: [x0+x2, x1+x3 | y0+y2, y1+y3] in 128-bit chunks (each vector's halves).
inline __m512i fold_halves(__m512i x, __m512i y) {
  return _mm512_add_epi32(_mm512_shuffle_i32x4(x, y, _MM_SHUFFLE(1, 0, 1, 0)),
                          _mm512_shuffle_i32x4(x, y, _MM_SHUFFLE(3, 2, 3, 2)));
}
// [a0+a1, a2+a3 | b0+b1, b2+b3] in 128-bit chunks: adjacent chunks.
inline __m512i fold_pairs(__m512i a, __m512i b) {
  return _mm512_add_epi32(_mm512_shuffle_i32x4(a, b, _MM_SHUFFLE(2, 0, 2, 0)),
                          _mm512_shuffle_i32x4(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
}
// Four vectors whose 128-bit chunks each hold 4 partial sums of one output → one vector, chunk c lane t = the sum
// of vector t's chunk c.
inline __m512i fold_lanes(__m512i p, __m512i q, __m512i p2, __m512i q2) {
  const __m512i r = _mm512_add_epi32(_mm512_unpacklo_epi32(p, q), _mm512_unpackhi_epi32(p, q));
  const __m512i s = _mm512_add_epi32(_mm512_unpacklo_epi32(p2, q2), _mm512_unpackhi_epi32(p2, q2));
  return _mm512_add_epi32(_mm512_unpacklo_epi64(r, s), _mm512_unpackhi_epi64(r, s));
}

// 16 vectors v[slot] → lane L = Σ lanes of v[4·(L%4) + L/4]; callers store row j's vector at slot(j).
constexpr int slot(int j) { return 4 * (j % 4) + j / 4; }
inline __m512i reduce16(const __m512i* v) {
  const __m512i b0 = fold_pairs(fold_halves(v[0], v[1]), fold_halves(v[2], v[3]));
  const __m512i b1 = fold_pairs(fold_halves(v[4], v[5]), fold_halves(v[6], v[7]));
  const __m512i b2 = fold_pairs(fold_halves(v[8], v[9]), fold_halves(v[10], v[11]));
  const __m512i b3 = fold_pairs(fold_halves(v[12], v[13]), fold_halves(v[14], v[15]));
  return fold_lanes(b0, b1, b2, b3);
}

constexpr int kGemvNr = static_cast<int>(kGemvRows);

template <int kSb, bool kMins>
void gemv_group(const uint8_t (*codes)[kKc], const float* ws, const float* wm, int64_t kc, const int16_t* q,
                const float* dx, const float* sx, const int32_t* corr, int m, int64_t ldq, int64_t lds, float* y,
                int64_t ldy, int cols, bool accumulate) {
  const int64_t ns = kc / kSb;
  const __mmask16 mask = cols >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << cols) - 1);
  for (int i = 0; i < m; ++i) {
    const int16_t* qi = q + i * ldq;
    const float* dxi = dx + i * lds;
    const float* sxi = sx + i * lds;
    const int32_t* ci = corr + i * lds;
    __m512 f = _mm512_setzero_ps();
    if constexpr (kSb == 32) {
      for (int64_t s = 0; s < ns; ++s) {
        const __m512i xa = _mm512_load_si512(qi + 32 * s);
        __m512i v[kGemvNr];
#pragma GCC unroll 16
        for (int j = 0; j < kGemvNr; ++j) {
          const auto* cj = reinterpret_cast<const __m256i*>(codes[j] + 32 * s);
          const __m512i w = _mm512_cvtepu8_epi16(_mm256_load_si256(cj));
          v[slot(j)] = _mm512_dpwssd_epi32(_mm512_setzero_si512(), w, xa);
        }
        const __m512i isum = _mm512_add_epi32(reduce16(v), _mm512_set1_epi32(ci[s]));
        const __m512 d = _mm512_set1_ps(dxi[s]);
        f = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_mul_ps(_mm512_load_ps(ws + s * kGemvNr), d), f);
        if constexpr (kMins) f = _mm512_fnmadd_ps(_mm512_load_ps(wm + s * kGemvNr), _mm512_set1_ps(sxi[s]), f);
      }
    } else {  // sub-blocks of 16: one vpdpwssd covers sub-blocks s and s + 1 (lanes 0..7 and 8..15)
      // After the folds, lane 4c + t of the first vector holds chunk c of pair vector t, made of rows 2t (chunks 0,
      // 1: sub-blocks s, s + 1) and 2t + 1 (chunks 2, 3); the second vector likewise for rows 8..15.
      const __m512i idx0 = _mm512_setr_epi32(0, 8, 1, 9, 2, 10, 3, 11, 16, 24, 17, 25, 18, 26, 19, 27);
      const __m512i idx1 = _mm512_add_epi32(idx0, _mm512_set1_epi32(4));
      for (int64_t s = 0; s < ns; s += 2) {
        const __m512i xa = _mm512_load_si512(qi + 16 * s);
        __m512i v[kGemvNr];
#pragma GCC unroll 16
        for (int j = 0; j < kGemvNr; ++j) {
          const auto* cj = reinterpret_cast<const __m256i*>(codes[j] + 16 * s);
          const __m512i w = _mm512_cvtepu8_epi16(_mm256_load_si256(cj));
          v[j] = _mm512_dpwssd_epi32(_mm512_setzero_si512(), w, xa);
        }
        // pair vectors a_t (t = 0..3 rows 2t, 2t+1; 4..7 rows 8+2t', 9+2t'): [row 2t: s, s+1 | row 2t+1: s, s+1]
        __m512i a[8];
#pragma GCC unroll 8
        for (int t = 0; t < 8; ++t)
          a[t] = _mm512_add_epi32(_mm512_shuffle_i32x4(v[2 * t], v[2 * t + 1], _MM_SHUFFLE(2, 0, 2, 0)),
                                  _mm512_shuffle_i32x4(v[2 * t], v[2 * t + 1], _MM_SHUFFLE(3, 1, 3, 1)));
        const __m512i lo = fold_lanes(a[0], a[1], a[2], a[3]), hi = fold_lanes(a[4], a[5], a[6], a[7]);
        const __m512i isum0 = _mm512_add_epi32(_mm512_permutex2var_epi32(lo, idx0, hi), _mm512_set1_epi32(ci[s]));
        const __m512i isum1 =
            _mm512_add_epi32(_mm512_permutex2var_epi32(lo, idx1, hi), _mm512_set1_epi32(ci[s + 1]));
        f = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum0),
                            _mm512_mul_ps(_mm512_load_ps(ws + s * kGemvNr), _mm512_set1_ps(dxi[s])), f);
        if constexpr (kMins) f = _mm512_fnmadd_ps(_mm512_load_ps(wm + s * kGemvNr), _mm512_set1_ps(sxi[s]), f);
        f = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum1),
                            _mm512_mul_ps(_mm512_load_ps(ws + (s + 1) * kGemvNr), _mm512_set1_ps(dxi[s + 1])), f);
        if constexpr (kMins)
          f = _mm512_fnmadd_ps(_mm512_load_ps(wm + (s + 1) * kGemvNr), _mm512_set1_ps(sxi[s + 1]), f);
      }
    }
    float* yi = y + i * ldy;
    if (accumulate) f = _mm512_add_ps(_mm512_maskz_loadu_ps(mask, yi), f);
    _mm512_mask_storeu_ps(yi, mask, f);
  }
}

}  // namespace

void quantize_rows_avx512(const int8_detail::Int8Format& f, const float* x, int64_t ldx, int64_t m, int64_t k,
                          int16_t* q, float* dx, float* sx, int32_t* corr) {
  const int64_t ns = k / f.sb;
  const bool sb16 = f.sb == 16;
  const int offset = f.offset;
  for (int64_t i = 0; i < m; ++i) {
    const float* xi = x + i * ldx;
    int16_t* qi = q + i * k;
    float *dxi = dx + i * ns, *sxi = sx + i * ns;
    int32_t* ci = corr + i * ns;
    for (int64_t b = 0; b < k / kActBlock; ++b) {
      // the operations of pack_a, so that q, dx and Σx match the GEMM's bit for bit
      const __m512 x0 = _mm512_loadu_ps(xi + 32 * b), x1 = _mm512_loadu_ps(xi + 32 * b + 16);
      const float amax = hmax(_mm512_max_ps(_mm512_abs_ps(x0), _mm512_abs_ps(x1)));
      const float d = amax / kQMax;
      const __m512 id = _mm512_set1_ps(amax > 0.0f ? kQMax / amax : 0.0f);
      const __m256i q0 = _mm512_cvtsepi32_epi16(_mm512_cvtps_epi32(_mm512_mul_ps(x0, id)));
      const __m256i q1 = _mm512_cvtsepi32_epi16(_mm512_cvtps_epi32(_mm512_mul_ps(x1, id)));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(qi + 32 * b), q0);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(qi + 32 * b + 16), q1);
      const int32_t sq0 = _mm512_reduce_add_epi32(_mm512_cvtepi16_epi32(q0));
      const int32_t sq1 = _mm512_reduce_add_epi32(_mm512_cvtepi16_epi32(q1));
      if (!sb16) {
        dxi[b] = d;
        sxi[b] = hsum(_mm512_add_ps(x0, x1));
        ci[b] = -offset * (sq0 + sq1);
      } else {
        dxi[2 * b] = dxi[2 * b + 1] = d;
        sxi[2 * b] = hsum(x0), sxi[2 * b + 1] = hsum(x1);
        ci[2 * b] = -offset * sq0, ci[2 * b + 1] = -offset * sq1;
      }
    }
  }
}

void gemv_avx512(DType t, const int8_detail::Int8Format& f, const WeightView& W, int64_t g0, int64_t g1,
                 const int16_t* q, const float* dx, const float* sx, const int32_t* corr, int m, float* Y,
                 int64_t ldy, size_t block_bytes) {
  const int64_t k = W.cols, lds = k / f.sb;
  // not W.row(): an inline function compiled here could stand in for other files' copies (ODR note, quant_impl.h)
  const auto* base = static_cast<const uint8_t*>(W.data);
  alignas(64) uint8_t codes[kGemvNr][kKc];
  alignas(64) float ws[kKc / 16 * kGemvNr], wm[kKc / 16 * kGemvNr];
  for (int64_t g = g0; g < g1; ++g) {
    const int64_t r0 = g * kGemvNr;
    const int rows = W.rows - r0 < kGemvNr ? static_cast<int>(W.rows - r0) : kGemvNr;
    for (int64_t k0 = 0; k0 < k; k0 += kKc) {
      const int64_t kc = k - k0 < kKc ? k - k0 : kKc;
      const uint8_t* first = base + static_cast<size_t>(r0) * W.row_stride;
      // Bring the next k-block of these rows (or the first of the next group) towards L1 while this one is
      // decoded and multiplied: 16 short segments per block are too many streams for the hardware prefetcher.
      {
        const bool next_block = k0 + kKc < k;
        if (next_block || g + 1 < g1) {
          const int64_t nr0 = next_block ? r0 : r0 + kGemvNr;
          const int nrows = next_block ? rows : (W.rows - nr0 < kGemvNr ? static_cast<int>(W.rows - nr0) : kGemvNr);
          const size_t off = next_block ? static_cast<size_t>(k0 / kKc + 1) * block_bytes : 0;
          for (int j = 0; j < nrows; ++j) {
            const char* pj = reinterpret_cast<const char*>(base + static_cast<size_t>(nr0 + j) * W.row_stride + off);
            for (size_t o = 0; o < block_bytes; o += 64) _mm_prefetch(pj + o, _MM_HINT_T0);
          }
        }
      }
      int8_detail::decode_sliver_avx512(t, f, first, W.row_stride, rows, kGemvNr, k0, kc, &codes[0][0], kKc, ws, wm);
      const int16_t* qk = q + k0;
      const int64_t s0 = k0 / f.sb;
      auto run = [&](auto kernel) {
        kernel(codes, ws, wm, kc, qk, dx + s0, sx + s0, corr + s0, m, k, lds, Y + r0, ldy, rows, k0 > 0);
      };
      if (f.sb == 32)
        f.mins ? run(gemv_group<32, true>) : run(gemv_group<32, false>);
      else
        f.mins ? run(gemv_group<16, true>) : run(gemv_group<16, false>);
    }
  }
}

int8_detail::Int8Kernel int16_kernel_avx512() {
  int8_detail::Int8Kernel k;
  k.mr = kMr;
  k.nr = kNr;
  k.kc = kKc;
  k.a_sliver_bytes = a_bytes;
  k.b_sliver_bytes = b_bytes;
  k.pack_a = pack_a;
  k.pack_b = pack_b;
  k.tile = tile_any;
  return k;
}

}  // namespace ts::int16_detail
