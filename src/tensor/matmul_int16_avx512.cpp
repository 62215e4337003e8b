// AVX-512 VNNI pieces of the int16 GEMM (layouts and formula: matmul_int16.h). The GEMV for m <= 4 rows is in
// matmul_gemv_avx512.cpp.
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
// layout the tile reads. Float weights (kFast's matmul_float_int16) are instead rounded per block of 32 to 13-bit
// codes by the activations' rule (pack_b_float), into the same layout; the tile is the same.
//
// Only intrinsics and internal-linkage helpers here: see the ODR note in quant_impl.h.

// GCC 12's AVX-512 headers start results from _mm512_undefined_*(), which its own -Wmaybe-uninitialized then flags
// (GCC bug 105593); the warnings say nothing about this file.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstring>

#include "tensor/matmul_int16.h"
#include "tensor/simd_avx512.h"

namespace ts::int16_detail {
namespace {

using int8_detail::Int8Format;

constexpr int kMr = 6;
constexpr int kNr = 32;
static_assert(kKc <= int8_detail::kMaxDecodeKc);

int64_t a_bytes(const Int8Format& f, int64_t kc) { return (kc * kMr * 2 + 2 * (kc / f.sb) * kMr * 4 + 63) / 64 * 64; }
int64_t b_bytes(const Int8Format& f, int64_t kc) { return (kc * kNr * 2 + 2 * (kc / f.sb) * kNr * 4 + 63) / 64 * 64; }

using simd512::hmax;
using simd512::hsum;

// ---- activations: quantize mr rows of X into an A sliver ----

// kQ: the largest code (kQMax for quantized weights, kFloatQMax for float ones)
template <int kQ>
void pack_a(const Int8Format& f, const float* x, int64_t ldx, int rows, int64_t kc, uint8_t* dst) {
  constexpr float kQf = static_cast<float>(kQ);
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
      const float dx = amax / kQf;
      const __m512 id = _mm512_set1_ps(amax > 0.0f ? kQf / amax : 0.0f);
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
  // whole slivers of the types of Q8_0 and Q4_K_M files: decoded straight into the layout (matmul_int16.h)
  if (t == DType::Q4_K && rows == kNr) return pack_b_q4_k_avx512(base, stride, k0, kc, kNr, dst);
  if (t == DType::Q6_K && rows == kNr) return pack_b_q6_k_avx512(base, stride, k0, kc, kNr, dst);
  if (t == DType::Q8_0 && rows == kNr) return pack_b_q8_0_avx512(base, stride, k0, kc, kNr, dst);
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

bool pack_b_interleaved(DType t, const Int8Format&, const uint8_t* group, size_t row_stride, int rows, int64_t k0,
                        int64_t kc, uint8_t* dst) {
  if (rows != kNr) return false;
  switch (t) {
    case DType::Q4_K: pack_b_q4_k_avx512(group, row_stride, k0, kc, kNr, dst, true); return true;
    case DType::Q6_K: pack_b_q6_k_avx512(group, row_stride, k0, kc, kNr, dst, true); return true;
    case DType::Q8_0: pack_b_q8_0_avx512(group, row_stride, k0, kc, kNr, dst, true); return true;
    default: return false;
  }
}

// ---- float weights (F16, BF16, F32; kFast): rounded per block of 32 as the activations are, to kFloatQMax ----

// 16 consecutive weights of a float row as fp32.
inline __m512 load16(DType t, const uint8_t* p) {
  if (t == DType::F16) return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  if (t == DType::BF16)
    return _mm512_castsi512_ps(
        _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))), 16));
  return _mm512_loadu_ps(reinterpret_cast<const float*>(p));
}

void pack_b_float(DType t, const Int8Format& f, const uint8_t* base, size_t stride, int rows, int64_t k0, int64_t kc,
                  uint8_t* dst) {
  (void)f;  // blocks of 32, no offset, no mins
  const int64_t ns = kc / kActBlock;
  const size_t esize = t == DType::F32 ? 4 : 2;
  auto* ws = reinterpret_cast<float*>(dst + kc * kNr * 2);
  alignas(64) int16_t w16[kNr][kKc];
  for (int j = 0; j < kNr; ++j) {
    if (j >= rows) {
      std::memset(w16[j], 0, sizeof(int16_t) * static_cast<size_t>(kc));
      for (int64_t s = 0; s < ns; ++s) ws[s * kNr + j] = 0.0f;
      continue;
    }
    const uint8_t* row = base + j * stride + static_cast<size_t>(k0) * esize;
    for (int64_t s = 0; s < ns; ++s) {
      const __m512 x0 = load16(t, row + 32 * s * esize), x1 = load16(t, row + (32 * s + 16) * esize);
      const float amax = hmax(_mm512_max_ps(_mm512_abs_ps(x0), _mm512_abs_ps(x1)));
      ws[s * kNr + j] = amax / kFloatQMax;
      const __m512 id = _mm512_set1_ps(amax > 0.0f ? kFloatQMax / amax : 0.0f);
      const __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(x0, id)), q1 = _mm512_cvtps_epi32(_mm512_mul_ps(x1, id));
      _mm256_store_si256(reinterpret_cast<__m256i*>(w16[j] + 32 * s), _mm512_cvtsepi32_epi16(q0));
      _mm256_store_si256(reinterpret_cast<__m256i*>(w16[j] + 32 * s + 16), _mm512_cvtsepi32_epi16(q1));
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

}  // namespace

int8_detail::Int8Kernel int16_kernel_avx512() {
  int8_detail::Int8Kernel k;
  k.mr = kMr;
  k.nr = kNr;
  k.kc = kKc;
  k.a_sliver_bytes = a_bytes;
  k.b_sliver_bytes = b_bytes;
  k.pack_a = pack_a<static_cast<int>(kQMax)>;
  k.pack_b = pack_b;
  k.pack_b_interleaved = pack_b_interleaved;
  k.tile = tile_any;
  return k;
}

int8_detail::Int8Kernel float_int16_kernel_avx512() {
  int8_detail::Int8Kernel k = int16_kernel_avx512();
  k.pack_a = pack_a<static_cast<int>(kFloatQMax)>;
  k.pack_b = pack_b_float;
  k.pack_b_interleaved = nullptr;  // float weights are never interleaved
  return k;
}

}  // namespace ts::int16_detail
