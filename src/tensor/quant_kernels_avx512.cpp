// AVX-512 (F, BW, VL, DQ) kernels for the row operations of quant.h; chosen at run time by quant.cpp.
//
// Each format has one "walker" that decodes a row into 16-wide fp32 vectors of weights and hands each vector, with
// its element offset, to a sink: StoreSink writes it (dequantize_row), DotSink multiplies it with the activations
// and accumulates (vec_dot), so the dot never leaves registers and both use the same decode.
//
// Decoded weights are bit-identical to the scalar references: every product scale*code is exact in fp32, and where
// the reference then adds or subtracts a min, an fma rounds once exactly as the reference's subtraction does.
// Dots accumulate in fp32 in four vector accumulators and reduce at the end, so they differ from the double
// reference only by fp32 summation order (tests bound it).
//
// Walkers name the accumulator of each vector with a compile-time tag (A0..A3), never a run-time index: with
// constant indices the compiler keeps DotSink::acc in zmm registers; a run-time index forces the array onto the
// stack and every FMA through a store and a reload, which made vec_dot latency-bound (about 4x slower).
//
// Only intrinsics and internal-linkage helpers here: see the ODR note in quant_impl.h.

// GCC 12's AVX-512 headers start results from _mm512_undefined_*(), which its own -Wmaybe-uninitialized then flags
// (GCC bug 105593); the warnings say nothing about this file.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "tensor/quant_impl.h"

namespace ts::quant {
namespace {

// Horizontal sum. (Not _mm512_reduce_add_ps: GCC 12's version trips -Wuninitialized inside its own header.)
inline float hsum(__m512 v) {
  const __m512 t = _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, _MM_SHUFFLE(1, 0, 3, 2)));
  const __m256 h = _mm512_castps512_ps256(t);
  __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  q = _mm_add_ps(q, _mm_movehl_ps(q, q));
  q = _mm_add_ss(q, _mm_movehdup_ps(q));
  return _mm_cvtss_f32(q);
}

// Accumulator tags: put(off, w, A2) adds w * x[off..off+16) into accumulator 2.
template <int K>
struct Acc {
  static constexpr int k = K;
};
constexpr Acc<0> A0{};
constexpr Acc<1> A1{};
constexpr Acc<2> A2{};
constexpr Acc<3> A3{};

// f(A0) .. f(A3), for loops whose counter picks the accumulator (g = decltype(K)::k inside f).
template <class F>
inline void each_acc(F&& f) {
  f(A0);
  f(A1);
  f(A2);
  f(A3);
}

struct StoreSink {
  float* dst;
  template <int K>
  void put(int64_t off, __m512 w, Acc<K>) { _mm512_storeu_ps(dst + off, w); }
  void put_masked(int64_t off, __m512 w, __mmask16 m) { _mm512_mask_storeu_ps(dst + off, m, w); }
};

struct DotSink {
  const float* x;
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  template <int K>
  void put(int64_t off, __m512 w, Acc<K>) { acc[K] = _mm512_fmadd_ps(w, _mm512_loadu_ps(x + off), acc[K]); }
  void put_masked(int64_t off, __m512 w, __mmask16 m) {
    acc[0] = _mm512_fmadd_ps(w, _mm512_maskz_loadu_ps(m, x + off), acc[0]);
  }
  float sum() const {
    return hsum(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])));
  }
};

// M activation rows at once (generation with several sequences, speculative verification): each decoded weight
// vector is multiplied into every row's accumulators, so a row is decoded once instead of M times. Row i's
// accumulators receive exactly the FMAs DotSink's would, in the same order, so each result is bit-identical to dot().
template <int M>
struct MultiDotSink {
  const float* x;
  int64_t ldx;
  __m512 acc[M][4];
  MultiDotSink(const float* x_, int64_t ldx_) : x(x_), ldx(ldx_) {
    for (int i = 0; i < M; ++i)
      for (int k = 0; k < 4; ++k) acc[i][k] = _mm512_setzero_ps();
  }
  template <int K>
  void put(int64_t off, __m512 w, Acc<K>) {
#pragma GCC unroll 4
    for (int i = 0; i < M; ++i) acc[i][K] = _mm512_fmadd_ps(w, _mm512_loadu_ps(x + i * ldx + off), acc[i][K]);
  }
  void put_masked(int64_t off, __m512 w, __mmask16 m) {
#pragma GCC unroll 4
    for (int i = 0; i < M; ++i) acc[i][0] = _mm512_fmadd_ps(w, _mm512_maskz_loadu_ps(m, x + i * ldx + off), acc[i][0]);
  }
  float sum(int i) const {
    return hsum(_mm512_add_ps(_mm512_add_ps(acc[i][0], acc[i][1]), _mm512_add_ps(acc[i][2], acc[i][3])));
  }
};

inline float h2f(uint16_t h) { return _cvtsh_ss(h); }

// 16 bytes -> 16 int32 lanes, zero-extended.
inline __m512i bytes16(const uint8_t* p) {
  return _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
inline __m128i load16(const uint8_t* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }

// The decode is bound by the number of 512-bit operations (Zen 4 splits each over two 256-bit pipes), so codes are
// unpacked on 16 bytes with 128-bit operations and widened once: 16 bytes -> 16 floats, unsigned / signed.
inline __m512 u8_to_ps(__m128i v) { return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(v)); }
inline __m512 s8_to_ps(__m128i v) { return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(v)); }
// Low / high nibbles of 16 bytes, as bytes (the 16-bit shift pulls in bits the mask then drops).
inline __m128i lo_nibbles(__m128i v) { return _mm_and_si128(v, _mm_set1_epi8(0x0F)); }
inline __m128i hi_nibbles(__m128i v) { return _mm_and_si128(_mm_srli_epi16(v, 4), _mm_set1_epi8(0x0F)); }

// ---- F32 / F16 / BF16: n need not be a multiple of 16; the tail uses masked loads and stores.

template <class Sink>
void walk_f32(const void* src, int64_t n, Sink& sink) {
  const auto* s = static_cast<const float*>(src);
  int64_t i = 0;
  for (; i + 64 <= n; i += 64)
  {
    sink.put(i, _mm512_loadu_ps(s + i), A0);
    sink.put(i + 16, _mm512_loadu_ps(s + i + 16), A1);
    sink.put(i + 32, _mm512_loadu_ps(s + i + 32), A2);
    sink.put(i + 48, _mm512_loadu_ps(s + i + 48), A3);
  }
  for (; i + 16 <= n; i += 16) sink.put(i, _mm512_loadu_ps(s + i), A0);
  if (i < n) {
    const auto m = static_cast<__mmask16>((1u << (n - i)) - 1);
    sink.put_masked(i, _mm512_maskz_loadu_ps(m, s + i), m);
  }
}

// 16-bit float formats: 16 values of a __m256i widened to fp32 (F16: vcvtph2ps; BF16: the bits shifted up).
struct F16Widen {
  static __m512 widen(__m256i h) { return _mm512_cvtph_ps(h); }
};
struct BF16Widen {
  static __m512 widen(__m256i h) { return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)); }
};

// Loads of a row of 16-bit floats p (element offset i) widened by W: 16 values, the lanes of m (others zero), and
// 32 values from one 512-bit load widened half by half. Streaming a row from memory, the 512-bit load runs at ~0.86
// of a plain read in the machine's fast-memory minutes where a 256-bit load per widening (vcvtph2ps's memory form)
// reached ~0.70 (Zen 4, two threads, k = 2048; BF16 0.79 -> 0.90; bench/README.md "F16 rows: 512-bit loads").
template <class W>
struct Halves {
  static __m512 x16(const uint16_t* p) { return W::widen(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
  static __m512 masked(const uint16_t* p, __mmask16 m) { return W::widen(_mm256_maskz_loadu_epi16(m, p)); }
  static void x32(const uint16_t* p, __m512& lo, __m512& hi) {
    const __m512i v = _mm512_loadu_si512(p);
    lo = W::widen(_mm512_castsi512_si256(v));
    hi = W::widen(_mm512_extracti64x4_epi64(v, 1));
  }
};

template <class W, class Sink>
void walk_halves(const void* src, int64_t n, Sink& sink) {
  using H = Halves<W>;
  const auto* s = static_cast<const uint16_t*>(src);
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    __m512 w0, w1, w2, w3;
    H::x32(s + i, w0, w1);
    H::x32(s + i + 32, w2, w3);
    sink.put(i, w0, A0);
    sink.put(i + 16, w1, A1);
    sink.put(i + 32, w2, A2);
    sink.put(i + 48, w3, A3);
  }
  for (; i + 16 <= n; i += 16) sink.put(i, H::x16(s + i), A0);
  if (i < n) {
    const auto m = static_cast<__mmask16>((1u << (n - i)) - 1);
    sink.put_masked(i, H::masked(s + i, m), m);
  }
}

template <class Sink>
void walk_f16(const void* src, int64_t n, Sink& sink) {
  walk_halves<F16Widen>(src, n, sink);
}
template <class Sink>
void walk_bf16(const void* src, int64_t n, Sink& sink) {
  walk_halves<BF16Widen>(src, n, sink);
}

// Legacy 32-element blocks go in pairs: block i feeds accumulators 0/1, block i+1 accumulators 2/3, so four
// independent FMA chains hide the FMA latency; an odd last block feeds 0/1.
template <class Block>
inline void blocks_in_pairs(int64_t nb, Block&& block) {
  int64_t i = 0;
  for (; i + 2 <= nb; i += 2) {
    block(i, A0, A1);
    block(i + 1, A2, A3);
  }
  if (i < nb) block(i, A0, A1);
}

// ---- Q8_0: w = d * q

template <class Sink>
void walk_q8_0(const void* src, int64_t n, Sink& sink) {
  const auto* b = static_cast<const BlockQ8_0*>(src);
  blocks_in_pairs(n / kQK, [&](int64_t i, auto ka, auto kb) {
    const __m512 d = _mm512_set1_ps(h2f(b[i].d));
    const auto* q = reinterpret_cast<const uint8_t*>(b[i].qs);
    sink.put(32 * i, _mm512_mul_ps(d, s8_to_ps(load16(q))), ka);
    sink.put(32 * i + 16, _mm512_mul_ps(d, s8_to_ps(load16(q + 16))), kb);
  });
}

// ---- Q4_0: w = (q - 8) * d, low nibbles elements 0..15, high nibbles 16..31

template <class Sink>
void walk_q4_0(const void* src, int64_t n, Sink& sink) {
  const auto* b = static_cast<const BlockQ4_0*>(src);
  const __m128i eight = _mm_set1_epi8(8);
  blocks_in_pairs(n / kQK, [&](int64_t i, auto ka, auto kb) {
    const __m512 d = _mm512_set1_ps(h2f(b[i].d));
    const __m128i q = load16(b[i].qs);
    const __m512 lo = s8_to_ps(_mm_sub_epi8(lo_nibbles(q), eight));
    const __m512 hi = s8_to_ps(_mm_sub_epi8(hi_nibbles(q), eight));
    sink.put(32 * i, _mm512_mul_ps(lo, d), ka);
    sink.put(32 * i + 16, _mm512_mul_ps(hi, d), kb);
  });
}

// ---- Q4_K: w = (d*sc) * q - dmin*m per 32 elements

template <class Sink>
void walk_q4_k(const void* src, int64_t n, Sink& sink) {
  const auto* b = static_cast<const BlockQ4_K*>(src);
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const float d = h2f(b[i].d), dmin = h2f(b[i].dmin);
    for (int c = 0; c < 4; ++c) {
      uint8_t sc, m;
      k4_scale_min(2 * c, b[i].scales, &sc, &m);
      const __m512 d1 = _mm512_set1_ps(d * sc), nm1 = _mm512_set1_ps(-(dmin * m));
      k4_scale_min(2 * c + 1, b[i].scales, &sc, &m);
      const __m512 d2 = _mm512_set1_ps(d * sc), nm2 = _mm512_set1_ps(-(dmin * m));
      const int64_t base = 256 * i + 64 * c;
      auto half = [&](int l, auto ka, auto kb) {
        const __m128i q = load16(b[i].qs + 32 * c + l);
        sink.put(base + l, _mm512_fmadd_ps(u8_to_ps(lo_nibbles(q)), d1, nm1), ka);
        sink.put(base + 32 + l, _mm512_fmadd_ps(u8_to_ps(hi_nibbles(q)), d2, nm2), kb);
      };
      half(0, A0, A1);
      half(16, A2, A3);
    }
  }
}

// ---- Q6_K: w = (d*sc) * (q - 32) per 16 elements, q = 4 low bits from ql | 2 high bits from qh

template <class Sink>
void walk_q6_k(const void* src, int64_t n, Sink& sink) {
  const auto* b = static_cast<const BlockQ6_K*>(src);
  const __m128i m30 = _mm_set1_epi8(0x30);
  const __m128i c32 = _mm_set1_epi8(32);
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const float d = h2f(b[i].d);
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = b[i].ql + 64 * h;
      const uint8_t* qh = b[i].qh + 32 * h;
      const int8_t* sc = b[i].scales + 8 * h;
      const int64_t base = 256 * i + 128 * h;
      for (int l = 0; l < 32; l += 16) {
        const int s = l / 16;
        // The 6-bit codes are assembled on 16 bytes (cheap 128-bit ops) and widened once: bits 4..5 of each code
        // are bit pairs 0..1, 2..3, 4..5, 6..7 of H, moved to 4..5 by 16-bit shifts whose spill-over the mask drops.
        const __m128i A = load16(ql + l), B = load16(ql + 32 + l), H = load16(qh + l);
        const __m128i q1 = _mm_or_si128(lo_nibbles(A), _mm_and_si128(_mm_slli_epi16(H, 4), m30));
        const __m128i q2 = _mm_or_si128(lo_nibbles(B), _mm_and_si128(_mm_slli_epi16(H, 2), m30));
        const __m128i q3 = _mm_or_si128(hi_nibbles(A), _mm_and_si128(H, m30));
        const __m128i q4 = _mm_or_si128(hi_nibbles(B), _mm_and_si128(_mm_srli_epi16(H, 2), m30));
        auto w = [&](__m128i q, int si) { return _mm512_mul_ps(_mm512_set1_ps(d * sc[si]), s8_to_ps(_mm_sub_epi8(q, c32))); };
        sink.put(base + l, w(q1, s), A0);
        sink.put(base + 32 + l, w(q2, s + 2), A1);
        sink.put(base + 64 + l, w(q3, s + 4), A2);
        sink.put(base + 96 + l, w(q4, s + 6), A3);
      }
    }
  }
}

// ---- Q4_1: w = q * d + m (the product is exact, so the fma rounds like the reference's addition)

template <class Sink>
void walk_q4_1(const void* src, int64_t n, Sink& sink) {
  const auto* b = static_cast<const BlockQ4_1*>(src);
  const __m512i m4 = _mm512_set1_epi32(0xF);
  blocks_in_pairs(n / kQK, [&](int64_t i, auto ka, auto kb) {
    const __m512 d = _mm512_set1_ps(h2f(b[i].d)), m = _mm512_set1_ps(h2f(b[i].m));
    const __m512i q = bytes16(b[i].qs);
    sink.put(32 * i, _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_and_si512(q, m4)), d, m), ka);
    sink.put(32 * i + 16, _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(q, 4)), d, m), kb);
  });
}

// ---- Q5_0 / Q5_1: bit e of qh is the fifth bit of element e; it becomes a lane mask that adds 16.

inline uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

template <class Sink>
void walk_q5_0(const void* src, int64_t n, Sink& sink) {
  const auto* b = static_cast<const BlockQ5_0*>(src);
  const __m512i m4 = _mm512_set1_epi32(0xF), c16 = _mm512_set1_epi32(16);
  blocks_in_pairs(n / kQK, [&](int64_t i, auto ka, auto kb) {
    const __m512 d = _mm512_set1_ps(h2f(b[i].d));
    const uint32_t qh = load_u32(b[i].qh);
    const __m512i q = bytes16(b[i].qs);
    __m512i lo = _mm512_and_si512(q, m4), hi = _mm512_srli_epi32(q, 4);
    lo = _mm512_mask_add_epi32(lo, static_cast<__mmask16>(qh), lo, c16);
    hi = _mm512_mask_add_epi32(hi, static_cast<__mmask16>(qh >> 16), hi, c16);
    sink.put(32 * i, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(lo, c16)), d), ka);
    sink.put(32 * i + 16, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(hi, c16)), d), kb);
  });
}

template <class Sink>
void walk_q5_1(const void* src, int64_t n, Sink& sink) {
  const auto* b = static_cast<const BlockQ5_1*>(src);
  const __m512i m4 = _mm512_set1_epi32(0xF), c16 = _mm512_set1_epi32(16);
  blocks_in_pairs(n / kQK, [&](int64_t i, auto ka, auto kb) {
    const __m512 d = _mm512_set1_ps(h2f(b[i].d)), m = _mm512_set1_ps(h2f(b[i].m));
    const uint32_t qh = load_u32(b[i].qh);
    const __m512i q = bytes16(b[i].qs);
    __m512i lo = _mm512_and_si512(q, m4), hi = _mm512_srli_epi32(q, 4);
    lo = _mm512_mask_add_epi32(lo, static_cast<__mmask16>(qh), lo, c16);
    hi = _mm512_mask_add_epi32(hi, static_cast<__mmask16>(qh >> 16), hi, c16);
    sink.put(32 * i, _mm512_fmadd_ps(_mm512_cvtepi32_ps(lo), d, m), ka);
    sink.put(32 * i + 16, _mm512_fmadd_ps(_mm512_cvtepi32_ps(hi), d, m), kb);
  });
}

// ---- Q2_K: w = (d*sc) * q - dmin*m per 16 elements; the 16 bytes of a half feed four shift groups

template <class Sink>
void walk_q2_k(const void* src, int64_t n, Sink& sink) {
  const auto* b = static_cast<const BlockQ2_K*>(src);
  const __m512i m3 = _mm512_set1_epi32(3);
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const float d = h2f(b[i].d), dmin = h2f(b[i].dmin);
    for (int h = 0; h < 2; ++h)
      for (int half = 0; half < 2; ++half) {
        const __m512i Q = bytes16(b[i].qs + 32 * h + 16 * half);
        each_acc([&](auto K) {
          constexpr int g = decltype(K)::k;
          const uint8_t sc = b[i].scales[8 * h + 2 * g + half];
          const __m512 dl = _mm512_set1_ps(d * static_cast<float>(sc & 0xF));
          const __m512 nml = _mm512_set1_ps(-(dmin * static_cast<float>(sc >> 4)));
          const __m512i q = _mm512_and_si512(_mm512_srli_epi32(Q, 2 * g), m3);
          sink.put(256 * i + 128 * h + 32 * g + 16 * half, _mm512_fmadd_ps(_mm512_cvtepi32_ps(q), dl, nml), K);
        });
      }
  }
}

// ---- Q3_K: w = (d*(scale-32)) * (q2 + 4*hbit - 4) per 16 elements

template <class Sink>
void walk_q3_k(const void* src, int64_t n, Sink& sink) {
  const auto* b = static_cast<const BlockQ3_K*>(src);
  const __m512i m3 = _mm512_set1_epi32(3), one = _mm512_set1_epi32(1), c4 = _mm512_set1_epi32(4);
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const float d = h2f(b[i].d);
    float dls[16];
    for (int s = 0; s < 16; ++s) dls[s] = d * static_cast<float>(q3k_scale(s, b[i].scales));
    for (int half = 0; half < 2; ++half) {
      const __m512i HM = bytes16(b[i].hmask + 16 * half);
      for (int h = 0; h < 2; ++h) {
        const __m512i Q = bytes16(b[i].qs + 32 * h + 16 * half);
        each_acc([&](auto K) {
          constexpr int g = decltype(K)::k;
          const __m512 dl = _mm512_set1_ps(dls[8 * h + 2 * g + half]);
          const __m512i q2 = _mm512_and_si512(_mm512_srli_epi32(Q, 2 * g), m3);
          const __m512i hb = _mm512_and_si512(_mm512_srli_epi32(HM, 4 * h + g), one);
          const __m512i code = _mm512_sub_epi32(_mm512_or_si512(q2, _mm512_slli_epi32(hb, 2)), c4);
          sink.put(256 * i + 128 * h + 32 * g + 16 * half, _mm512_mul_ps(dl, _mm512_cvtepi32_ps(code)), K);
        });
      }
    }
  }
}

// ---- Q5_K: as Q4_K with a fifth bit from qh (bit 2c / 2c+1 of qh[l])

template <class Sink>
void walk_q5_k(const void* src, int64_t n, Sink& sink) {
  const auto* b = static_cast<const BlockQ5_K*>(src);
  const __m512i m4 = _mm512_set1_epi32(0xF), one = _mm512_set1_epi32(1);
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const float d = h2f(b[i].d), dmin = h2f(b[i].dmin);
    for (int c = 0; c < 4; ++c) {
      uint8_t sc, m;
      k4_scale_min(2 * c, b[i].scales, &sc, &m);
      const __m512 d1 = _mm512_set1_ps(d * sc), nm1 = _mm512_set1_ps(-(dmin * m));
      k4_scale_min(2 * c + 1, b[i].scales, &sc, &m);
      const __m512 d2 = _mm512_set1_ps(d * sc), nm2 = _mm512_set1_ps(-(dmin * m));
      const int64_t base = 256 * i + 64 * c;
      auto half = [&](int l, auto ka, auto kb) {
        const __m512i q = bytes16(b[i].qs + 32 * c + l), H = bytes16(b[i].qh + l);
        const __m512i lo = _mm512_or_si512(_mm512_and_si512(q, m4),
                                           _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(H, 2 * c), one), 4));
        const __m512i hi = _mm512_or_si512(
            _mm512_srli_epi32(q, 4), _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(H, 2 * c + 1), one), 4));
        sink.put(base + l, _mm512_fmadd_ps(_mm512_cvtepi32_ps(lo), d1, nm1), ka);
        sink.put(base + 32 + l, _mm512_fmadd_ps(_mm512_cvtepi32_ps(hi), d2, nm2), kb);
      };
      half(0, A0, A1);
      half(16, A2, A3);
    }
  }
}

// ---- entry points

template <void (*Walk)(const void*, int64_t, StoreSink&)>
void dequantize(const void* src, float* dst, int64_t n) {
  StoreSink sink{dst};
  Walk(src, n, sink);
}

template <void (*Walk)(const void*, int64_t, DotSink&)>
float dot(const void* row, const float* x, int64_t n) {
  DotSink sink{x};
  Walk(row, n, sink);
  return sink.sum();
}

// dot() of one row after another in one call: a GEMV over short rows pays no dispatch per row (about 3% of an F16
// generation's time went to the per-row calls through vec_dot).
template <void (*Walk)(const void*, int64_t, DotSink&)>
void dot_each(const uint8_t* rows, size_t stride, int64_t nrows, const float* x, int64_t n, float* out) {
  for (int64_t j = 0; j < nrows; ++j) out[j] = dot<Walk>(rows + static_cast<size_t>(j) * stride, x, n);
}

template <template <class> class WalkOf, int M>
void dot_rows(const void* row, const float* x, int64_t ldx, int64_t n, float* out) {
  MultiDotSink<M> sink(x, ldx);
  WalkOf<MultiDotSink<M>>::walk(row, n, sink);
  for (int i = 0; i < M; ++i) out[i] = sink.sum(i);
}

template <template <class> class WalkOf>
void dot_multi(const void* row, const float* x, int64_t ldx, int m, int64_t n, float* out) {
  switch (m) {
    case 2: return dot_rows<WalkOf, 2>(row, x, ldx, n, out);
    case 3: return dot_rows<WalkOf, 3>(row, x, ldx, n, out);
    default: return dot_rows<WalkOf, 4>(row, x, ldx, n, out);
  }
}

// ---- several weight rows against one activation vector (GEMV, m = 1)
//
// With long rows the activation vector no longer stays in L1 beside the weight stream (k = 5632: 22.5 KB of fp32),
// so a per-row dot reloads 64 bytes of x from L2 for every 16 weights. dot_rows walks kLockstepRows rows in lockstep
// instead: each x vector is loaded once and multiplied into every row's own four accumulators. Row j receives
// exactly the FMAs DotSink's would in walk_f32 / walk_f16 / walk_bf16 (chunks of 64 into A0..A3, the remaining
// whole vectors into A0, the masked tail into A0, then (a0 + a1) + (a2 + a3)), so each result is dot()'s, bit for
// bit. (Where x does fit, one row at a time streams faster: quant.cpp decides when to call this.)

// The 16 weights of a float-format row at element offset i (masked: the lanes of m, the others zero).
struct F32Vec {
  static __m512 at(const uint8_t* r, int64_t i) { return _mm512_loadu_ps(reinterpret_cast<const float*>(r) + i); }
  static __m512 masked(const uint8_t* r, int64_t i, __mmask16 m) {
    return _mm512_maskz_loadu_ps(m, reinterpret_cast<const float*>(r) + i);
  }
};
template <class W>
struct HalfVec {
  static __m512 at(const uint8_t* r, int64_t i) { return Halves<W>::x16(reinterpret_cast<const uint16_t*>(r) + i); }
  static __m512 masked(const uint8_t* r, int64_t i, __mmask16 m) {
    return Halves<W>::masked(reinterpret_cast<const uint16_t*>(r) + i, m);
  }
};
using F16Vec = HalfVec<F16Widen>;
using BF16Vec = HalfVec<BF16Widen>;

template <class Vec, int R>
void dot_rows_lockstep(const uint8_t* rows, size_t stride, const float* x, int64_t n, float* out) {
  __m512 acc[R][4];
  const uint8_t* r[R];
  for (int j = 0; j < R; ++j) {
    r[j] = rows + static_cast<size_t>(j) * stride;
    for (int k = 0; k < 4; ++k) acc[j][k] = _mm512_setzero_ps();
  }
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    const __m512 x0 = _mm512_loadu_ps(x + i), x1 = _mm512_loadu_ps(x + i + 16);
    const __m512 x2 = _mm512_loadu_ps(x + i + 32), x3 = _mm512_loadu_ps(x + i + 48);
#pragma GCC unroll 8
    for (int j = 0; j < R; ++j) {
      acc[j][0] = _mm512_fmadd_ps(Vec::at(r[j], i), x0, acc[j][0]);
      acc[j][1] = _mm512_fmadd_ps(Vec::at(r[j], i + 16), x1, acc[j][1]);
      acc[j][2] = _mm512_fmadd_ps(Vec::at(r[j], i + 32), x2, acc[j][2]);
      acc[j][3] = _mm512_fmadd_ps(Vec::at(r[j], i + 48), x3, acc[j][3]);
    }
  }
  for (; i + 16 <= n; i += 16) {
    const __m512 x0 = _mm512_loadu_ps(x + i);
#pragma GCC unroll 8
    for (int j = 0; j < R; ++j) acc[j][0] = _mm512_fmadd_ps(Vec::at(r[j], i), x0, acc[j][0]);
  }
  if (i < n) {
    const auto m = static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m512 x0 = _mm512_maskz_loadu_ps(m, x + i);
#pragma GCC unroll 8
    for (int j = 0; j < R; ++j) acc[j][0] = _mm512_fmadd_ps(Vec::masked(r[j], i, m), x0, acc[j][0]);
  }
#pragma GCC unroll 8
  for (int j = 0; j < R; ++j)
    out[j] = hsum(_mm512_add_ps(_mm512_add_ps(acc[j][0], acc[j][1]), _mm512_add_ps(acc[j][2], acc[j][3])));
}

// Eight rows: 32 accumulators, of which GCC keeps all but a couple in zmm registers. Measured on Zen 4 (F16, one
// thread, 60 MiB of weights per pass): k = 5632 rows one at a time 17.0 GB/s, 4 in lockstep 19.5, 8 in lockstep
// 22.5; k = 8192: 13.4 / 21.1 / 24.8 (2 rows: no better than one).
constexpr int kLockstepRows = 8;

template <class Vec>
void dot_rows(const uint8_t* rows, size_t stride, int64_t nrows, const float* x, int64_t n, float* out) {
  int64_t j = 0;
  for (; j + kLockstepRows <= nrows; j += kLockstepRows)
    dot_rows_lockstep<Vec, kLockstepRows>(rows + j * stride, stride, x, n, out + j);
  if (j + 4 <= nrows) {
    dot_rows_lockstep<Vec, 4>(rows + j * stride, stride, x, n, out + j);
    j += 4;
  }
  const uint8_t* rest = rows + j * stride;
  switch (nrows - j) {
    case 1: return dot_rows_lockstep<Vec, 1>(rest, stride, x, n, out + j);
    case 2: return dot_rows_lockstep<Vec, 2>(rest, stride, x, n, out + j);
    case 3: return dot_rows_lockstep<Vec, 3>(rest, stride, x, n, out + j);
    default: return;
  }
}

// The walkers as class templates over the sink, so dot_multi can instantiate them for each row count.
#define TS_WALKER(name)                                                                   \
  template <class Sink>                                                                   \
  struct name##_of {                                                                      \
    static void walk(const void* src, int64_t n, Sink& sink) { name(src, n, sink); }      \
  };
TS_WALKER(walk_f32)
TS_WALKER(walk_f16)
TS_WALKER(walk_bf16)
TS_WALKER(walk_q8_0)
TS_WALKER(walk_q4_0)
TS_WALKER(walk_q4_k)
TS_WALKER(walk_q6_k)
TS_WALKER(walk_q4_1)
TS_WALKER(walk_q5_0)
TS_WALKER(walk_q5_1)
TS_WALKER(walk_q2_k)
TS_WALKER(walk_q3_k)
TS_WALKER(walk_q5_k)
#undef TS_WALKER

}  // namespace

SimdKernels avx512_kernels(DType t) {
  switch (t) {
    case DType::F32: return {dequantize<walk_f32>, dot<walk_f32>, dot_multi<walk_f32_of>, dot_rows<F32Vec>,
            dot_each<walk_f32>};
    case DType::F16: return {dequantize<walk_f16>, dot<walk_f16>, dot_multi<walk_f16_of>, dot_rows<F16Vec>,
            dot_each<walk_f16>};
    case DType::BF16: return {dequantize<walk_bf16>, dot<walk_bf16>, dot_multi<walk_bf16_of>, dot_rows<BF16Vec>,
            dot_each<walk_bf16>};
    case DType::Q8_0: return {dequantize<walk_q8_0>, dot<walk_q8_0>, dot_multi<walk_q8_0_of>, nullptr,
            dot_each<walk_q8_0>};
    case DType::Q4_0: return {dequantize<walk_q4_0>, dot<walk_q4_0>, dot_multi<walk_q4_0_of>, nullptr,
            dot_each<walk_q4_0>};
    case DType::Q4_K: return {dequantize<walk_q4_k>, dot<walk_q4_k>, dot_multi<walk_q4_k_of>, nullptr,
            dot_each<walk_q4_k>};
    case DType::Q6_K: return {dequantize<walk_q6_k>, dot<walk_q6_k>, dot_multi<walk_q6_k_of>, nullptr,
            dot_each<walk_q6_k>};
    case DType::Q4_1: return {dequantize<walk_q4_1>, dot<walk_q4_1>, dot_multi<walk_q4_1_of>, nullptr,
            dot_each<walk_q4_1>};
    case DType::Q5_0: return {dequantize<walk_q5_0>, dot<walk_q5_0>, dot_multi<walk_q5_0_of>, nullptr,
            dot_each<walk_q5_0>};
    case DType::Q5_1: return {dequantize<walk_q5_1>, dot<walk_q5_1>, dot_multi<walk_q5_1_of>, nullptr,
            dot_each<walk_q5_1>};
    case DType::Q2_K: return {dequantize<walk_q2_k>, dot<walk_q2_k>, dot_multi<walk_q2_k_of>, nullptr,
            dot_each<walk_q2_k>};
    case DType::Q3_K: return {dequantize<walk_q3_k>, dot<walk_q3_k>, dot_multi<walk_q3_k_of>, nullptr,
            dot_each<walk_q3_k>};
    case DType::Q5_K: return {dequantize<walk_q5_k>, dot<walk_q5_k>, dot_multi<walk_q5_k_of>, nullptr,
            dot_each<walk_q5_k>};
    default: return {};
  }
}

}  // namespace ts::quant
