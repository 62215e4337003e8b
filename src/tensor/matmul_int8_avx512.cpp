// AVX-512 VNNI pieces of the int8 GEMM (layouts and formula: matmul_int8.h).
//
// Register tile: kMr = 6 activation rows × kNr = 32 weight rows. A zmm of codes holds 4 consecutive k of 16 weight
// rows (one dword per row); vpdpbusd multiplies it with 4 bytes of one activation row broadcast to every lane
// (u8 codes × s8 activations, four products summed into each int32 lane). Per sub-block of sb = 16 or 32 elements
// that is sb/4 steps of 12 vpdpbusd into 12 int32 accumulators, started at −offset·Σq (so unsigned codes give
// signed weights), then one conversion to fp32 and an fma with ws·dx into 12 fp32 accumulators (and for the
// formats with mins an fnmadd with wm·Σx). 12 + 12 accumulators, 2 code vectors and a few temporaries fill the 32
// zmm registers without spilling; the integer accumulators give 12 independent vpdpbusd chains, more than its
// latency × throughput on Zen 4 and on Intel cores.
//
// The weight panel is decoded per k-block: each row's codes are unpacked to bytes (SIMD for Q8_0, Q4_0, Q4_K,
// Q5_K and Q6_K, the scalar reference decode for the rest) and the 32 × kc/4 dword matrix is transposed 16×16 at a
// time into the k-major layout the tile reads.
//
// Only intrinsics and internal-linkage helpers here: see the ODR note in quant_impl.h.

// GCC 12's AVX-512 headers start results from _mm512_undefined_*(), which its own -Wmaybe-uninitialized then flags
// (GCC bug 105593); the warnings say nothing about this file.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstring>

#include "tensor/matmul_int8.h"
#include "tensor/quant_impl.h"
#include "tensor/simd_avx512.h"

namespace ts::int8_detail {
namespace {

constexpr int kMr = 6;
constexpr int kNr = 32;
constexpr int64_t kMaxKc = kKc;  // the driver's k-block: row buffers below are sized for it
static_assert(kMaxKc <= kMaxDecodeKc);

using simd512::hmax;
using simd512::hsum;

inline int32_t hsum_epi32(__m512i v) {
  __m256i h = _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti32x8_epi32(v, 1));
  __m128i q = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
  q = _mm_add_epi32(q, _mm_shuffle_epi32(q, _MM_SHUFFLE(1, 0, 3, 2)));
  q = _mm_add_epi32(q, _mm_shuffle_epi32(q, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(q);
}

// ---- activations: quantize mr rows of X into an A sliver ----

void pack_a(const Int8Format& f, const float* x, int64_t ldx, int rows, int64_t kc, uint8_t* dst) {
  const int64_t ns = kc / f.sb;
  auto* q = reinterpret_cast<int32_t*>(dst);
  auto* corr = reinterpret_cast<int32_t*>(dst + kc * kMr);
  auto* dxs = reinterpret_cast<float*>(corr + ns * kMr);
  float* sxs = dxs + ns * kMr;
  const int32_t off = f.offset;
  const bool act16 = f.act == 16, sb16 = f.sb == 16, mins = f.mins;  // locals: the stores below may alias f
  alignas(64) int8_t rowq[kMaxKc];
  for (int i = 0; i < kMr; ++i) {
    if (i >= rows) {
      for (int64_t p = 0; p < kc / 4; ++p) q[p * kMr + i] = 0;
      for (int64_t s = 0; s < ns; ++s) corr[s * kMr + i] = 0, dxs[s * kMr + i] = 0.0f, sxs[s * kMr + i] = 0.0f;
      continue;
    }
    const float* xi = x + i * ldx;
    for (int64_t b = 0; b < kc / 32; ++b) {  // 32 elements: one activation block, or two of 16
      const __m512 x0 = _mm512_loadu_ps(xi + 32 * b), x1 = _mm512_loadu_ps(xi + 32 * b + 16);
      float amax0, amax1;
      if (act16)
        amax0 = hmax(_mm512_abs_ps(x0)), amax1 = hmax(_mm512_abs_ps(x1));
      else
        amax0 = amax1 = hmax(_mm512_max_ps(_mm512_abs_ps(x0), _mm512_abs_ps(x1)));
      const float dx0 = amax0 / 127.0f, dx1 = amax1 / 127.0f;
      const __m512 id0 = _mm512_set1_ps(amax0 > 0.0f ? 127.0f / amax0 : 0.0f);
      const __m512 id1 = _mm512_set1_ps(amax1 > 0.0f ? 127.0f / amax1 : 0.0f);
      // round to nearest even (the default MXCSR mode), as quantize_act_ref's nearbyint
      const __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(x0, id0)), q1 = _mm512_cvtps_epi32(_mm512_mul_ps(x1, id1));
      _mm_store_si128(reinterpret_cast<__m128i*>(rowq + 32 * b), _mm512_cvtepi32_epi8(q0));
      _mm_store_si128(reinterpret_cast<__m128i*>(rowq + 32 * b + 16), _mm512_cvtepi32_epi8(q1));
      if (!sb16) {  // then the activation block is 32 too
        corr[b * kMr + i] = -off * hsum_epi32(_mm512_add_epi32(q0, q1));
        dxs[b * kMr + i] = dx0;
        if (mins) sxs[b * kMr + i] = hsum(_mm512_add_ps(x0, x1));
      } else {
        const int64_t s = 2 * b;
        corr[s * kMr + i] = -off * hsum_epi32(q0);
        corr[(s + 1) * kMr + i] = -off * hsum_epi32(q1);
        dxs[s * kMr + i] = dx0;
        dxs[(s + 1) * kMr + i] = dx1;
        if (mins) sxs[s * kMr + i] = hsum(x0), sxs[(s + 1) * kMr + i] = hsum(x1);
      }
    }
    const auto* r32 = reinterpret_cast<const int32_t*>(rowq);
    for (int64_t p = 0; p < kc / 4; ++p) q[p * kMr + i] = r32[p];
  }
}

// ---- weights: decode rows to byte codes, then transpose into a B sliver ----

// 16 dwords from each of 16 rows (stride ld dwords) into 16 rows of 16 (stride ldd dwords): three interleave stages.
inline void transpose16x16(const int32_t* src, int64_t ld, int32_t* dst, int64_t ldd) {
  __m512 r[16], t[16];
  for (int i = 0; i < 16; ++i) r[i] = _mm512_castsi512_ps(_mm512_load_si512(src + i * ld));
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int g = 0; g < 4; ++g) {
    const __m512d lo01 = _mm512_castps_pd(t[4 * g]), hi01 = _mm512_castps_pd(t[4 * g + 1]);
    const __m512d lo23 = _mm512_castps_pd(t[4 * g + 2]), hi23 = _mm512_castps_pd(t[4 * g + 3]);
    r[4 * g] = _mm512_castpd_ps(_mm512_unpacklo_pd(lo01, lo23));
    r[4 * g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(lo01, lo23));
    r[4 * g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(hi01, hi23));
    r[4 * g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(hi01, hi23));
  }
  auto store = [&](int row, __m512 v) { _mm512_store_si512(dst + row * ldd, _mm512_castps_si512(v)); };
  for (int e = 0; e < 4; ++e) {
    const __m512 v02 = _mm512_shuffle_f32x4(r[e], r[4 + e], 0x88), v13 = _mm512_shuffle_f32x4(r[e], r[4 + e], 0xdd);
    const __m512 w02 = _mm512_shuffle_f32x4(r[8 + e], r[12 + e], 0x88);
    const __m512 w13 = _mm512_shuffle_f32x4(r[8 + e], r[12 + e], 0xdd);
    store(e, _mm512_shuffle_f32x4(v02, w02, 0x88));
    store(e + 8, _mm512_shuffle_f32x4(v02, w02, 0xdd));
    store(e + 4, _mm512_shuffle_f32x4(v13, w13, 0x88));
    store(e + 12, _mm512_shuffle_f32x4(v13, w13, 0xdd));
  }
}

inline __m256i load256(const uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
inline void store256(uint8_t* p, __m256i v) { _mm256_store_si256(reinterpret_cast<__m256i*>(p), v); }
inline __m256i lo_nibbles(__m256i v) { return _mm256_and_si256(v, _mm256_set1_epi8(0x0F)); }
inline __m256i hi_nibbles(__m256i v) { return _mm256_and_si256(_mm256_srli_epi16(v, 4), _mm256_set1_epi8(0x0F)); }

// fp16 -> fp32 with F16C (exact, as quant::half_to_float; one instruction instead of a dozen).
inline float half(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

// Where a decoder puts the scale (or min) of native sub-block s: straight into the B sliver's [ns][nr] table at
// column j (the pointer is offset by j), repeated when a native scale covers two product sub-blocks.
struct ScaleOut {
  float* p;
  int64_t nr;
  bool repeat;
  void put(int64_t s, float v) const {
    if (repeat) {
      p[2 * s * nr] = v;
      p[(2 * s + 1) * nr] = v;
    } else {
      p[s * nr] = v;
    }
  }
};

// SIMD decoders: the same codes, scales and mins as decode_row_ref (u 32-byte aligned).
void decode_q8_0(const uint8_t* row, int64_t k0, int64_t kc, uint8_t* u, ScaleOut ws) {
  const uint8_t* b = row + (k0 / 32) * sizeof(quant::BlockQ8_0);
  for (int64_t i = 0; i < kc / 32; ++i, b += sizeof(quant::BlockQ8_0)) {
    ws.put(i, half(b));
    store256(u + 32 * i, _mm256_xor_si256(load256(b + 2), _mm256_set1_epi8(static_cast<char>(0x80))));
  }
}

void decode_q4_0(const uint8_t* row, int64_t k0, int64_t kc, uint8_t* u, ScaleOut ws) {
  const uint8_t* b = row + (k0 / 32) * sizeof(quant::BlockQ4_0);
  for (int64_t i = 0; i < kc / 32; ++i, b += sizeof(quant::BlockQ4_0)) {
    ws.put(i, half(b));
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + 2));
    const __m128i m = _mm_set1_epi8(0x0F);
    _mm_store_si128(reinterpret_cast<__m128i*>(u + 32 * i), _mm_and_si128(v, m));
    _mm_store_si128(reinterpret_cast<__m128i*>(u + 32 * i + 16), _mm_and_si128(_mm_srli_epi16(v, 4), m));
  }
}

// Q4_K (q5 = false) and Q5_K (q5 = true).
void decode_q45_k(bool q5, const uint8_t* row, int64_t k0, int64_t kc, uint8_t* u, ScaleOut ws, ScaleOut wm) {
  const size_t bytes = q5 ? sizeof(quant::BlockQ5_K) : sizeof(quant::BlockQ4_K);
  const uint8_t* b = row + (k0 / 256) * bytes;
  for (int64_t i = 0; i < kc / 256; ++i, b += bytes, u += 256) {
    // The eight 6-bit scales and mins (k4_scale_min's packing), four bytes at a time: bytes 0..3 and 4..7 hold
    // scales / mins 0..3 in their low six bits and the top two bits of 4..7; bytes 8..11 the low nibbles of 4..7.
    uint32_t A, B, C;
    std::memcpy(&A, b + 4, 4);
    std::memcpy(&B, b + 8, 4);
    std::memcpy(&C, b + 12, 4);
    const uint32_t sc_lo = A & 0x3f3f3f3fu, m_lo = B & 0x3f3f3f3fu;
    const uint32_t sc_hi = (C & 0x0f0f0f0fu) | ((A >> 2) & 0x30303030u);
    const uint32_t m_hi = ((C >> 4) & 0x0f0f0f0fu) | ((B >> 2) & 0x30303030u);
    alignas(32) float scale[8], min[8];
    _mm256_store_ps(scale, _mm256_mul_ps(_mm256_set1_ps(half(b)), _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(
                                                                        _mm_set_epi32(0, 0, sc_hi, sc_lo)))));
    _mm256_store_ps(min, _mm256_mul_ps(_mm256_set1_ps(half(b + 2)), _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(
                                                                         _mm_set_epi32(0, 0, m_hi, m_lo)))));
    for (int s = 0; s < 8; ++s) {
      ws.put(8 * i + s, scale[s]);
      wm.put(8 * i + s, min[s]);
    }
    const uint8_t* qs = b + (q5 ? 48 : 16);
    const __m256i qh = q5 ? load256(b + 16) : _mm256_setzero_si256();
    const __m256i one = _mm256_set1_epi8(1);
    for (int c = 0; c < 4; ++c) {
      const __m256i v = load256(qs + 32 * c);
      __m256i lo = lo_nibbles(v), hi = hi_nibbles(v);
      if (q5) {
        // bit 2c / 2c+1 of qh, moved to bit 4: (qh >> 2c) & 1 per byte, then × 16
        const __m256i h0 = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * c), one);
        const __m256i h1 = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * c + 1), one);
        lo = _mm256_or_si256(lo, _mm256_slli_epi16(h0, 4));
        hi = _mm256_or_si256(hi, _mm256_slli_epi16(h1, 4));
      }
      store256(u + 64 * c, lo);
      store256(u + 64 * c + 32, hi);
    }
  }
}

void decode_q6_k(const uint8_t* row, int64_t k0, int64_t kc, uint8_t* u, ScaleOut ws) {
  const auto* b = reinterpret_cast<const quant::BlockQ6_K*>(row) + k0 / 256;
  const __m256i three = _mm256_set1_epi8(3);
  for (int64_t i = 0; i < kc / 256; ++i, u += 256) {
    const float d = _cvtsh_ss(b[i].d);
    for (int s = 0; s < 16; ++s) ws.put(16 * i + s, d * static_cast<float>(b[i].scales[s]));
    for (int h = 0; h < 2; ++h) {
      const __m256i l0 = load256(b[i].ql + 64 * h), l1 = load256(b[i].ql + 64 * h + 32);
      const __m256i qh = load256(b[i].qh + 32 * h);
      auto hbits = [&](int shift) {  // ((qh >> shift) & 3) << 4
        return _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, shift), three), 4);
      };
      uint8_t* y = u + 128 * h;
      store256(y, _mm256_or_si256(lo_nibbles(l0), hbits(0)));
      store256(y + 32, _mm256_or_si256(lo_nibbles(l1), hbits(2)));
      store256(y + 64, _mm256_or_si256(hi_nibbles(l0), hbits(4)));
      store256(y + 96, _mm256_or_si256(hi_nibbles(l1), hbits(6)));
    }
  }
}

// Bytes of n elements of a type that has an int8 form (block sizes as in quant_impl.h). Not dtype.h's row_bytes:
// an inline function compiled here could stand in for the scalar build's copy (the ODR note in quant_impl.h).
size_t bytes_of(DType t, int64_t n) {
  using namespace quant;
  switch (t) {
    case DType::Q8_0: return static_cast<size_t>(n / kQK) * sizeof(BlockQ8_0);
    case DType::Q4_0: return static_cast<size_t>(n / kQK) * sizeof(BlockQ4_0);
    case DType::Q4_1: return static_cast<size_t>(n / kQK) * sizeof(BlockQ4_1);
    case DType::Q5_0: return static_cast<size_t>(n / kQK) * sizeof(BlockQ5_0);
    case DType::Q5_1: return static_cast<size_t>(n / kQK) * sizeof(BlockQ5_1);
    case DType::Q2_K: return static_cast<size_t>(n / kQKK) * sizeof(BlockQ2_K);
    case DType::Q3_K: return static_cast<size_t>(n / kQKK) * sizeof(BlockQ3_K);
    case DType::Q4_K: return static_cast<size_t>(n / kQKK) * sizeof(BlockQ4_K);
    case DType::Q5_K: return static_cast<size_t>(n / kQKK) * sizeof(BlockQ5_K);
    case DType::Q6_K: return static_cast<size_t>(n / kQKK) * sizeof(BlockQ6_K);
    default: return 0;
  }
}

}  // namespace

void decode_sliver_avx512(DType t, const Int8Format& f, const uint8_t* base, size_t stride, int rows, int nr,
                          int64_t k0, int64_t kc, uint8_t* codes, int64_t ld, float* ws, float* wm) {
  const int64_t ns = kc / f.sb;
  float row_ws[kMaxDecodeKc / 16], row_wm[kMaxDecodeKc / 16];
  // The rows' segments come from memory (W is streamed once per call), 32 short runs too short for the hardware
  // prefetcher: fetch each segment kAhead rows before it is decoded.
  constexpr int kAhead = 4;
  const size_t seg_off = bytes_of(t, k0), seg_bytes = bytes_of(t, kc);
  auto prefetch_row = [&](int j) {
    if (j >= rows) return;
    const char* p = reinterpret_cast<const char*>(base + static_cast<size_t>(j) * stride + seg_off);
    for (size_t o = 0; o < seg_bytes; o += 64) _mm_prefetch(p + o, _MM_HINT_T0);
  };
  for (int j = 0; j < kAhead; ++j) prefetch_row(j);
  const bool repeat = f.native_sb != f.sb;  // each native scale covers two product sub-blocks
  const bool mins = f.mins;
  for (int j = 0; j < nr; ++j) {
    prefetch_row(j + kAhead);
    uint8_t* u = codes + j * ld;
    if (j >= rows) {
      std::memset(u, 0, static_cast<size_t>(kc));
      for (int64_t s = 0; s < ns; ++s) ws[s * nr + j] = 0.0f, wm[s * nr + j] = 0.0f;
      continue;
    }
    const uint8_t* row = base + static_cast<size_t>(j) * stride;
    const ScaleOut out_ws{ws + j, nr, repeat}, out_wm{wm + j, nr, repeat};
    switch (t) {
      case DType::Q8_0: decode_q8_0(row, k0, kc, u, out_ws); break;
      case DType::Q4_0: decode_q4_0(row, k0, kc, u, out_ws); break;
      case DType::Q4_K: decode_q45_k(false, row, k0, kc, u, out_ws, out_wm); break;
      case DType::Q5_K: decode_q45_k(true, row, k0, kc, u, out_ws, out_wm); break;
      case DType::Q6_K: decode_q6_k(row, k0, kc, u, out_ws); break;
      default:
        decode_row_ref(t, row, k0, kc, u, row_ws, row_wm);
        for (int64_t s = 0; s < kc / f.native_sb; ++s) {
          out_ws.put(s, row_ws[s]);
          if (mins) out_wm.put(s, row_wm[s]);
        }
        break;
    }
  }
}

void transpose_dwords_avx512(const int32_t* src, int64_t ld, int nr, int64_t n, int32_t* out) {
  const int64_t full = n / 16 * 16;  // dwords covered by whole 16×16 transposes
  for (int g = 0; g < nr; g += 16)
    for (int64_t p = 0; p < full; p += 16) transpose16x16(src + g * ld + p, ld, out + p * nr + g, nr);
  for (int64_t p = full; p < n; ++p)  // a last k-block of 32 elements (Q8_0 .. Q5_1 rows)
    for (int j = 0; j < nr; ++j) out[p * nr + j] = src[j * ld + p];
}

namespace {

void pack_b(DType t, const Int8Format& f, const uint8_t* base, size_t stride, int rows, int64_t k0, int64_t kc,
            uint8_t* dst) {
  if (rows == kNr && pack_b_codes_avx512(t, f.sb, base, stride, k0, kc, kNr, dst)) return;
  auto* ws = reinterpret_cast<float*>(dst + kc * kNr);
  alignas(64) uint8_t codes[kNr][kMaxKc];
  decode_sliver_avx512(t, f, base, stride, rows, kNr, k0, kc, &codes[0][0], kMaxKc, ws, ws + (kc / f.sb) * kNr);
  transpose_dwords_avx512(reinterpret_cast<const int32_t*>(codes[0]), kMaxKc / 4, kNr, kc / 4,
                          reinterpret_cast<int32_t*>(dst));
}

bool pack_b_interleaved(DType t, const Int8Format& f, const uint8_t* group, size_t row_stride, int rows, int64_t k0,
                        int64_t kc, uint8_t* dst) {
  return rows == kNr && pack_b_codes_avx512(t, f.sb, group, row_stride, k0, kc, kNr, dst, true);
}

// ---- the register tile ----

template <int kSb, bool kMins>
void tile(int64_t kc, const uint8_t* a, const uint8_t* b, float* c, int64_t ldc, int rows, int cols,
          bool accumulate) {
  const int64_t ns = kc / kSb;
  const auto* aq = reinterpret_cast<const int32_t*>(a);
  const auto* corr = reinterpret_cast<const int32_t*>(a + kc * kMr);
  const auto* dx = reinterpret_cast<const float*>(corr + ns * kMr);
  const float* sx = dx + ns * kMr;
  const auto* ws = reinterpret_cast<const float*>(b + kc * kNr);
  const float* wm = ws + ns * kNr;
  __m512 f0[kMr], f1[kMr];
#pragma GCC unroll 8
  for (int i = 0; i < kMr; ++i) f0[i] = f1[i] = _mm512_setzero_ps();
  for (int64_t s = 0; s < ns; ++s) {
    __m512i i0[kMr], i1[kMr];
#pragma GCC unroll 8
    for (int i = 0; i < kMr; ++i) i0[i] = i1[i] = _mm512_set1_epi32(corr[s * kMr + i]);
    const int32_t* ap = aq + s * (kSb / 4) * kMr;
    const uint8_t* bp = b + s * (kSb / 4) * (kNr * 4);
#pragma GCC unroll 8
    for (int t = 0; t < kSb / 4; ++t) {
      const __m512i w0 = _mm512_load_si512(bp), w1 = _mm512_load_si512(bp + 64);
#pragma GCC unroll 8
      for (int i = 0; i < kMr; ++i) {
        const __m512i xa = _mm512_set1_epi32(ap[i]);
        i0[i] = _mm512_dpbusd_epi32(i0[i], w0, xa);
        i1[i] = _mm512_dpbusd_epi32(i1[i], w1, xa);
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

Int8Kernel int8_kernel_avx512() {
  Int8Kernel k;
  k.mr = kMr;
  k.nr = kNr;
  k.kc = kKc;
  k.a_sliver_bytes = [](const Int8Format& f, int64_t kc) { return a_bytes(f, kMr, kc); };
  k.b_sliver_bytes = [](const Int8Format& f, int64_t kc) { return b_bytes(f, kNr, kc); };
  k.pack_a = pack_a;
  k.pack_b = pack_b;
  k.pack_b_interleaved = pack_b_interleaved;
  k.tile = tile_any;
  return k;
}

}  // namespace ts::int8_detail
