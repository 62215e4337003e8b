// The integer GEMMs' weight slivers of Q8_0, Q4_K and Q6_K rows, read straight into their tiles' layouts
// (matmul_int16.h for the int16 path, matmul_int8.h for the int8 one) with the GEMV's loaders (rows16_avx512.h):
// 16 rows at a time, from the row layout (transposed into lanes, then one permute back to row order) or from the
// interleaved one (interleave.h: lanes already in row order); no byte-code buffer, widening pass or 16×16
// transposes. The same bytes as the generic decode_sliver_avx512 + transpose path (the matmul tests compare the
// products with their references and the GEMV with the GEMM bit for bit; interleave_test the two layouts).
//
// Only intrinsics and internal-linkage helpers here: see the ODR note in quant_impl.h.

// GCC 12's AVX-512 headers start results from _mm512_undefined_*(), which its own -Wmaybe-uninitialized then flags
// (GCC bug 105593); the warnings say nothing about this file.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstring>

#include "tensor/matmul_int16.h"
#include "tensor/matmul_int8.h"
#include "tensor/rows16_avx512.h"

namespace ts::int16_detail {

// Q4_K rows straight into the GEMM's B sliver (matmul_int16.h's layout): 16 rows at a time read as the GEMV reads
// them (Src: Rows16 or an Il16), in row order (in_row_order), and each dword of 4 codes spread into the two k-pairs
// of int16 it holds. The codes, scales and mins are decode_row_ref's.
namespace {

template <class Src>
void pack_q4_k(const uint8_t* base, size_t stride, int64_t k0, int64_t kc, int nr, uint8_t* dst) {
  constexpr size_t kBlock = 144;
  auto* w = reinterpret_cast<int32_t*>(dst);
  auto* ws = reinterpret_cast<float*>(dst + kc * nr * 2);
  float* wm = ws + (kc / 32) * nr;
  const __m512i keep = _mm512_set1_epi32(0x000f000f), zero = _mm512_setzero_si512();
  auto pairs = [&](__m512i u, int64_t e, int g) { store_pairs(u, keep, zero, w + (e / 2) * nr + 16 * g, nr); };
  for (int g = 0; g < nr / 16; ++g) {
    const Src R{base + static_cast<size_t>(16 * g) * stride, stride};
    for (int64_t i = 0; i < kc / 256; ++i) {
      const size_t off = static_cast<size_t>(k0 / 256 + i) * kBlock;
      q4_k_scales(R, off, [&](int s, __m512 sc, __m512 mn) {
        _mm512_store_ps(ws + (8 * i + s) * nr + 16 * g, in_row_order<Src>(sc));
        _mm512_store_ps(wm + (8 * i + s) * nr + 16 * g, in_row_order<Src>(mn));
      });
      for (int c = 0; c < 4; ++c) {
        __m512i v[8];
        load_octets(R, off + 16 + 32 * static_cast<size_t>(c), v);
#pragma GCC unroll 8
        for (int e = 0; e < 8; ++e) {  // byte 32c + 4e + t: low nibble element 64c + 4e + t, high one + 32
          const __m512i x = in_row_order<Src>(v[e]);
          pairs(x, 256 * i + 64 * c + 4 * e, g);
          pairs(_mm512_srli_epi32(x, 4), 256 * i + 64 * c + 32 + 4 * e, g);
        }
      }
    }
  }
}

// Q8_0 rows into the B sliver the same way: the stored int8 weights sign-extended (u − 128 with u = w + 128), kc a
// multiple of 32.
template <class Src>
void pack_q8_0(const uint8_t* base, size_t stride, int64_t k0, int64_t kc, int nr, uint8_t* dst) {
  constexpr size_t kBlock = 34;
  auto* w = reinterpret_cast<int32_t*>(dst);
  auto* ws = reinterpret_cast<float*>(dst + kc * nr * 2);
  const __m512i low = _mm512_set1_epi32(0xffff);
  for (int64_t b = 0; b < kc / 32; ++b) {
    const size_t off = static_cast<size_t>(k0 / 32 + b) * kBlock;
    if constexpr (!Src::kRowOrder) {
      for (int j = 0; j < nr; ++j) {
        uint16_t d;
        std::memcpy(&d, base + static_cast<size_t>(j) * stride + off, 2);
        ws[b * nr + j] = _cvtsh_ss(d);
      }
    }
    for (int g = 0; g < nr / 16; ++g) {
      const Src R{base + static_cast<size_t>(16 * g) * stride, stride};
      if constexpr (Src::kRowOrder) _mm512_store_ps(ws + b * nr + 16 * g, load_halves(R, off));
      __m512i v[8];
      load_octets(R, off + 2, v);
#pragma GCC unroll 8
      for (int e = 0; e < 8; ++e) {  // lane: w0..w3 of elements 32b + 4e .. + 3
        const __m512i x = in_row_order<Src>(v[e]);
        const __m512i even = _mm512_srai_epi16(_mm512_slli_epi16(x, 8), 8);  // words: w0, w2
        const __m512i odd = _mm512_srai_epi16(x, 8);                          // words: w1, w3
        const int64_t p = 16 * b + 2 * e;
        _mm512_store_si512(w + p * nr + 16 * g, bitselect(low, even, _mm512_slli_epi32(odd, 16)));
        _mm512_store_si512(w + (p + 1) * nr + 16 * g, bitselect(low, _mm512_srli_epi32(even, 16), odd));
      }
    }
  }
}

}  // namespace

void pack_b_q4_k_avx512(const uint8_t* base, size_t stride, int64_t k0, int64_t kc, int nr, uint8_t* dst,
                        bool interleaved) {
  if (interleaved) return pack_q4_k<Il16Q4_K>(base, stride, k0, kc, nr, dst);
  pack_q4_k<Rows16>(base, stride, k0, kc, nr, dst);
}
void pack_b_q8_0_avx512(const uint8_t* base, size_t stride, int64_t k0, int64_t kc, int nr, uint8_t* dst,
                        bool interleaved) {
  if (interleaved) return pack_q8_0<Il16Q8_0>(base, stride, k0, kc, nr, dst);
  pack_q8_0<Rows16>(base, stride, k0, kc, nr, dst);
}

}  // namespace ts::int16_detail

namespace ts::int8_detail {

// The int8 path's B sliver (matmul_int8.h: u8 codes [kc/4][nr][4], then ws and wm [kc/sb][nr]) read the same way:
// each lane of 4 codes is already one dword of that layout.
namespace {

using int16_detail::in_row_order;
using int16_detail::load_halves;

template <class Src>
void pack_codes(DType t, int sb, const uint8_t* base, size_t stride, int64_t k0, int64_t kc, int nr, uint8_t* dst) {
  auto* w = reinterpret_cast<int32_t*>(dst);
  auto* ws = reinterpret_cast<float*>(dst + kc * nr);
  float* wm = ws + (kc / sb) * nr;
  // native scale s (native_sb elements) of the 16 rows of group g, in lane order, into table tab, repeated for
  // each product sub-block it covers
  auto put = [&](float* tab, int64_t s, int native_sb, int g, __m512 v) {
    const __m512 x = in_row_order<Src>(v);
    for (int r = 0; r < native_sb / sb; ++r) _mm512_store_ps(tab + (s * (native_sb / sb) + r) * nr + 16 * g, x);
  };
  auto codes = [&](__m512i c, int64_t e, int g) {  // the codes of elements e .. e + 3, lane order
    _mm512_store_si512(w + (e / 4) * nr + 16 * g, in_row_order<Src>(c));
  };
  const __m512i nib = _mm512_set1_epi8(0x0f);
  switch (t) {
    case DType::Q4_K:
      for (int g = 0; g < nr / 16; ++g) {
        const Src R{base + static_cast<size_t>(16 * g) * stride, stride};
        for (int64_t i = 0; i < kc / 256; ++i) {
          const size_t off = static_cast<size_t>(k0 / 256 + i) * 144;
          int16_detail::q4_k_scales(R, off, [&](int s, __m512 sc, __m512 mn) {
            put(ws, 8 * i + s, 32, g, sc);
            put(wm, 8 * i + s, 32, g, mn);
          });
          for (int c = 0; c < 4; ++c) {
            __m512i v[8];
            int16_detail::load_octets(R, off + 16 + 32 * static_cast<size_t>(c), v);
#pragma GCC unroll 8
            for (int e = 0; e < 8; ++e) {
              codes(_mm512_and_si512(v[e], nib), 256 * i + 64 * c + 4 * e, g);
              codes(_mm512_and_si512(int16_detail::srli16(v[e], 4), nib), 256 * i + 64 * c + 32 + 4 * e, g);
            }
          }
        }
      }
      return;
    case DType::Q6_K:
      for (int g = 0; g < nr / 16; ++g) {
        const Src R{base + static_cast<size_t>(16 * g) * stride, stride};
        for (int64_t i = 0; i < kc / 256; ++i) {
          const size_t off = static_cast<size_t>(k0 / 256 + i) * 210;
          int16_detail::q6_k_scales(R, off, [&](int s, __m512 sc) { put(ws, 16 * i + s, 16, g, sc); });
          for (int tt = 0; tt < 2; ++tt)
            for (int h = 0; h < 2; ++h) {
              __m512i qh[4];
              int16_detail::load_quads(R, off + 128 + 32 * tt + 16 * h, qh);
              for (int p = 0; p < 2; ++p) {
                __m512i ql[4];
                int16_detail::load_quads(R, off + 64 * tt + 32 * p + 16 * h, ql);
#pragma GCC unroll 4
                for (int e = 0; e < 4; ++e) {
                  __m512i cl, ch;
                  int16_detail::q6_k_codes(ql[e], qh[e], p, &cl, &ch);
                  const int64_t el = 256 * i + 128 * tt + 32 * p + 16 * h + 4 * e;
                  codes(cl, el, g);
                  codes(ch, el + 64, g);
                }
              }
            }
        }
      }
      return;
    case DType::Q8_0: {
      const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));  // u = w + 128
      for (int64_t b = 0; b < kc / 32; ++b) {
        const size_t off = static_cast<size_t>(k0 / 32 + b) * 34;
        if constexpr (!Src::kRowOrder) {
          for (int j = 0; j < nr; ++j) {
            uint16_t d;
            std::memcpy(&d, base + static_cast<size_t>(j) * stride + off, 2);
            const float v = _cvtsh_ss(d);
            for (int r = 0; r < 32 / sb; ++r) ws[(b * (32 / sb) + r) * nr + j] = v;
          }
        }
        for (int g = 0; g < nr / 16; ++g) {
          const Src R{base + static_cast<size_t>(16 * g) * stride, stride};
          if constexpr (Src::kRowOrder) put(ws, b, 32, g, load_halves(R, off));
          __m512i v[8];
          int16_detail::load_octets(R, off + 2, v);
#pragma GCC unroll 8
          for (int e = 0; e < 8; ++e) codes(_mm512_xor_si512(v[e], flip), 32 * b + 4 * e, g);
        }
      }
      return;
    }
    default:
      return;
  }
}

}  // namespace

bool pack_b_codes_avx512(DType t, int sb, const uint8_t* base, size_t stride, int64_t k0, int64_t kc, int nr,
                         uint8_t* dst, bool interleaved) {
  if (t != DType::Q4_K && t != DType::Q6_K && t != DType::Q8_0) return false;
  if (!interleaved) {
    pack_codes<int16_detail::Rows16>(t, sb, base, stride, k0, kc, nr, dst);
  } else if (t == DType::Q4_K) {
    pack_codes<int16_detail::Il16Q4_K>(t, sb, base, stride, k0, kc, nr, dst);
  } else if (t == DType::Q6_K) {
    pack_codes<int16_detail::Il16Q6_K>(t, sb, base, stride, k0, kc, nr, dst);
  } else {
    pack_codes<int16_detail::Il16Q8_0>(t, sb, base, stride, k0, kc, nr, dst);
  }
  return true;
}

}  // namespace ts::int8_detail

namespace ts::int16_detail {

// Q6_K rows into the B sliver the same way (codes − 32 as int16, scales d·sc per 16 elements).
namespace {

template <class Src>
void pack_q6_k(const uint8_t* base, size_t stride, int64_t k0, int64_t kc, int nr, uint8_t* dst) {
  constexpr size_t kBlock = 210;
  auto* w = reinterpret_cast<int32_t*>(dst);
  auto* ws = reinterpret_cast<float*>(dst + kc * nr * 2);
  const __m512i keep = _mm512_set1_epi32(0x003f003f), off32 = _mm512_set1_epi16(32);
  auto pairs = [&](__m512i u, int64_t e, int g) { store_pairs(u, keep, off32, w + (e / 2) * nr + 16 * g, nr); };
  for (int g = 0; g < nr / 16; ++g) {
    const Src R{base + static_cast<size_t>(16 * g) * stride, stride};
    for (int64_t i = 0; i < kc / 256; ++i) {
      const size_t off = static_cast<size_t>(k0 / 256 + i) * kBlock;
      q6_k_scales(R, off, [&](int s, __m512 sc) {
        _mm512_store_ps(ws + (16 * i + s) * nr + 16 * g, in_row_order<Src>(sc));
      });
      for (int t = 0; t < 2; ++t)
        for (int h = 0; h < 2; ++h) {
          __m512i qh[4];
          load_quads(R, off + 128 + 32 * t + 16 * h, qh);
          for (int p = 0; p < 2; ++p) {
            __m512i ql[4];
            load_quads(R, off + 64 * t + 32 * p + 16 * h, ql);
#pragma GCC unroll 4
            for (int e = 0; e < 4; ++e) {
              __m512i cl, ch;
              q6_k_codes(ql[e], qh[e], p, &cl, &ch);
              const int64_t el = 256 * i + 128 * t + 32 * p + 16 * h + 4 * e;
              pairs(in_row_order<Src>(cl), el, g);
              pairs(in_row_order<Src>(ch), el + 64, g);
            }
          }
        }
    }
  }
}

}  // namespace

void pack_b_q6_k_avx512(const uint8_t* base, size_t stride, int64_t k0, int64_t kc, int nr, uint8_t* dst,
                        bool interleaved) {
  if (interleaved) return pack_q6_k<Il16Q6_K>(base, stride, k0, kc, nr, dst);
  pack_q6_k<Rows16>(base, stride, k0, kc, nr, dst);
}

}  // namespace ts::int16_detail
