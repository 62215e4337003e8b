// AVX-512 versions of vec_ops.h (compiled with -mavx512f …; called only through the dispatch in vec_ops.cpp).

// GCC 12's AVX-512 headers start results from _mm512_undefined_*(), which its own -Wuninitialized then flags in
// _mm512_reduce_add_pd (GCC bug 105593); the warning says nothing about this file.
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <cmath>

#include "tensor/vec_ops_impl.h"

namespace ts::vec_detail {

namespace {

// e^x for x in [−104, 88.7]: x = k·ln2 + r, |r| ≤ ln2/2, e^r by the Cephes expf polynomial, then ·2^k (scalef,
// which flushes to 0 far below the normal range).
inline __m512 exp512(__m512 x) {
  x = _mm512_max_ps(_mm512_min_ps(x, _mm512_set1_ps(88.7f)), _mm512_set1_ps(-104.0f));
  const __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(k, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  const __m512 r2 = _mm512_mul_ps(r, r);
  const __m512 y = _mm512_add_ps(_mm512_fmadd_ps(p, r2, r), _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(y, k);
}

inline double hsum_pd(__m512 v) {
  const __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(v));
  const __m512d hi = _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1));
  return _mm512_reduce_add_pd(_mm512_add_pd(lo, hi));
}

}  // namespace

double exp_shift_sum_avx512(float* x, int64_t n, float shift) {
  const __m512 s = _mm512_set1_ps(shift);
  __m512d acc = _mm512_setzero_pd();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 e = exp512(_mm512_sub_ps(_mm512_loadu_ps(x + i), s));
    _mm512_storeu_ps(x + i, e);
    acc = _mm512_add_pd(acc, _mm512_cvtps_pd(_mm512_castps512_ps256(e)));
    acc = _mm512_add_pd(acc, _mm512_cvtps_pd(_mm512_extractf32x8_ps(e, 1)));
  }
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m512 e = exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), s));
    _mm512_mask_storeu_ps(x + i, m, e);
    const __m512 em = _mm512_maskz_mov_ps(m, e);
    acc = _mm512_add_pd(acc, _mm512_cvtps_pd(_mm512_castps512_ps256(em)));
    acc = _mm512_add_pd(acc, _mm512_cvtps_pd(_mm512_extractf32x8_ps(em, 1)));
  }
  return _mm512_reduce_add_pd(acc);
}

// Blocks of up to 1024 logits (in L1): the block's maximum first, the accumulators rescaled once if it rises, then
// e^{z−m}, e^{z−m}(z−m) and e^{z−m}(z−m)² summed in fp32 lanes (at most 64 terms per lane) and added to the double
// totals.
void accumulate_logits_avx512(LogitAccumulator& acc, const float* z, int64_t n, float z_target) {
  constexpr int64_t kBlock = 1024;
  const __m512 zt = _mm512_set1_ps(z_target);
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t len = n - b < kBlock ? n - b : kBlock;
    const float* zb = z + b;
    __m512 vmax = _mm512_set1_ps(-INFINITY);
    int64_t i = 0;
    for (; i + 16 <= len; i += 16) {
      const __m512 v = _mm512_loadu_ps(zb + i);
      vmax = _mm512_max_ps(vmax, v);
      acc.greater += __builtin_popcount(_mm512_cmp_ps_mask(v, zt, _CMP_GT_OQ));
    }
    const __mmask16 tail = i < len ? static_cast<__mmask16>((1u << (len - i)) - 1) : 0;
    if (tail) {
      const __m512 v = _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), tail, zb + i);
      vmax = _mm512_max_ps(vmax, v);
      acc.greater += __builtin_popcount(_mm512_cmp_ps_mask(v, zt, _CMP_GT_OQ));
    }
    const double bmax = _mm512_reduce_max_ps(vmax);
    if (bmax == -INFINITY) continue;  // every p in the block is 0
    if (bmax > acc.m) raise_max(acc, bmax);
    const __m512 m = _mm512_set1_ps(static_cast<float>(acc.m));
    const __m512 lo = _mm512_set1_ps(-104.0f);
    __m512 S = _mm512_setzero_ps(), T = _mm512_setzero_ps(), U = _mm512_setzero_ps();
    for (i = 0; i + 16 <= len; i += 16) {
      const __m512 d = _mm512_max_ps(_mm512_sub_ps(_mm512_loadu_ps(zb + i), m), lo);
      const __m512 e = exp512(d);
      S = _mm512_add_ps(S, e);
      T = _mm512_fmadd_ps(e, d, T);
      const __m512 ed = _mm512_mul_ps(e, d);
      U = _mm512_fmadd_ps(ed, d, U);
    }
    if (tail) {
      const __m512 d = _mm512_max_ps(_mm512_sub_ps(_mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), tail, zb + i), m), lo);
      const __m512 e = _mm512_maskz_mov_ps(tail, exp512(d));
      S = _mm512_add_ps(S, e);
      T = _mm512_fmadd_ps(e, d, T);
      const __m512 ed = _mm512_mul_ps(e, d);
      U = _mm512_fmadd_ps(ed, d, U);
    }
    acc.S += hsum_pd(S);
    acc.T += hsum_pd(T);
    acc.U += hsum_pd(U);
  }
}

int64_t indices_above_avx512(const float* z, int64_t n, float threshold, int32_t* idx) {
  const __m512 t = _mm512_set1_ps(threshold);
  __m512i ids = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i step = _mm512_set1_epi32(16);
  int64_t c = 0, i = 0;
  for (; i + 16 <= n; i += 16) {
    const __mmask16 k = _mm512_cmp_ps_mask(_mm512_loadu_ps(z + i), t, _CMP_GT_OQ);
    if (k) {
      _mm512_mask_compressstoreu_epi32(idx + c, k, ids);
      c += __builtin_popcount(k);
    }
    ids = _mm512_add_epi32(ids, step);
  }
  for (; i < n; ++i)
    if (z[i] > threshold) idx[c++] = static_cast<int32_t>(i);
  return c;
}

// Every element takes the same vector operations, the tail through masks: an element's value does not depend on
// where a call's range starts or ends (the model's batch invariance relies on that).
void silu_mul_avx512(float* gate, const float* up, int64_t n) {
  auto one = [](__m512 g, __m512 u) {
    const __m512 e = exp512(_mm512_sub_ps(_mm512_setzero_ps(), g));
    return _mm512_mul_ps(_mm512_div_ps(g, _mm512_add_ps(_mm512_set1_ps(1.0f), e)), u);
  };
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(gate + i, one(_mm512_loadu_ps(gate + i), _mm512_loadu_ps(up + i)));
  if (i < n) {
    const auto m = static_cast<__mmask16>((1u << (n - i)) - 1);
    _mm512_mask_storeu_ps(gate + i, m, one(_mm512_maskz_loadu_ps(m, gate + i), _mm512_maskz_loadu_ps(m, up + i)));
  }
}

// Four independent accumulators of 64-byte loads: one core's loads keep up with its share of the memory.
uint64_t sum_words_avx512(const uint64_t* p, int64_t n) {
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 = _mm512_add_epi64(a0, _mm512_loadu_si512(p + i));
    a1 = _mm512_add_epi64(a1, _mm512_loadu_si512(p + i + 8));
    a2 = _mm512_add_epi64(a2, _mm512_loadu_si512(p + i + 16));
    a3 = _mm512_add_epi64(a3, _mm512_loadu_si512(p + i + 24));
  }
  uint64_t s = static_cast<uint64_t>(
      _mm512_reduce_add_epi64(_mm512_add_epi64(_mm512_add_epi64(a0, a1), _mm512_add_epi64(a2, a3))));
  for (; i < n; ++i) s += p[i];
  return s;
}

}  // namespace ts::vec_detail
