// AVX2 + FMA + F16C kernels for the row operations of quant.h; chosen at run time by quant.cpp.
//
// Same design as quant_kernels_avx512.cpp with 8-wide vectors: one walker per format decodes weights into fp32
// vectors, bit-identical to the scalar reference, and hands them to a sink that stores them (dequantize_row) or
// multiplies-accumulates them with the activations in four fp32 accumulators (vec_dot). Accumulators are named by
// compile-time tags (A0..A3) so that they stay in ymm registers (see quant_kernels_avx512.cpp).
//
// Only intrinsics and internal-linkage helpers here: see the ODR note in quant_impl.h.
#include <immintrin.h>

#include "tensor/quant_impl.h"

namespace ts::quant {
namespace {

inline float hsum(__m256 v) {
  __m128 q = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  q = _mm_add_ps(q, _mm_movehl_ps(q, q));
  q = _mm_add_ss(q, _mm_movehdup_ps(q));
  return _mm_cvtss_f32(q);
}

// Accumulator tags: put(off, w, A2) adds w * x[off..off+8) into accumulator 2.
template <int K>
struct Acc {
  static constexpr int k = K;
};
constexpr Acc<0> A0{};
constexpr Acc<1> A1{};
constexpr Acc<2> A2{};
constexpr Acc<3> A3{};

// f(A0) .. f(A3), for loops whose counter picks the accumulator (k = decltype(K)::k inside f).
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
  void put(int64_t off, __m256 w, Acc<K>) { _mm256_storeu_ps(dst + off, w); }
  void put_scalar(int64_t off, float w) { dst[off] = w; }
};

struct DotSink {
  const float* x;
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  float tail = 0.0f;
  template <int K>
  void put(int64_t off, __m256 w, Acc<K>) { acc[K] = _mm256_fmadd_ps(w, _mm256_loadu_ps(x + off), acc[K]); }
  void put_scalar(int64_t off, float w) { tail += w * x[off]; }
  float sum() const {
    return hsum(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]))) + tail;
  }
};

inline float h2f(uint16_t h) { return _cvtsh_ss(h); }

inline __m128i load16(const uint8_t* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }
// Bytes 0..7 / 8..15 of a 16-byte vector -> 8 int32 lanes, zero-extended.
inline __m256i lo8(__m128i v) { return _mm256_cvtepu8_epi32(v); }
inline __m256i hi8(__m128i v) { return _mm256_cvtepu8_epi32(_mm_srli_si128(v, 8)); }

// ---- F32 / F16 / BF16: n need not be a multiple of 8; the tail is scalar.

template <class Sink>
void walk_f32(const void* src, int64_t n, Sink& sink) {
  const auto* s = static_cast<const float*>(src);
  int64_t i = 0;
  for (; i + 32 <= n; i += 32)
    each_acc([&](auto K) { sink.put(i + 8 * K.k, _mm256_loadu_ps(s + i + 8 * K.k), K); });
  for (; i + 8 <= n; i += 8) sink.put(i, _mm256_loadu_ps(s + i), A0);
  for (; i < n; ++i) sink.put_scalar(i, s[i]);
}

inline __m256 f16x8(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }

template <class Sink>
void walk_f16(const void* src, int64_t n, Sink& sink) {
  const auto* s = static_cast<const uint16_t*>(src);
  int64_t i = 0;
  for (; i + 32 <= n; i += 32)
    each_acc([&](auto K) { sink.put(i + 8 * K.k, f16x8(s + i + 8 * K.k), K); });
  for (; i + 8 <= n; i += 8) sink.put(i, f16x8(s + i), A0);
  for (; i < n; ++i) sink.put_scalar(i, h2f(s[i]));
}

inline __m256 bf16x8(const uint16_t* p) {
  const __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}

template <class Sink>
void walk_bf16(const void* src, int64_t n, Sink& sink) {
  const auto* s = static_cast<const uint16_t*>(src);
  int64_t i = 0;
  for (; i + 32 <= n; i += 32)
    each_acc([&](auto K) { sink.put(i + 8 * K.k, bf16x8(s + i + 8 * K.k), K); });
  for (; i + 8 <= n; i += 8) sink.put(i, bf16x8(s + i), A0);
  for (; i < n; ++i) sink.put_scalar(i, bf16_bits_to_float(s[i]));
}

// ---- Q8_0: w = d * q

template <class Sink>
void walk_q8_0(const void* src, int64_t n, Sink& sink) {
  const auto* b = static_cast<const BlockQ8_0*>(src);
  for (int64_t i = 0; i < n / kQK; ++i) {
    const __m256 d = _mm256_set1_ps(h2f(b[i].d));
    const auto* q = reinterpret_cast<const uint8_t*>(b[i].qs);
    each_acc([&](auto K) {
      const __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(q + 8 * K.k));
      sink.put(32 * i + 8 * K.k, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(v))), K);
    });
  }
}

// ---- Q4_0: w = (q - 8) * d, low nibbles elements 0..15, high nibbles 16..31

template <class Sink>
void walk_q4_0(const void* src, int64_t n, Sink& sink) {
  const auto* b = static_cast<const BlockQ4_0*>(src);
  const __m256i m4 = _mm256_set1_epi32(0xF), eight = _mm256_set1_epi32(8);
  for (int64_t i = 0; i < n / kQK; ++i) {
    const __m256 d = _mm256_set1_ps(h2f(b[i].d));
    const __m128i v = load16(b[i].qs);
    const __m256i q[2] = {lo8(v), hi8(v)};
    auto half = [&](int h, auto ka, auto kb) {
      const __m256 lo = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_and_si256(q[h], m4), eight));
      const __m256 hi = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32(q[h], 4), eight));
      sink.put(32 * i + 8 * h, _mm256_mul_ps(lo, d), ka);
      sink.put(32 * i + 16 + 8 * h, _mm256_mul_ps(hi, d), kb);
    };
    half(0, A0, A2);
    half(1, A1, A3);
  }
}

// ---- Q4_K: w = (d*sc) * q - dmin*m per 32 elements

template <class Sink>
void walk_q4_k(const void* src, int64_t n, Sink& sink) {
  const auto* b = static_cast<const BlockQ4_K*>(src);
  const __m256i m4 = _mm256_set1_epi32(0xF);
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const float d = h2f(b[i].d), dmin = h2f(b[i].dmin);
    for (int c = 0; c < 4; ++c) {
      uint8_t sc, m;
      k4_scale_min(2 * c, b[i].scales, &sc, &m);
      const __m256 d1 = _mm256_set1_ps(d * sc), nm1 = _mm256_set1_ps(-(dmin * m));
      k4_scale_min(2 * c + 1, b[i].scales, &sc, &m);
      const __m256 d2 = _mm256_set1_ps(d * sc), nm2 = _mm256_set1_ps(-(dmin * m));
      const int64_t base = 256 * i + 64 * c;
      for (int l = 0; l < 32; l += 16) {
        const __m128i v = load16(b[i].qs + 32 * c + l);
        const __m256i q[2] = {lo8(v), hi8(v)};
        auto half = [&](int h, auto ka, auto kb) {
          const int64_t off = base + l + 8 * h;
          sink.put(off, _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_and_si256(q[h], m4)), d1, nm1), ka);
          sink.put(off + 32, _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(q[h], 4)), d2, nm2), kb);
        };
        half(0, A0, A2);
        half(1, A1, A3);
      }
    }
  }
}

// ---- Q6_K: w = (d*sc) * (q - 32) per 16 elements, q = 4 low bits from ql | 2 high bits from qh

template <class Sink>
void walk_q6_k(const void* src, int64_t n, Sink& sink) {
  const auto* b = static_cast<const BlockQ6_K*>(src);
  const __m256i m4 = _mm256_set1_epi32(0xF), m3 = _mm256_set1_epi32(3), c32 = _mm256_set1_epi32(32);
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const float d = h2f(b[i].d);
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = b[i].ql + 64 * h;
      const uint8_t* qh = b[i].qh + 32 * h;
      const int8_t* sc = b[i].scales + 8 * h;
      const int64_t base = 256 * i + 128 * h;
      for (int l = 0; l < 32; l += 8) {
        const int s = l / 16;
        auto bytes8 = [](const uint8_t* p) {
          return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
        };
        const __m256i A = bytes8(ql + l), B = bytes8(ql + 32 + l), H = bytes8(qh + l);
        const __m256i q1 = _mm256_or_si256(_mm256_and_si256(A, m4), _mm256_slli_epi32(_mm256_and_si256(H, m3), 4));
        const __m256i q2 = _mm256_or_si256(_mm256_and_si256(B, m4),
                                           _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(H, 2), m3), 4));
        const __m256i q3 = _mm256_or_si256(_mm256_srli_epi32(A, 4),
                                           _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(H, 4), m3), 4));
        const __m256i q4 = _mm256_or_si256(_mm256_srli_epi32(B, 4), _mm256_slli_epi32(_mm256_srli_epi32(H, 6), 4));
        auto w = [&](__m256i q, int si) {
          return _mm256_mul_ps(_mm256_set1_ps(d * sc[si]), _mm256_cvtepi32_ps(_mm256_sub_epi32(q, c32)));
        };
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
  const __m256i m4 = _mm256_set1_epi32(0xF);
  for (int64_t i = 0; i < n / kQK; ++i) {
    const __m256 d = _mm256_set1_ps(h2f(b[i].d)), m = _mm256_set1_ps(h2f(b[i].m));
    const __m128i v = load16(b[i].qs);
    const __m256i q[2] = {lo8(v), hi8(v)};
    auto half = [&](int h, auto ka, auto kb) {
      sink.put(32 * i + 8 * h, _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_and_si256(q[h], m4)), d, m), ka);
      sink.put(32 * i + 16 + 8 * h, _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(q[h], 4)), d, m), kb);
    };
    half(0, A0, A2);
    half(1, A1, A3);
  }
}

// ---- Q5_0 / Q5_1: bit e of qh is the fifth bit of element e, moved to bit 4 of lane e by a variable shift.

// Lanes j = 0..7 get bit (first + j) of qh, at bit 4.
inline __m256i fifth_bits(uint32_t qh, int first) {
  const __m256i shifts = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i bits = _mm256_srlv_epi32(_mm256_set1_epi32(static_cast<int>(qh >> first)), shifts);
  return _mm256_slli_epi32(_mm256_and_si256(bits, _mm256_set1_epi32(1)), 4);
}

template <bool kHasMin, class Block, class Sink>
void walk_q5_legacy(const Block* b, int64_t n, Sink& sink) {
  const __m256i m4 = _mm256_set1_epi32(0xF), c16 = _mm256_set1_epi32(16);
  for (int64_t i = 0; i < n / kQK; ++i) {
    const __m256 d = _mm256_set1_ps(h2f(b[i].d));
    uint32_t qh;
    std::memcpy(&qh, b[i].qh, 4);
    const __m128i v = load16(b[i].qs);
    const __m256i q[2] = {lo8(v), hi8(v)};
    auto half = [&](int h, auto ka, auto kb) {
      const __m256i lo = _mm256_or_si256(_mm256_and_si256(q[h], m4), fifth_bits(qh, 8 * h));
      const __m256i hi = _mm256_or_si256(_mm256_srli_epi32(q[h], 4), fifth_bits(qh, 16 + 8 * h));
      if constexpr (kHasMin) {
        const __m256 m = _mm256_set1_ps(h2f(b[i].m));
        sink.put(32 * i + 8 * h, _mm256_fmadd_ps(_mm256_cvtepi32_ps(lo), d, m), ka);
        sink.put(32 * i + 16 + 8 * h, _mm256_fmadd_ps(_mm256_cvtepi32_ps(hi), d, m), kb);
      } else {
        sink.put(32 * i + 8 * h, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(lo, c16)), d), ka);
        sink.put(32 * i + 16 + 8 * h, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(hi, c16)), d), kb);
      }
    };
    half(0, A0, A2);
    half(1, A1, A3);
  }
}

template <class Sink>
void walk_q5_0(const void* src, int64_t n, Sink& sink) {
  walk_q5_legacy<false>(static_cast<const BlockQ5_0*>(src), n, sink);
}
template <class Sink>
void walk_q5_1(const void* src, int64_t n, Sink& sink) {
  walk_q5_legacy<true>(static_cast<const BlockQ5_1*>(src), n, sink);
}

// ---- Q2_K: w = (d*sc) * q - dmin*m per 16 elements; the 16 bytes of a half feed four shift groups

template <class Sink>
void walk_q2_k(const void* src, int64_t n, Sink& sink) {
  const auto* b = static_cast<const BlockQ2_K*>(src);
  const __m256i m3 = _mm256_set1_epi32(3);
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const float d = h2f(b[i].d), dmin = h2f(b[i].dmin);
    for (int h = 0; h < 2; ++h)
      for (int half = 0; half < 2; ++half) {
        const __m128i v = load16(b[i].qs + 32 * h + 16 * half);
        const __m256i Q[2] = {lo8(v), hi8(v)};
        each_acc([&](auto K) {
          constexpr int g = decltype(K)::k;
          const uint8_t sc = b[i].scales[8 * h + 2 * g + half];
          const __m256 dl = _mm256_set1_ps(d * static_cast<float>(sc & 0xF));
          const __m256 nml = _mm256_set1_ps(-(dmin * static_cast<float>(sc >> 4)));
          for (int e = 0; e < 2; ++e) {
            const __m256i q = _mm256_and_si256(_mm256_srli_epi32(Q[e], 2 * g), m3);
            sink.put(256 * i + 128 * h + 32 * g + 16 * half + 8 * e, _mm256_fmadd_ps(_mm256_cvtepi32_ps(q), dl, nml),
                     K);
          }
        });
      }
  }
}

// ---- Q3_K: w = (d*(scale-32)) * (q2 + 4*hbit - 4) per 16 elements

template <class Sink>
void walk_q3_k(const void* src, int64_t n, Sink& sink) {
  const auto* b = static_cast<const BlockQ3_K*>(src);
  const __m256i m3 = _mm256_set1_epi32(3), one = _mm256_set1_epi32(1), c4 = _mm256_set1_epi32(4);
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const float d = h2f(b[i].d);
    float dls[16];
    for (int s = 0; s < 16; ++s) dls[s] = d * static_cast<float>(q3k_scale(s, b[i].scales));
    for (int half = 0; half < 2; ++half) {
      const __m128i hv = load16(b[i].hmask + 16 * half);
      const __m256i HM[2] = {lo8(hv), hi8(hv)};
      for (int h = 0; h < 2; ++h) {
        const __m128i v = load16(b[i].qs + 32 * h + 16 * half);
        const __m256i Q[2] = {lo8(v), hi8(v)};
        each_acc([&](auto K) {
          constexpr int g = decltype(K)::k;
          const __m256 dl = _mm256_set1_ps(dls[8 * h + 2 * g + half]);
          for (int e = 0; e < 2; ++e) {
            const __m256i q2 = _mm256_and_si256(_mm256_srli_epi32(Q[e], 2 * g), m3);
            const __m256i hb = _mm256_and_si256(_mm256_srli_epi32(HM[e], 4 * h + g), one);
            const __m256i code = _mm256_sub_epi32(_mm256_or_si256(q2, _mm256_slli_epi32(hb, 2)), c4);
            sink.put(256 * i + 128 * h + 32 * g + 16 * half + 8 * e, _mm256_mul_ps(dl, _mm256_cvtepi32_ps(code)), K);
          }
        });
      }
    }
  }
}

// ---- Q5_K: as Q4_K with a fifth bit from qh (bit 2c / 2c+1 of qh[l])

template <class Sink>
void walk_q5_k(const void* src, int64_t n, Sink& sink) {
  const auto* b = static_cast<const BlockQ5_K*>(src);
  const __m256i m4 = _mm256_set1_epi32(0xF), one = _mm256_set1_epi32(1);
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const float d = h2f(b[i].d), dmin = h2f(b[i].dmin);
    for (int c = 0; c < 4; ++c) {
      uint8_t sc, m;
      k4_scale_min(2 * c, b[i].scales, &sc, &m);
      const __m256 d1 = _mm256_set1_ps(d * sc), nm1 = _mm256_set1_ps(-(dmin * m));
      k4_scale_min(2 * c + 1, b[i].scales, &sc, &m);
      const __m256 d2 = _mm256_set1_ps(d * sc), nm2 = _mm256_set1_ps(-(dmin * m));
      const int64_t base = 256 * i + 64 * c;
      for (int l = 0; l < 32; l += 16) {
        const __m128i v = load16(b[i].qs + 32 * c + l), hv = load16(b[i].qh + l);
        const __m256i q[2] = {lo8(v), hi8(v)}, H[2] = {lo8(hv), hi8(hv)};
        auto part = [&](int e, auto ka, auto kb) {
          const __m256i lo = _mm256_or_si256(
              _mm256_and_si256(q[e], m4), _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(H[e], 2 * c), one), 4));
          const __m256i hi = _mm256_or_si256(
              _mm256_srli_epi32(q[e], 4), _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(H[e], 2 * c + 1), one), 4));
          sink.put(base + l + 8 * e, _mm256_fmadd_ps(_mm256_cvtepi32_ps(lo), d1, nm1), ka);
          sink.put(base + 32 + l + 8 * e, _mm256_fmadd_ps(_mm256_cvtepi32_ps(hi), d2, nm2), kb);
        };
        part(0, A0, A2);
        part(1, A1, A3);
      }
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

// ---- several weight rows against one activation vector (GEMV, m = 1): the lockstep walk of
// quant_kernels_avx512.cpp with 8-wide vectors. Row j receives exactly the operations DotSink's would in walk_f32 /
// walk_f16 / walk_bf16 (chunks of 32 into A0..A3, the remaining whole vectors into A0, the scalar tail into its own
// sum in order), reduced the same way, so each result is dot()'s, bit for bit.

// The 8 weights of a float-format row at element offset i, and the single weight at i.
struct F32Vec {
  static __m256 at(const uint8_t* r, int64_t i) { return _mm256_loadu_ps(reinterpret_cast<const float*>(r) + i); }
  static float one(const uint8_t* r, int64_t i) { return reinterpret_cast<const float*>(r)[i]; }
};
struct F16Vec {
  static __m256 at(const uint8_t* r, int64_t i) { return f16x8(reinterpret_cast<const uint16_t*>(r) + i); }
  static float one(const uint8_t* r, int64_t i) { return h2f(reinterpret_cast<const uint16_t*>(r)[i]); }
};
struct BF16Vec {
  static __m256 at(const uint8_t* r, int64_t i) { return bf16x8(reinterpret_cast<const uint16_t*>(r) + i); }
  static float one(const uint8_t* r, int64_t i) { return bf16_bits_to_float(reinterpret_cast<const uint16_t*>(r)[i]); }
};

template <class Vec, int R>
void dot_rows_lockstep(const uint8_t* rows, size_t stride, const float* x, int64_t n, float* out) {
  __m256 acc[R][4];
  float tail[R];
  const uint8_t* r[R];
  for (int j = 0; j < R; ++j) {
    r[j] = rows + static_cast<size_t>(j) * stride;
    for (int k = 0; k < 4; ++k) acc[j][k] = _mm256_setzero_ps();
    tail[j] = 0.0f;
  }
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    each_acc([&](auto K) {
      const __m256 xk = _mm256_loadu_ps(x + i + 8 * K.k);
#pragma GCC unroll 8
      for (int j = 0; j < R; ++j) acc[j][K.k] = _mm256_fmadd_ps(Vec::at(r[j], i + 8 * K.k), xk, acc[j][K.k]);
    });
  }
  for (; i + 8 <= n; i += 8) {
    const __m256 x0 = _mm256_loadu_ps(x + i);
#pragma GCC unroll 8
    for (int j = 0; j < R; ++j) acc[j][0] = _mm256_fmadd_ps(Vec::at(r[j], i), x0, acc[j][0]);
  }
  for (; i < n; ++i)
    for (int j = 0; j < R; ++j) tail[j] += Vec::one(r[j], i) * x[i];
#pragma GCC unroll 8
  for (int j = 0; j < R; ++j)
    out[j] = hsum(_mm256_add_ps(_mm256_add_ps(acc[j][0], acc[j][1]), _mm256_add_ps(acc[j][2], acc[j][3]))) + tail[j];
}

// Eight rows, although 32 accumulators do not fit in 16 ymm registers: the walk is bound by the weight stream, and
// the spilled accumulators stay in L1. Measured with these kernels on Zen 4 (F16, one thread), GB/s for 1 / 4 / 8
// rows: k = 5632 15.1 / 19.4 / 20.4, k = 8192 12.3 / 21.7 / 24.3.
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

}  // namespace

SimdKernels avx2_kernels(DType t) {
  switch (t) {
    case DType::F32: return {dequantize<walk_f32>, dot<walk_f32>, nullptr, dot_rows<F32Vec>, dot_each<walk_f32>};
    case DType::F16: return {dequantize<walk_f16>, dot<walk_f16>, nullptr, dot_rows<F16Vec>, dot_each<walk_f16>};
    case DType::BF16: return {dequantize<walk_bf16>, dot<walk_bf16>, nullptr, dot_rows<BF16Vec>, dot_each<walk_bf16>};
    case DType::Q8_0: return {dequantize<walk_q8_0>, dot<walk_q8_0>, nullptr, nullptr, dot_each<walk_q8_0>};
    case DType::Q4_0: return {dequantize<walk_q4_0>, dot<walk_q4_0>, nullptr, nullptr, dot_each<walk_q4_0>};
    case DType::Q4_K: return {dequantize<walk_q4_k>, dot<walk_q4_k>, nullptr, nullptr, dot_each<walk_q4_k>};
    case DType::Q6_K: return {dequantize<walk_q6_k>, dot<walk_q6_k>, nullptr, nullptr, dot_each<walk_q6_k>};
    case DType::Q4_1: return {dequantize<walk_q4_1>, dot<walk_q4_1>, nullptr, nullptr, dot_each<walk_q4_1>};
    case DType::Q5_0: return {dequantize<walk_q5_0>, dot<walk_q5_0>, nullptr, nullptr, dot_each<walk_q5_0>};
    case DType::Q5_1: return {dequantize<walk_q5_1>, dot<walk_q5_1>, nullptr, nullptr, dot_each<walk_q5_1>};
    case DType::Q2_K: return {dequantize<walk_q2_k>, dot<walk_q2_k>, nullptr, nullptr, dot_each<walk_q2_k>};
    case DType::Q3_K: return {dequantize<walk_q3_k>, dot<walk_q3_k>, nullptr, nullptr, dot_each<walk_q3_k>};
    case DType::Q5_K: return {dequantize<walk_q5_k>, dot<walk_q5_k>, nullptr, nullptr, dot_each<walk_q5_k>};
    default: return {};
  }
}

}  // namespace ts::quant
