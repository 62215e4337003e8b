// AVX2 versions of vec_ops.h (compiled with -mavx2 -mfma; called only through the dispatch in vec_ops.cpp).
#include <immintrin.h>

#include <cmath>

#include "tensor/vec_ops_impl.h"

namespace ts::vec_detail {

namespace {

// e^x for x in [−87.3, 88.3] (inputs are clamped: below −87.3 the result is ≈ 1e−38, not 0): Cephes expf.
inline __m256 exp256(__m256 x) {
  x = _mm256_max_ps(_mm256_min_ps(x, _mm256_set1_ps(88.3f)), _mm256_set1_ps(-87.3f));
  const __m256 k = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(k, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  const __m256 y = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
}

inline double hsum_pd(__m256 v) {
  const __m256d s = _mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)), _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
  const __m128d h = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
  return _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
}

inline float hmax_ps(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
  return _mm_cvtss_f32(m);
}

}  // namespace

double exp_shift_sum_avx2(float* x, int64_t n, float shift) {
  const __m256 s = _mm256_set1_ps(shift);
  __m256 acc = _mm256_setzero_ps();
  double total = 0;
  int64_t i = 0, since = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(x + i), s));
    _mm256_storeu_ps(x + i, e);
    acc = _mm256_add_ps(acc, e);
    if (++since == 64) {  // keep fp32 lane sums short
      total += hsum_pd(acc);
      acc = _mm256_setzero_ps();
      since = 0;
    }
  }
  total += hsum_pd(acc);
  for (; i < n; ++i) {
    x[i] = std::exp(x[i] - shift);
    total += x[i];
  }
  return total;
}

void accumulate_logits_avx2(LogitAccumulator& acc, const float* z, int64_t n, float z_target) {
  constexpr int64_t kBlock = 512;
  const __m256 zt = _mm256_set1_ps(z_target);
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t len = n - b < kBlock ? n - b : kBlock;
    const int64_t vec_len = len / 8 * 8;
    const float* zb = z + b;
    __m256 vmax = _mm256_set1_ps(-INFINITY);
    for (int64_t i = 0; i < vec_len; i += 8) {
      const __m256 v = _mm256_loadu_ps(zb + i);
      vmax = _mm256_max_ps(vmax, v);
      acc.greater += __builtin_popcount(_mm256_movemask_ps(_mm256_cmp_ps(v, zt, _CMP_GT_OQ)));
    }
    float bm = hmax_ps(vmax);
    for (int64_t i = vec_len; i < len; ++i) {
      bm = zb[i] > bm ? zb[i] : bm;
      acc.greater += zb[i] > z_target;
    }
    const double bmax = bm;
    if (bmax == -INFINITY) continue;
    if (bmax > acc.m) raise_max(acc, bmax);
    const __m256 m = _mm256_set1_ps(static_cast<float>(acc.m));
    const __m256 lo = _mm256_set1_ps(-87.3f);
    __m256 S = _mm256_setzero_ps(), T = _mm256_setzero_ps(), U = _mm256_setzero_ps();
    for (int64_t i = 0; i < vec_len; i += 8) {
      const __m256 d = _mm256_max_ps(_mm256_sub_ps(_mm256_loadu_ps(zb + i), m), lo);
      const __m256 e = exp256(d);
      S = _mm256_add_ps(S, e);
      T = _mm256_fmadd_ps(e, d, T);
      const __m256 ed = _mm256_mul_ps(e, d);
      U = _mm256_fmadd_ps(ed, d, U);
    }
    acc.S += hsum_pd(S);
    acc.T += hsum_pd(T);
    acc.U += hsum_pd(U);
    for (int64_t i = vec_len; i < len; ++i) {
      if (zb[i] == -INFINITY) continue;
      const double d = static_cast<double>(zb[i]) - acc.m;
      const double e = std::exp(d);
      acc.S += e;
      acc.T += e * d;
      acc.U += e * d * d;
    }
  }
}

// Compare 8 at a time; a lane mask with bits set is rare once the threshold is a top-k minimum, so the bit loop
// seldom runs.
int64_t indices_above_avx2(const float* z, int64_t n, float threshold, int32_t* idx) {
  const __m256 t = _mm256_set1_ps(threshold);
  int64_t c = 0, i = 0;
  for (; i + 8 <= n; i += 8) {
    unsigned mask = static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(z + i), t, _CMP_GT_OQ)));
    while (mask) {
      idx[c++] = static_cast<int32_t>(i + __builtin_ctz(mask));
      mask &= mask - 1;
    }
  }
  for (; i < n; ++i)
    if (z[i] > threshold) idx[c++] = static_cast<int32_t>(i);
  return c;
}

// Every element takes the same vector operations, the tail through masks (as silu_mul_avx512).
void silu_mul_avx2(float* gate, const float* up, int64_t n) {
  auto one = [](__m256 g, __m256 u) {
    const __m256 e = exp256(_mm256_sub_ps(_mm256_setzero_ps(), g));
    return _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(_mm256_set1_ps(1.0f), e)), u);
  };
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(gate + i, one(_mm256_loadu_ps(gate + i), _mm256_loadu_ps(up + i)));
  if (i < n) {
    const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n - i)),
                                         _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    _mm256_maskstore_ps(gate + i, m, one(_mm256_maskload_ps(gate + i, m), _mm256_maskload_ps(up + i, m)));
  }
}

uint64_t sum_words_avx2(const uint64_t* p, int64_t n) {
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    a0 = _mm256_add_epi64(a0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i)));
    a1 = _mm256_add_epi64(a1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 4)));
    a2 = _mm256_add_epi64(a2, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 8)));
    a3 = _mm256_add_epi64(a3, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 12)));
  }
  alignas(32) uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes),
                     _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3)));
  uint64_t s = lanes[0] + lanes[1] + lanes[2] + lanes[3];
  for (; i < n; ++i) s += p[i];
  return s;
}

}  // namespace ts::vec_detail
