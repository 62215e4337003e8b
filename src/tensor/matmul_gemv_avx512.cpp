// The AVX-512 VNNI GEMVs: the int16 path's (a few activation rows; contract: matmul_int16.h) and, on the same code
// with int8 activations (Act8), kFast's for a few rows of Q8_0 (matmul_int8.h); and the activation quantizers they
// read (quantize_rows_avx512). The GEMMs' pieces are in matmul_int16_avx512.cpp and matmul_int8_avx512.cpp.
//
// Only intrinsics and internal-linkage helpers here: see the ODR note in quant_impl.h.

// GCC 12's AVX-512 headers start results from _mm512_undefined_*(), which its own -Wmaybe-uninitialized then flags
// (GCC bug 105593); the warnings say nothing about this file.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstring>
#include <type_traits>

#include "tensor/matmul_int16.h"
#include "tensor/rows16_avx512.h"
#include "tensor/simd_avx512.h"

namespace ts::int16_detail {
namespace {

using int8_detail::Int8Format;
using simd512::hmax;
using simd512::hsum;

// ---- the GEMV (m <= gemv_max_rows(type)): 16 weight rows in the 16 lanes, decoded in registers ----
//
// A group of 16 weight rows is read 16 or 32 bytes per row at a time and transposed (4 × 4 dwords in each 128-bit
// lane) into vectors whose lane L holds 4 consecutive code bytes of one row, the same 4 positions in every lane.
// Each int16 activation is split into bytes, q = 256·qh + ql (ql unsigned, qh signed), stored per quad of elements
// as 4 ql then 4 qh, so that one dword of either, broadcast to every lane, meets the lane's 4 codes in vpdpbusd
// (unsigned × signed bytes, 4 products summed per lane): Σ u·q = Σ u·ql + 256·Σ u·qh, exactly. Lane L of the
// int32 accumulators is then one row's sum: nothing is reduced across lanes, and the decoded codes serve all m rows.
// (The int8 GEMV, Act8, meets the codes with one int8 activation dword instead.)
// The integer sub-block sums are exact, in any order. The fp32 operations after them are the GEMM tile's, in its
// order: per k-block of its GEMM (kKc; the int8 GEMM's is 512) f = 0, then per sub-block f = fma(float(isum), ws·dx, f) and, with mins,
// f = f − wm·Σx; Y = f for the first k-block and Y + f after. The activations are quantized with pack_a's
// operations (quantize_rows_avx512). So each output is bit-identical to the GEMM's.
//
// Q8_0, Q4_K and Q6_K (the types of Q8_0 and Q4_K_M files) are decoded straight from the rows; the other types go
// through decode_sliver_avx512's u8 codes in a small buffer. A correction per activation row and sub-block
// (quantize_rows_avx512's corr) turns the sums of the codes as they enter into Σ (u − offset)·q.

constexpr int kG = static_cast<int>(kGemvRows);

// The activations' two forms, each with its dot product of one quad of elements against the lanes' 4 codes.
// cs and cu hold the lane's 4 codes as signed and as unsigned bytes (the same vector for codes below 128).
//
// Act16 (kInt16): for the quad of activation row i at q + 4i (its four low bytes ql, then its four high bytes qh:
// q = 256·qh + ql with ql unsigned, qh signed), lane-wise acc[i] += Σ ql·cs and acc[C + i] += Σ cu·qh (vpdpbusd
// multiplies unsigned by signed bytes); the sum is acc[i] + 256·acc[C + i]. The fp32 sums restart per k-block of
// the int16 GEMM (kKc).
struct Act16 {
  using Q = int16_t;
  static constexpr int kAcc = 2;  // int32 accumulators per activation row
  static constexpr int64_t kFinishKc = kKc;
  template <int C>
  static void dot(__m512i* acc, __m512i cs, __m512i cu, const Q* q) {
#pragma GCC unroll 4
    for (int i = 0; i < C; ++i) {
      acc[i] = _mm512_dpbusd_epi32(acc[i], bcast32(q + 4 * i), cs);
      acc[C + i] = _mm512_dpbusd_epi32(acc[C + i], cu, bcast32(q + 4 * i + 2));
    }
  }
  template <int C>
  static void total(const __m512i* acc, __m512i* isum) {
#pragma GCC unroll 4
    for (int i = 0; i < C; ++i) isum[i] = _mm512_add_epi32(acc[i], _mm512_slli_epi32(acc[C + i], 8));
  }
};
// Act8 (kFast): int8 activations, 4 bytes per quad of row i at q + 4i, met by the unsigned codes in one vpdpbusd;
// corr takes the codes' offset back, as the int8 GEMM's accumulators start from it. The fp32 sums restart per
// k-block of the int8 GEMM (int8_detail::kKc).
struct Act8 {
  using Q = int8_t;
  static constexpr int kAcc = 1;
  static constexpr int64_t kFinishKc = int8_detail::kKc;
  template <int C>
  static void dot(__m512i* acc, __m512i, __m512i cu, const Q* q) {
#pragma GCC unroll 4
    for (int i = 0; i < C; ++i) acc[i] = _mm512_dpbusd_epi32(acc[i], cu, bcast32(q + 4 * i));
  }
  template <int C>
  static void total(const __m512i* acc, __m512i* isum) {
#pragma GCC unroll 4
    for (int i = 0; i < C; ++i) isum[i] = acc[i];
  }
};
// The product sub-blocks of one k-block, at most (16 elements each), and the int32 sums a group keeps at once.
constexpr int kMaxSub = static_cast<int>(Act8::kFinishKc / 16);
constexpr int64_t kSums8 = kMaxSub * int8_detail::kGemvMaxRows, kSums16 = kKc / 16 * kGemvMaxRows;
constexpr int kMaxSums = static_cast<int>(kSums8 > kSums16 ? kSums8 : kSums16);

// Calls fn(i0, C) (C a std::integral_constant) for the activation rows [i0, i0 + C) of m, in chunks of at most
// kChunk: the codes decoded in one step serve every chunk, and a chunk's kAcc·C accumulators (Q4_K, Q6_K: twice
// that) stay in registers. The kernels below take M > 0 rows as a template argument (generation: 1 to 4 rows, the loops
// unrolled) or M = 0 and the count m at run time (short prompts, speculative verification).
constexpr int kChunk = 4;
#define TS_ALWAYS_INLINE __attribute__((always_inline))  // a chunk's code inlined where the codes are in registers
template <class Fn>
TS_ALWAYS_INLINE inline void for_chunks(int m, Fn&& fn) {
  int i0 = 0;
  for (; i0 + kChunk <= m; i0 += kChunk) fn(i0, std::integral_constant<int, kChunk>{});
  switch (m - i0) {
    case 1: return fn(i0, std::integral_constant<int, 1>{});
    case 2: return fn(i0, std::integral_constant<int, 2>{});
    case 3: return fn(i0, std::integral_constant<int, 3>{});
    default: return;
  }
}
template <int M>
constexpr int rows_of(int mr) { return M > 0 ? M : mr; }

template <int N>
inline void zero(__m512i* acc) {
#pragma GCC unroll 8
  for (int c = 0; c < N; ++c) acc[c] = _mm512_setzero_si512();
}

// Each type's integer pass over 256 columns of a group: isum[s·m + i] (lane L = Σ_{k∈s} c·q of row lane_row(L), c
// the codes as they enter, below), ws[s·16 + L] and wm[s·16 + L] (mins only). off: the columns' byte offset in
// each row; q: their activations, the quad of elements e .. e + 3 of row i at q + m·e + 4i.

// Q8_0 (block layout as in ggml-common.h: fp16 d, 32 int8 w): the ql products take w as it is, the qh ones (and
// Act8's) u = w + 128 (an unsigned operand), which corr takes back. kSplit: product sub-blocks of 16 (int8
// activations in blocks of 16), each block's scale stored twice.
template <int M, class A, bool kSplit, class Src>
void ints_q8_0(const Src& R, size_t off, int nb, const typename A::Q* q, int mr, __m512i* isum, float* ws,
               Sweep& sweep) {
  const int m = rows_of<M>(mr);
  constexpr int kParts = kSplit ? 2 : 1;
  constexpr size_t kBlock = 34;
  alignas(32) uint16_t d[kKc / 32][kG];
  if constexpr (!Src::kRowOrder) {
    for (int b = 0; b < nb; ++b)  // the scalar loads run beside the vector work below (a gather measured slower)
#pragma GCC unroll 16
      for (int j = 0; j < kG; ++j) std::memcpy(&d[b][lane_row(j)], R.row(j) + off + kBlock * b, 2);
  }
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  for (int b = 0; b < nb; ++b) {
    sweep.step(1);
    __m512i v[8];
    load_octets(R, off + kBlock * b + 2, v);
    for_chunks(m, [&](auto i0, auto cn) TS_ALWAYS_INLINE {
      constexpr int C = decltype(cn)::value;
#pragma GCC unroll 2
      for (int part = 0; part < kParts; ++part) {
        __m512i acc[A::kAcc * C];
        zero<A::kAcc * C>(acc);
#pragma GCC unroll 8
        for (int c = 8 / kParts * part; c < 8 / kParts * (part + 1); ++c)
          A::template dot<C>(acc, v[c], _mm512_xor_si512(v[c], flip), q + m * (32 * b + 4 * c) + 4 * i0);
        A::template total<C>(acc, isum + (kParts * b + part) * m + i0);
      }
    });
    const __m512 d16 = Src::kRowOrder
                           ? load_halves(R, off + kBlock * b)
                           : _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(d[b])));
#pragma GCC unroll 2
    for (int part = 0; part < kParts; ++part) _mm512_store_ps(ws + kG * (kParts * b + part), d16);
  }
}

// Q4_K: one 256-element block (fp16 d, dmin, 12 bytes of 6-bit scales and mins, 128 bytes of nibbles; element
// 64c + l is the low nibble of qs[32c + l], 64c + 32 + l its high nibble).
template <int M, class A, class Src>
void ints_q4_k(const Src& R, size_t off, const typename A::Q* q, int mr, __m512i* isum, float* ws, float* wm,
               Sweep& sweep) {
  const int m = rows_of<M>(mr);
  q4_k_scales(R, off, [&](int s, __m512 sc, __m512 mn) {
    _mm512_store_ps(ws + kG * s, sc);
    _mm512_store_ps(wm + kG * s, mn);
  });
  const __m512i nib = _mm512_set1_epi8(0x0f);
  for (int c = 0; c < 4; ++c) {
    sweep.step(2);
    __m512i v[8];
    load_octets(R, off + 16 + 32 * c, v);
    for_chunks(m, [&](auto i0, auto cn) TS_ALWAYS_INLINE {
      constexpr int C = decltype(cn)::value;
      __m512i lo[A::kAcc * C], hi[A::kAcc * C];
      zero<A::kAcc * C>(lo);
      zero<A::kAcc * C>(hi);
#pragma GCC unroll 8
      for (int e = 0; e < 8; ++e) {
        const typename A::Q* qq = q + m * (64 * c + 4 * e) + 4 * i0;
        const __m512i l = _mm512_and_si512(v[e], nib), h = _mm512_and_si512(srli16(v[e], 4), nib);
        A::template dot<C>(lo, l, l, qq);
        A::template dot<C>(hi, h, h, qq + 32 * m);
      }
      A::template total<C>(lo, isum + 2 * c * m + i0);
      A::template total<C>(hi, isum + (2 * c + 1) * m + i0);
    });
  }
}

// Q6_K: one 256-element block (ql[128], qh[64], int8 scales[16], fp16 d). In half t (128 elements), element
// 128t + 32p + l (l < 32) has the low (p = 0, 1) or high (p = 2, 3) nibble of ql[64t + 32(p % 2) + l] and bits
// 2p, 2p + 1 of qh[32t + l] on top (as decode_q6_k); sub-blocks of 16.
template <int M, class A, class Src>
void ints_q6_k(const Src& R, size_t off, const typename A::Q* q, int mr, __m512i* isum, float* ws, Sweep& sweep) {
  const int m = rows_of<M>(mr);
  q6_k_scales(R, off, [&](int s, __m512 sc) { _mm512_store_ps(ws + kG * s, sc); });
  for (int t = 0; t < 2; ++t)
    for (int h = 0; h < 2; ++h) {  // bytes l = 16h .. 16h + 15: sub-blocks 8t + h + {0, 2, 4, 6}
      sweep.step(2);
      __m512i qh[4];
      load_quads(R, off + 128 + 32 * t + 16 * h, qh);
#pragma GCC unroll 2
      for (int p = 0; p < 2; ++p) {  // ql[64t + 32p + l]: elements 32p + l (low nibbles) and 64 + 32p + l (high)
        __m512i ql[4], cl[4], ch[4];
        load_quads(R, off + 64 * t + 32 * p + 16 * h, ql);
#pragma GCC unroll 4
        for (int e = 0; e < 4; ++e) q6_k_codes(ql[e], qh[e], p, &cl[e], &ch[e]);
        for_chunks(m, [&](auto i0, auto cn) TS_ALWAYS_INLINE {
          constexpr int C = decltype(cn)::value;
          __m512i lo[A::kAcc * C], hi[A::kAcc * C];
          zero<A::kAcc * C>(lo);
          zero<A::kAcc * C>(hi);
#pragma GCC unroll 4
          for (int e = 0; e < 4; ++e) {
            const typename A::Q* qq = q + m * (128 * t + 32 * p + 16 * h + 4 * e) + 4 * i0;
            A::template dot<C>(lo, cl[e], cl[e], qq);
            A::template dot<C>(hi, ch[e], ch[e], qq + 64 * m);
          }
          A::template total<C>(lo, isum + (8 * t + 2 * p + h) * m + i0);
          A::template total<C>(hi, isum + (8 * t + 4 + 2 * p + h) * m + i0);
        });
      }
    }
}

// Any other type: u8 codes (below 64 for all of them) decoded into a buffer (16 rows of kKc), sub-blocks of
// sb = 16 or 32.
template <int M, class A>
void ints_codes(const uint8_t* codes, int64_t kc, int sb, const typename A::Q* q, int mr, __m512i* isum) {
  const int m = rows_of<M>(mr);
  const Rows16 R{codes, kKc};
  const int units = sb / 16;  // 16-byte units per sub-block
  for (int64_t s = 0; s < kc / sb; ++s) {
    for_chunks(m, [&](auto i0, auto cn) TS_ALWAYS_INLINE {
      constexpr int C = decltype(cn)::value;
      __m512i acc[A::kAcc * C];
      zero<A::kAcc * C>(acc);
      for (int u = 0; u < units; ++u) {
        __m512i v[4];
        load_quads(R, static_cast<size_t>(sb * s + 16 * u), v);
#pragma GCC unroll 4
        for (int e = 0; e < 4; ++e)
          A::template dot<C>(acc, v[e], v[e], q + m * (sb * s + 16 * u + 4 * e) + 4 * i0);
      }
      A::template total<C>(acc, isum + s * m + i0);
    });
  }
}

// The fp32 part of one k-block, as the GEMM tile: Y[i][masked lanes] = [Y +] Σ_s in order. corr: null where it
// would be all zeros (formats with offset 0).
template <int M, bool kMins, bool kRowOrder>
void finish(const __m512i* isum, int mr, const float* ws, const float* wm, int64_t ns, const float* dx,
            const float* sx, const int32_t* corr, int64_t lds, float* y, int64_t ldy, __mmask16 mask, bool accumulate) {
  const int m = rows_of<M>(mr);
#pragma GCC unroll 4
  for (int i = 0; i < m; ++i) {
    const float* dxi = dx + i * lds;
    const float* sxi = sx + i * lds;
    __m512 f = _mm512_setzero_ps();
    for (int64_t s = 0; s < ns; ++s) {
      __m512i v = isum[s * m + i];
      if (corr) v = _mm512_add_epi32(v, _mm512_set1_epi32(corr[i * lds + s]));
      f = _mm512_fmadd_ps(_mm512_cvtepi32_ps(v), _mm512_mul_ps(_mm512_load_ps(ws + kG * s), _mm512_set1_ps(dxi[s])),
                          f);
      if constexpr (kMins) f = _mm512_fnmadd_ps(_mm512_load_ps(wm + kG * s), _mm512_set1_ps(sxi[s]), f);
    }
    if constexpr (!kRowOrder) f = _mm512_permutexvar_ps(lane_rows(), f);  // rows in order
    float* yi = y + i * ldy;
    if (accumulate) f = _mm512_add_ps(_mm512_maskz_loadu_ps(mask, yi), f);
    _mm512_mask_storeu_ps(yi, mask, f);
  }
}

// The k-blocks of one group: per finishing block (A::kFinishKc columns) the integer passes over its 256-column parts
// (pass(k0, kc, isum, ws, wm) for the part at column k0), then the fp32 part, Y = [Y +] the block's sums.
template <int M, class A, bool kRowOrder, class Pass>
inline void run_group(const Int8Format& f, int64_t k, int m, const float* dx, const float* sx, const int32_t* corr,
                      float* y, int64_t ldy, __mmask16 mask, __m512i* isum, float* ws, float* wm, Pass&& pass) {
  const int64_t lds = k / f.sb;
  for (int64_t k0 = 0; k0 < k; k0 += A::kFinishKc) {
    const int64_t kend = k - k0 < A::kFinishKc ? k : k0 + A::kFinishKc, ns = (kend - k0) / f.sb;
    for (int64_t h0 = k0; h0 < kend; h0 += kKc) {
      const int64_t sub = (h0 - k0) / f.sb;
      pass(h0, kend - h0 < kKc ? kend - h0 : kKc, isum + sub * m, ws + kG * sub, wm + kG * sub);
    }
    const int64_t s0 = k0 / f.sb;
    const int32_t* ck = f.offset != 0 ? corr + s0 : nullptr;
    if (f.mins)
      finish<M, true, kRowOrder>(isum, m, ws, wm, ns, dx + s0, sx + s0, ck, lds, y, ldy, mask, k0 > 0);
    else
      finish<M, false, kRowOrder>(isum, m, ws, wm, ns, dx + s0, sx + s0, ck, lds, y, ldy, mask, k0 > 0);
  }
}

// Interleaved weights (interleave.h; rows a multiple of 16): group g's 16 rows are one stream at 16g·row_stride,
// read by Src (an Il16), lanes in row order.
template <int M, class A, bool kSplit, class Src>
void gemv_interleaved(const Int8Format& f, const WeightView& W, int64_t g0, int64_t g1, const typename A::Q* q,
                      int mr, const float* dx, const float* sx, const int32_t* corr, float* Y, int64_t ldy,
                      size_t block_bytes) {
  const int m = rows_of<M>(mr);
  const int64_t k = W.cols;
  const auto* base = static_cast<const uint8_t*>(W.data);
  alignas(64) __m512i isum[kMaxSums];
  alignas(64) float ws[kMaxSub * kG], wm[kMaxSub * kG];
  Sweep sweep;
  for (int64_t g = g0; g < g1; ++g) {
    const Src R{base + static_cast<size_t>(g * kG) * W.row_stride, W.row_stride};
    // For 1-4 rows (memory-bound) no sweep: a group's blocks are read in address order (Q6_K's body is stored in its
    // reading order), one sequential stream that the hardware prefetcher follows; sweeping the next group as well
    // measured 7% slower (2 threads, the 1.1B Q8_0 model's products), and reading Q6_K's body out of order 2x
    // slower. (One row of Q4_K or Q6_K runs gemv1_avx512 instead, which sweeps: see there.) For more rows (M = 0: the integer work outlasts the stream) the next group is swept into L2:
    // BM_GemvStream 2 threads, ms, without / with: Q8_0 m = 8 0.95-1.20 / 0.69-0.84, m = 16 1.44-1.66 / 1.19-1.27;
    // Q4_K m = 8 0.85-0.91 / 0.76-0.87; Q6_K m = 8 1.26-1.48 / 1.03-1.04.
    const size_t group_bytes = static_cast<size_t>(kG) * W.row_stride;
    sweep.start(R.p + group_bytes, M == 0 && g + 1 < g1 ? group_bytes : 0, k / 32);
    run_group<M, A, true>(f, k, m, dx, sx, corr, Y + g * kG, ldy, 0xFFFF, isum, ws, wm,
                          [&](int64_t k0, int64_t kc, __m512i* is, float* w_s, float* w_m) {
                            const size_t off = static_cast<size_t>(k0 / kKc) * block_bytes;
                            const typename A::Q* qk = q + m * k0;
                            if constexpr (std::is_same_v<Src, Il16Q8_0>)
                              ints_q8_0<M, A, kSplit>(R, off, static_cast<int>(kc / 32), qk, m, is, w_s, sweep);
                            else if constexpr (std::is_same_v<Src, Il16Q4_K>)
                              ints_q4_k<M, A>(R, off, qk, m, is, w_s, w_m, sweep);
                            else
                              ints_q6_k<M, A>(R, off, qk, m, is, w_s, sweep);
                          });
  }
}

template <int M, class A, bool kSplit>
void gemv_rows(DType t, const Int8Format& f, const WeightView& W, int64_t g0, int64_t g1, const typename A::Q* q,
               int mr, const float* dx, const float* sx, const int32_t* corr, float* Y, int64_t ldy,
               size_t block_bytes) {
  const int m = rows_of<M>(mr);
  constexpr bool kInt8 = std::is_same_v<A, Act8>;  // then Q8_0 only (int8_detail::gemv_max_rows)
  if (W.interleaved) {
    if constexpr (kInt8) {
      return gemv_interleaved<M, A, kSplit, Il16Q8_0>(f, W, g0, g1, q, m, dx, sx, corr, Y, ldy, block_bytes);
    } else {
      switch (t) {
        case DType::Q8_0:
          return gemv_interleaved<M, A, kSplit, Il16Q8_0>(f, W, g0, g1, q, m, dx, sx, corr, Y, ldy, block_bytes);
        case DType::Q4_K:
          return gemv_interleaved<M, A, kSplit, Il16Q4_K>(f, W, g0, g1, q, m, dx, sx, corr, Y, ldy, block_bytes);
        default:
          return gemv_interleaved<M, A, kSplit, Il16Q6_K>(f, W, g0, g1, q, m, dx, sx, corr, Y, ldy, block_bytes);
      }
    }
  }
  const int64_t k = W.cols;
  // not W.row(): an inline function compiled here could stand in for other files' copies (ODR note, quant_impl.h)
  const auto* base = static_cast<const uint8_t*>(W.data);
  alignas(64) __m512i isum[kMaxSums];
  alignas(64) float ws[kMaxSub * kG], wm[kMaxSub * kG];
  alignas(64) uint8_t codes[kG][kKc];
  Sweep sweep;
  for (int64_t g = g0; g < g1; ++g) {
    // A last group of fewer rows is moved back to end at the last row; it stores only the lanes of its own rows.
    const int64_t r0 = g * kG < W.rows - kG ? g * kG : W.rows - kG;
    const int skip = static_cast<int>(g * kG - r0);
    const __mmask16 mask = static_cast<__mmask16>(0xFFFFu << skip);
    const Rows16 R{base + static_cast<size_t>(r0) * W.row_stride, W.row_stride};
    const int64_t next_rows = g + 1 < g1 ? (W.rows - r0 - kG < kG ? W.rows - r0 - kG : kG) : 0;
    sweep.start(R.p + kG * R.s, static_cast<size_t>(next_rows) * R.s, k / 32);
    run_group<M, A, false>(
        f, k, m, dx, sx, corr, Y + r0, ldy, mask, isum, ws, wm,
        [&](int64_t k0, int64_t kc, __m512i* is, float* w_s, float* w_m) {
          const size_t off = static_cast<size_t>(k0 / kKc) * block_bytes;
          const typename A::Q* qk = q + m * k0;
          if constexpr (kInt8) {
            return ints_q8_0<M, A, kSplit>(R, off, static_cast<int>(kc / 32), qk, m, is, w_s, sweep);
          } else {
            switch (t) {
              case DType::Q8_0:
                return ints_q8_0<M, A, kSplit>(R, off, static_cast<int>(kc / 32), qk, m, is, w_s, sweep);
              case DType::Q4_K: return ints_q4_k<M, A>(R, off, qk, m, is, w_s, w_m, sweep);
              case DType::Q6_K: return ints_q6_k<M, A>(R, off, qk, m, is, w_s, sweep);
              default:
                sweep.step(static_cast<int>(kc / 32));
                int8_detail::decode_sliver_avx512(t, f, R.p, R.s, kG, kG, k0, kc, &codes[0][0], kKc, w_s, w_m);
                for (int64_t s = 0; s < kc / f.sb; ++s) {  // the tables in lane order, as the codes are read
                  _mm512_store_ps(w_s + kG * s, _mm512_permutexvar_ps(lane_rows(), _mm512_load_ps(w_s + kG * s)));
                  _mm512_store_ps(w_m + kG * s, _mm512_permutexvar_ps(lane_rows(), _mm512_load_ps(w_m + kG * s)));
                }
                return ints_codes<M, A>(&codes[0][0], kc, f.sb, qk, m, is);
            }
          }
        });
  }
}

}  // namespace

void quantize_rows_avx512(const int8_detail::Int8Format& f, const float* x, int64_t ldx, int64_t m, int64_t k,
                          int16_t* q, float* dx, float* sx, int32_t* corr) {
  const int64_t ns = k / f.sb;
  const bool sb16 = f.sb == 16;
  const int offset = f.offset;
  const bool q8_0 = offset == 128;  // the one type whose codes enter as stored (see ints_q8_0)
  // q = 256·qh + ql (ql = the low byte, unsigned; qh = q >> 8, signed), stored per quad of elements: ql × 4, then
  // qh × 4, the m rows' quads side by side (elements e..e+3 of row i at q + m·e + 4i)
  auto store_split = [m](__m256i v, int16_t* dst) {  // 16 elements of one row
    const __m128i lo = _mm256_cvtepi16_epi8(v), hi = _mm256_cvtepi16_epi8(_mm256_srai_epi16(v, 8));
    const __m128d a = _mm_castsi128_pd(_mm_unpacklo_epi32(lo, hi)), b = _mm_castsi128_pd(_mm_unpackhi_epi32(lo, hi));
    _mm_storel_pd(reinterpret_cast<double*>(dst), a);
    _mm_storeh_pd(reinterpret_cast<double*>(dst + 4 * m), a);
    _mm_storel_pd(reinterpret_cast<double*>(dst + 8 * m), b);
    _mm_storeh_pd(reinterpret_cast<double*>(dst + 12 * m), b);
  };
  // the GEMV's correction of a sub-block sum: −offset·Σq, or for Q8_0 −128·256·Σqh
  auto correction = [&](__m256i v) {
    const __m512i w = _mm512_cvtepi16_epi32(q8_0 ? _mm256_srai_epi16(v, 8) : v);
    return (q8_0 ? -32768 : -offset) * _mm512_reduce_add_epi32(w);
  };
  for (int64_t i = 0; i < m; ++i) {
    const float* xi = x + i * ldx;
    int16_t* qi = q + 4 * i;
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
      store_split(q0, qi + m * 32 * b);
      store_split(q1, qi + m * (32 * b + 16));
      const int32_t c0 = correction(q0), c1 = correction(q1);
      if (!sb16) {
        dxi[b] = d;
        sxi[b] = hsum(_mm512_add_ps(x0, x1));
        ci[b] = c0 + c1;
      } else {
        dxi[2 * b] = dxi[2 * b + 1] = d;
        sxi[2 * b] = hsum(x0), sxi[2 * b + 1] = hsum(x1);
        ci[2 * b] = c0, ci[2 * b + 1] = c1;
      }
    }
  }
}

void gemv_avx512(DType t, const int8_detail::Int8Format& f, const WeightView& W, int64_t g0, int64_t g1,
                 const int16_t* q, const float* dx, const float* sx, const int32_t* corr, int m, float* Y,
                 int64_t ldy, size_t block_bytes) {
  switch (m) {
    case 1: {
      int slot = 0;
      const int kernel = one_row_kernel(t, W, &slot);
      if (kernel < 0) return gemv_rows<1, Act16, false>(t, f, W, g0, g1, q, m, dx, sx, corr, Y, ldy, block_bytes);
      const uint64_t c0 = __rdtsc();
      if (kernel == 0 || !gemv1_avx512(t, W, g0, g1, q, dx, sx, corr, Y, block_bytes))
        gemv_rows<1, Act16, false>(t, f, W, g0, g1, q, m, dx, sx, corr, Y, ldy, block_bytes);
      one_row_record(slot, kernel, __rdtsc() - c0, static_cast<size_t>(g1 - g0) * kG * W.row_stride);
      return;
    }
    case 2: return gemv_rows<2, Act16, false>(t, f, W, g0, g1, q, m, dx, sx, corr, Y, ldy, block_bytes);
    case 3: return gemv_rows<3, Act16, false>(t, f, W, g0, g1, q, m, dx, sx, corr, Y, ldy, block_bytes);
    case 4: return gemv_rows<4, Act16, false>(t, f, W, g0, g1, q, m, dx, sx, corr, Y, ldy, block_bytes);
    default: return gemv_rows<0, Act16, false>(t, f, W, g0, g1, q, m, dx, sx, corr, Y, ldy, block_bytes);
  }
}

}  // namespace ts::int16_detail

namespace ts::int8_detail {

void quantize_rows_avx512(const Int8Format& f, const float* x, int64_t ldx, int64_t m, int64_t k, int8_t* q,
                          float* dx, float* sx, int32_t* corr) {
  const int64_t ns = k / f.sb;
  const bool act16 = f.act == 16, sb16 = f.sb == 16, mins = f.mins;
  const int32_t off = f.offset;
  for (int64_t i = 0; i < m; ++i) {
    const float* xi = x + i * ldx;
    int8_t* qi = q + 4 * i;
    float *dxi = dx + i * ns, *sxi = sx + i * ns;
    int32_t* ci = corr + i * ns;
    for (int64_t b = 0; b < k / 32; ++b) {
      // pack_a's operations (matmul_int8_avx512.cpp), so that q, dx, corr and Σx match the GEMM's bit for bit
      const __m512 x0 = _mm512_loadu_ps(xi + 32 * b), x1 = _mm512_loadu_ps(xi + 32 * b + 16);
      float amax0, amax1;
      if (act16)
        amax0 = simd512::hmax(_mm512_abs_ps(x0)), amax1 = simd512::hmax(_mm512_abs_ps(x1));
      else
        amax0 = amax1 = simd512::hmax(_mm512_max_ps(_mm512_abs_ps(x0), _mm512_abs_ps(x1)));
      const float dx0 = amax0 / 127.0f, dx1 = amax1 / 127.0f;
      const __m512 id0 = _mm512_set1_ps(amax0 > 0.0f ? 127.0f / amax0 : 0.0f);
      const __m512 id1 = _mm512_set1_ps(amax1 > 0.0f ? 127.0f / amax1 : 0.0f);
      const __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(x0, id0)), q1 = _mm512_cvtps_epi32(_mm512_mul_ps(x1, id1));
      alignas(16) int32_t quads[8];
      _mm_store_si128(reinterpret_cast<__m128i*>(quads), _mm512_cvtepi32_epi8(q0));
      _mm_store_si128(reinterpret_cast<__m128i*>(quads + 4), _mm512_cvtepi32_epi8(q1));
      for (int j = 0; j < 8; ++j) std::memcpy(qi + m * (32 * b + 4 * j), &quads[j], 4);
      if (!sb16) {  // then the activation block is 32 too
        ci[b] = -off * _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
        dxi[b] = dx0;
        if (mins) sxi[b] = simd512::hsum(_mm512_add_ps(x0, x1));
      } else {
        ci[2 * b] = -off * _mm512_reduce_add_epi32(q0);
        ci[2 * b + 1] = -off * _mm512_reduce_add_epi32(q1);
        dxi[2 * b] = dx0;
        dxi[2 * b + 1] = dx1;
        if (mins) sxi[2 * b] = simd512::hsum(x0), sxi[2 * b + 1] = simd512::hsum(x1);
      }
    }
  }
}

void gemv_avx512(DType t, const Int8Format& f, const WeightView& W, int64_t g0, int64_t g1, const int8_t* q,
                 const float* dx, const float* sx, const int32_t* corr, int m, float* Y, int64_t ldy,
                 size_t block_bytes) {
  using int16_detail::Act8;
  if (f.sb < f.native_sb)  // activation blocks of 16: Q8_0's blocks of 32 split in two
    return int16_detail::gemv_rows<0, Act8, true>(t, f, W, g0, g1, q, m, dx, sx, corr, Y, ldy, block_bytes);
  return int16_detail::gemv_rows<0, Act8, false>(t, f, W, g0, g1, q, m, dx, sx, corr, Y, ldy, block_bytes);
}

}  // namespace ts::int8_detail
