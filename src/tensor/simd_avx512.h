// Internal to src/tensor, for the AVX-512 translation units only (*_avx512.cpp, compiled with -mavx512f ...): the
// horizontal reductions the int8 and int16 activation quantizers share. The order of the adds is part of the
// contract: the GEMMs' pack_a and the GEMVs' quantizers must produce the same bits (tests assert it).
// Internal linkage only (static inline): see the ODR note in quant_impl.h.
#pragma once

#include <immintrin.h>

namespace ts::simd512 {

// max over the 16 lanes: halves, then quarters, then pairs
static inline float hmax(__m512 v) {
  __m256 h = _mm256_max_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
  __m128 q = _mm_max_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  q = _mm_max_ps(q, _mm_movehl_ps(q, q));
  q = _mm_max_ss(q, _mm_movehdup_ps(q));
  return _mm_cvtss_f32(q);
}

// sum over the 16 lanes, in the same tree as hmax
static inline float hsum(__m512 v) {
  __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
  __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  q = _mm_add_ps(q, _mm_movehl_ps(q, q));
  q = _mm_add_ss(q, _mm_movehdup_ps(q));
  return _mm_cvtss_f32(q);
}

}  // namespace ts::simd512
