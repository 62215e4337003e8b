// Internal to src/tensor, for the AVX-512 translation units only (*_avx512.cpp): the int16 GEMV's row loaders and
// K-quant decoders, shared with the integer GEMMs' sliver packers (matmul_pack_avx512.cpp). They read a group of 16
// weight rows into vectors whose lane L holds 4 consecutive code bytes of one row, the same 4 positions in every
// lane, from either layout:
//   Rows16  the file's row layout: each row read 16 or 32 bytes at a time and transposed (4 × 4 dwords in each
//           128-bit lane); lane L holds row lane_row(L)
//   Il16    the interleaved layout (interleave.h): one 64-byte load per vector; lane L holds row L
// Both take byte offsets as in a row of the row layout. Everything here has internal linkage (an anonymous
// namespace): see the ODR note in quant_impl.h.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "tensor/interleave.h"

namespace ts::int16_detail {
namespace {

// The 16 rows of one group: row j at p + j·s. The loaders put row lane_row(L) = 4·(L % 4) + L / 4 in lane L (rows
// 4r .. 4r + 3 come from one base address, see RowAddr); the map is its own inverse.
constexpr int lane_row(int lane) { return 4 * (lane % 4) + lane / 4; }
inline __m512i lane_rows() { return _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15); }

struct Rows16 {
  const uint8_t* p;
  size_t s;
  static constexpr bool kRowOrder = false;  // lanes hold rows lane_row(L)
  const uint8_t* row(int j) const { return p + static_cast<size_t>(j) * s; }
};

// The 16 rows of one interleaved group at p (interleave.h) of a type with B-byte blocks split into H head bytes,
// D body dwords and T tail bytes, body quads in order or (kQ6K) at kQ6KQuadPosition; s: the row bytes (the group
// takes 16·s).
template <size_t B, size_t H, size_t D, size_t T, bool kQ6K = false>
struct Il16 {
  const uint8_t* p;
  size_t s;
  static constexpr bool kRowOrder = true;  // lane L holds row L
  // The 16 dwords at byte off of each row (in a block's body), and the ones after it up to the end of its quad.
  const uint8_t* body(size_t off) const {
    const size_t b = off / B, c = (off % B - H) / 4;
    const size_t at = kQ6K ? 4 * static_cast<size_t>(kQ6KQuadPosition[c / 4]) + c % 4 : c;
    return p + b * 16 * B + 16 * H + 64 * at;
  }
  // The 16 rows' two bytes at byte off (a block's head or tail, H or T = 2).
  const uint8_t* pair(size_t off) const {
    const size_t b = off / B, w = off % B;
    return p + b * 16 * B + (w < H ? 2 * w : 16 * H + 64 * D + 16 * (w - H - 4 * D));
  }
};
using Il16Q8_0 = Il16<34, 2, 8, 0>;
using Il16Q4_K = Il16<144, 0, 36, 0>;
using Il16Q6_K = Il16<210, 0, 52, 2, true>;

// v in row order: permuted for the row layout, as it is for the interleaved one.
template <class Src>
inline __m512i in_row_order(__m512i v) {
  if constexpr (Src::kRowOrder) return v;
  return _mm512_permutexvar_epi32(lane_rows(), v);
}
template <class Src>
inline __m512 in_row_order(__m512 v) {
  if constexpr (Src::kRowOrder) return v;
  return _mm512_permutexvar_ps(lane_rows(), v);
}

// Rows 4r .. 4r + 3 at byte off, as quad(r) + {0, 1, 2, 3}·stride: four registers for sixteen rows. The base and
// stride are made opaque at each use: left alone, GCC keeps the sixteen addresses live across the loops, spills
// them to vector registers and moves them back for every load (measured: 14% slower for Q8_0).
struct RowAddr {
  const uint8_t* base;
  size_t stride, stride3;
  RowAddr(const Rows16& R, size_t off) : base(R.p + off), stride(R.s) {
    __asm__ volatile("" : "+r"(base), "+r"(stride));
    stride3 = 3 * stride;
  }
  const uint8_t* quad(int r) const { return base + static_cast<size_t>(4 * r) * stride; }
};

inline __m128i load128(const uint8_t* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }

inline __m256i load256(const uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }

// 4 × 4 dword transposes in each 128-bit lane: v[d] lane 4c + r = a[r] lane 4c + d.
inline void transpose4(const __m512i* a, __m512i* v) {
  const __m512i t0 = _mm512_unpacklo_epi32(a[0], a[1]), t1 = _mm512_unpackhi_epi32(a[0], a[1]);
  const __m512i t2 = _mm512_unpacklo_epi32(a[2], a[3]), t3 = _mm512_unpackhi_epi32(a[2], a[3]);
  v[0] = _mm512_unpacklo_epi64(t0, t2);
  v[1] = _mm512_unpackhi_epi64(t0, t2);
  v[2] = _mm512_unpacklo_epi64(t1, t3);
  v[3] = _mm512_unpackhi_epi64(t1, t3);
}

// v[d] lane L = the dword at byte off + 4d of row lane_row(L), d < 4.
inline void load_quads(const Rows16& R, size_t off, __m512i* v) {
  const RowAddr row(R, off);
  __m512i a[4];
#pragma GCC unroll 4
  for (int r = 0; r < 4; ++r) {  // 128-bit lane c of a[r]: row 4r + c
    const uint8_t* p = row.quad(r);
    __m512i z = _mm512_castsi128_si512(load128(p));
    z = _mm512_inserti32x4(z, load128(p + row.stride), 1);
    z = _mm512_inserti32x4(z, load128(p + 2 * row.stride), 2);
    a[r] = _mm512_inserti32x4(z, load128(p + row.stride3), 3);
  }
  transpose4(a, v);
}

template <size_t B, size_t H, size_t D, size_t T, bool Q>
inline void load_quads(const Il16<B, H, D, T, Q>& G, size_t off, __m512i* v) {  // off: a quad's first dword
  const uint8_t* p = G.body(off);
#pragma GCC unroll 4
  for (int d = 0; d < 4; ++d) v[d] = _mm512_loadu_si512(p + 64 * d);
}
template <size_t B, size_t H, size_t D, size_t T, bool Q>
inline void load_octets(const Il16<B, H, D, T, Q>& G, size_t off, __m512i* v) {
  if constexpr (Q) {  // two quads, each where the order puts it
    load_quads(G, off, v);
    load_quads(G, off + 16, v + 4);
  } else {
    const uint8_t* p = G.body(off);
#pragma GCC unroll 8
    for (int d = 0; d < 8; ++d) v[d] = _mm512_loadu_si512(p + 64 * d);
  }
}

// The 16 rows' fp16 values at byte off (lane order of the layout), widened.
inline __m512 load_halves(const Rows16& R, size_t off) {
  // the dword ending with the two bytes (off >= 2) or starting with them, gathered in lane_row order
  const __m512i idx = _mm512_mullo_epi32(lane_rows(), _mm512_set1_epi32(static_cast<int>(R.s)));
  if (off >= 2)
    return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(_mm512_i32gather_epi32(idx, R.p + off - 2, 1), 16)));
  return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_i32gather_epi32(idx, R.p + off, 1)));
}
template <size_t B, size_t H, size_t D, size_t T, bool Q>
inline __m512 load_halves(const Il16<B, H, D, T, Q>& G, size_t off) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(G.pair(off))));
}

// v[d] lane L = the dword at byte off + 4d of row lane_row(L), d < 8: the same as load_quads at off and off + 16,
// with 32-byte loads (fewer shuffles).
inline void load_octets(const Rows16& R, size_t off, __m512i* v) {
  const RowAddr row(R, off);
  __m512i a[4], b[4];
#pragma GCC unroll 4
  for (int r = 0; r < 4; ++r) {  // z0: rows 4r, 4r + 1; z1: rows 4r + 2, 4r + 3; 32 bytes each
    const uint8_t* p = row.quad(r);
    const __m512i z0 = _mm512_inserti64x4(_mm512_castsi256_si512(load256(p)), load256(p + row.stride), 1);
    const __m512i z1 =
        _mm512_inserti64x4(_mm512_castsi256_si512(load256(p + 2 * row.stride)), load256(p + row.stride3), 1);
    a[r] = _mm512_shuffle_i64x2(z0, z1, _MM_SHUFFLE(2, 0, 2, 0));  // bytes 0..15 of rows 4r .. 4r + 3
    b[r] = _mm512_shuffle_i64x2(z0, z1, _MM_SHUFFLE(3, 1, 3, 1));  // bytes 16..31
  }
  transpose4(a, v);
  transpose4(b, v + 4);
}

// Brings the next group's rows into L2 as one sequential sweep, a few lines between units of work (the GEMVs of
// matmul_gemv_avx512.cpp and matmul_gemv1_avx512.cpp). A group in the row layout reads its 16 rows a k-block at a
// time: 16 short interleaved streams, which the hardware prefetcher and the DRAM pages serve at about half the rate
// of one sequential stream (measured on Zen 4); the sweep is one such stream, spread evenly so that the prefetch
// queue is not flooded (bursts get dropped).
class Sweep {
 public:
  // The lines of [p, p + bytes), spread over `steps` calls of step(1) (steps > 0).
  void start(const uint8_t* p, size_t bytes, int64_t steps) {
    p_ = reinterpret_cast<const char*>(p);
    end_ = p_ + bytes;
    per_step_ = (static_cast<int64_t>(bytes + 63) / 64 + steps - 1) / steps;
  }
  void step(int n) {
    for (int64_t i = per_step_ * n; i > 0 && p_ < end_; --i, p_ += 64) _mm_prefetch(p_, _MM_HINT_T1);
  }

 private:
  const char *p_ = nullptr, *end_ = nullptr;
  int64_t per_step_ = 0;
};

// 4 bytes at q (an activation quad's low or high bytes) in every dword lane.
template <class T>
inline __m512i bcast32(const T* q) {
  int32_t v;
  std::memcpy(&v, q, 4);
  return _mm512_set1_epi32(v);
}

inline __m512i srli16(__m512i v, int n) { return _mm512_srli_epi16(v, static_cast<unsigned>(n)); }
inline __m512i bitselect(__m512i mask, __m512i a, __m512i b) {  // mask ? a : b, bit by bit
  return _mm512_ternarylogic_epi32(b, a, mask, 0xD8);  // b first: the instruction overwrites it
}

// The eight scales d·sc and mins dmin·m of the Q4_K block at byte off of the 16 rows (lane order), to
// sink(s, scales, mins).
template <class Src, class Sink>
inline void q4_k_scales(const Src& R, size_t off, Sink sink) {
  __m512i h[4];  // d | dmin; scale / min bytes 0..3, 4..7, 8..11 (packing as in decode_q45_k)
  load_quads(R, off, h);
  const __m512 d = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(h[0]));
  const __m512 dmin = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(h[0], 16)));
  const __m512i lo4 = _mm512_set1_epi32(0x0f0f0f0f), six = _mm512_set1_epi32(0x3f);
  // scales and mins 4..7: the low nibbles of bytes 8..11 (their high ones), bits 6, 7 of bytes 0..3 (4..7) on top
  const __m512i sc_hi = bitselect(lo4, h[3], _mm512_srli_epi32(h[1], 2));
  const __m512i m_hi = bitselect(lo4, _mm512_srli_epi32(h[3], 4), _mm512_srli_epi32(h[2], 2));
#pragma GCC unroll 8
  for (int s = 0; s < 8; ++s) {
    const unsigned sh = 8 * (s % 4);
    const __m512i sc = _mm512_and_si512(_mm512_srli_epi32(s < 4 ? h[1] : sc_hi, sh), six);
    const __m512i mn = _mm512_and_si512(_mm512_srli_epi32(s < 4 ? h[2] : m_hi, sh), six);
    sink(s, _mm512_mul_ps(d, _mm512_cvtepi32_ps(sc)), _mm512_mul_ps(dmin, _mm512_cvtepi32_ps(mn)));
  }
}

// The sixteen scales d·sc of the Q6_K block at byte off of the 16 rows (lane order), to sink(s, scales).
template <class Src, class Sink>
inline void q6_k_scales(const Src& R, size_t off, Sink sink) {
  __m512i sc[4];
  load_quads(R, off + 192, sc);
  const __m512 d = load_halves(R, off + 208);
#pragma GCC unroll 16
  for (int s = 0; s < 16; ++s) {
    const __m512i v = _mm512_srai_epi32(_mm512_slli_epi32(sc[s / 4], 24 - 8 * (s % 4)), 24);
    sink(s, _mm512_mul_ps(d, _mm512_cvtepi32_ps(v)));
  }
}

// The Q6_K codes (0..63, one per byte) of quad e of ql (p: which 32 of the half's 64 ql bytes) with their qh bits:
// *cl the low nibbles' elements 32p + l, *ch the high nibbles' 64 + 32p + l.
inline void q6_k_codes(__m512i ql, __m512i qh, int p, __m512i* cl, __m512i* ch) {
  const __m512i lo4 = _mm512_set1_epi32(0x0f0f0f0f);
  // the qh bit pairs each code takes, left in bits 4, 5 of every byte (the masks keep the bytes clean)
  const __m512i a = _mm512_and_si512(qh, _mm512_set1_epi32(p == 0 ? 0x33333333 : static_cast<int>(0xcccccccc)));
  const __m512i top_lo = p == 0 ? _mm512_slli_epi16(a, 4) : _mm512_slli_epi16(a, 2);
  const __m512i top_hi = p == 0 ? a : srli16(a, 2);
  *cl = bitselect(lo4, ql, top_lo);
  *ch = bitselect(lo4, srli16(ql, 4), top_hi);
}

// The codes of 4 consecutive elements per lane (one per byte, rows in order; keep: the code bits in each int16,
// 0x000f000f or 0x003f003f) as the B sliver's two int16 k-pairs (u0, u1) at dst and (u2, u3) at dst + nr, each code
// less the format's offset.
inline void store_pairs(__m512i u, __m512i keep, __m512i offset, int32_t* dst, int nr) {
  const __m512i low = _mm512_set1_epi32(0xff);
  const __m512i p0 = _mm512_and_si512(bitselect(low, u, _mm512_slli_epi32(u, 8)), keep);
  const __m512i p1 = _mm512_and_si512(bitselect(low, _mm512_srli_epi32(u, 16), _mm512_srli_epi32(u, 8)), keep);
  _mm512_store_si512(dst, _mm512_sub_epi16(p0, offset));
  _mm512_store_si512(dst + nr, _mm512_sub_epi16(p1, offset));
}

}  // namespace
}  // namespace ts::int16_detail
