// The AVX-512 VNNI GEMV of the int16 path (m <= kGemvMaxRows activation rows; contract: matmul_int16.h), and the
// activation quantizer it reads (quantize_rows_avx512). The GEMM's pieces are in matmul_int16_avx512.cpp.
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
using simd512::hmax;
using simd512::hsum;

// ---- the GEMV (m <= kGemvMaxRows): 16 weight rows in the 16 lanes, decoded in registers ----
//
// A group of 16 weight rows is read 16 or 32 bytes per row at a time and transposed (4 × 4 dwords in each 128-bit
// lane) into vectors whose lane L holds 4 consecutive code bytes of one row, the same 4 positions in every lane.
// Each int16 activation is split into bytes, q = 256·qh + ql (ql unsigned, qh signed), stored per quad of elements
// as 4 ql then 4 qh, so that one dword of either, broadcast to every lane, meets the lane's 4 codes in vpdpbusd
// (unsigned × signed bytes, 4 products summed per lane): Σ u·q = Σ u·ql + 256·Σ u·qh, exactly. Lane L of the
// int32 accumulators is then one row's sum: nothing is reduced across lanes, and the decoded codes serve all m rows.
// The integer sub-block sums are exact, in any order. The fp32 operations after them are the GEMM tile's, in its
// order: per k-block (kKc) f = 0, then per sub-block f = fma(float(isum), ws·dx, f) and, with mins,
// f = f − wm·Σx; Y = f for the first k-block and Y + f after. The activations are quantized with pack_a's
// operations (quantize_rows_avx512). So each output is bit-identical to the GEMM's.
//
// Q8_0, Q4_K and Q6_K (the types of Q8_0 and Q4_K_M files) are decoded straight from the rows; the other types go
// through decode_sliver_avx512's u8 codes in a small buffer. A correction per activation row and sub-block
// (quantize_rows_avx512's corr) turns the sums of the codes as they enter into Σ (u − offset)·q.

constexpr int kG = static_cast<int>(kGemvRows);
constexpr int kMaxSub = static_cast<int>(kKc / 16);  // product sub-blocks per k-block, at most

// The 16 rows of one group: row j at p + j·s. The loaders put row lane_row(L) = 4·(L % 4) + L / 4 in lane L (rows
// 4r .. 4r + 3 come from one base address, see RowAddr); the map is its own inverse.
struct Rows16 {
  const uint8_t* p;
  size_t s;
  const uint8_t* row(int j) const { return p + static_cast<size_t>(j) * s; }
};
constexpr int lane_row(int lane) { return 4 * (lane % 4) + lane / 4; }
inline __m512i lane_rows() { return _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15); }

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

// Brings the next group's rows into L2 as one sequential sweep, a few lines between units of work. A group reads
// its 16 rows a k-block at a time: 16 short interleaved streams, which the hardware prefetcher and the DRAM pages
// serve at about half the rate of one sequential stream (measured on Zen 4); the sweep is one such stream, spread
// evenly so that the prefetch queue is not flooded (bursts get dropped).
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

inline __m512i bcast32(const int16_t* q) {
  int32_t v;
  std::memcpy(&v, q, 4);
  return _mm512_set1_epi32(v);
}

// For the quad of activation row i at q + 4i (its four low bytes ql, then its four high bytes qh: q = 256·qh + ql
// with ql unsigned, qh signed), lane-wise: acc[i] += Σ ql·cs and acc[M + i] += Σ cu·qh (vpdpbusd multiplies
// unsigned by signed bytes). cs and cu hold the lane's 4 codes as signed and as unsigned bytes: the same vector
// for codes below 128.
template <int M>
inline void dot_quad(__m512i* acc, __m512i cs, __m512i cu, const int16_t* q) {
#pragma GCC unroll 4
  for (int i = 0; i < M; ++i) {
    acc[i] = _mm512_dpbusd_epi32(acc[i], bcast32(q + 4 * i), cs);
    acc[M + i] = _mm512_dpbusd_epi32(acc[M + i], cu, bcast32(q + 4 * i + 2));
  }
}

template <int M>
inline void zero(__m512i* acc) {
#pragma GCC unroll 8
  for (int c = 0; c < 2 * M; ++c) acc[c] = _mm512_setzero_si512();
}

// isum[i] = Σ c·ql + 256·Σ c·qh = Σ c·q for activation row i.
template <int M>
inline void total(const __m512i* acc, __m512i* isum) {
#pragma GCC unroll 4
  for (int i = 0; i < M; ++i) isum[i] = _mm512_add_epi32(acc[i], _mm512_slli_epi32(acc[M + i], 8));
}

inline __m512i srli16(__m512i v, int n) { return _mm512_srli_epi16(v, static_cast<unsigned>(n)); }
inline __m512i bitselect(__m512i mask, __m512i a, __m512i b) {  // mask ? a : b, bit by bit
  return _mm512_ternarylogic_epi32(b, a, mask, 0xD8);  // b first: the instruction overwrites it
}

// Each type's integer pass over one k-block of a group: isum[s·M + i] (lane L = Σ_{k∈s} c·q of row lane_row(L), c
// the codes as they enter, below), ws[s·16 + L] and wm[s·16 + L] (mins only). off: the k-block's byte offset in
// each row; q: the k-block's activations, the quad of elements e .. e + 3 of row i at q + M·e + 4i.

// Q8_0 (block layout as in ggml-common.h: fp16 d, 32 int8 w): the ql products take w as it is, the qh ones
// u = w + 128 (an unsigned operand), which corr takes back.
template <int M>
void ints_q8_0(const Rows16& R, size_t off, int nb, const int16_t* q, __m512i* isum, float* ws, Sweep& sweep) {
  constexpr size_t kBlock = 34;
  alignas(32) uint16_t d[kKc / 32][kG];
  for (int b = 0; b < nb; ++b)  // the scalar loads run beside the vector work below
#pragma GCC unroll 16
    for (int j = 0; j < kG; ++j) std::memcpy(&d[b][lane_row(j)], R.row(j) + off + kBlock * b, 2);
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  for (int b = 0; b < nb; ++b) {
    sweep.step(1);
    __m512i acc[2 * M];
    zero<M>(acc);
    __m512i v[8];
    load_octets(R, off + kBlock * b + 2, v);
#pragma GCC unroll 8
    for (int c = 0; c < 8; ++c) dot_quad<M>(acc, v[c], _mm512_xor_si512(v[c], flip), q + M * (32 * b + 4 * c));
    total<M>(acc, isum + b * M);
    _mm512_store_ps(ws + kG * b, _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(d[b]))));
  }
}

// Q4_K: one 256-element block (fp16 d, dmin, 12 bytes of 6-bit scales and mins, 128 bytes of nibbles; element
// 64c + l is the low nibble of qs[32c + l], 64c + 32 + l its high nibble).
// The eight scales d·sc and mins dmin·m of the Q4_K block at byte off of the 16 rows (lane order), to
// sink(s, scales, mins).
template <class Sink>
inline void q4_k_scales(const Rows16& R, size_t off, Sink sink) {
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

template <int M>
void ints_q4_k(const Rows16& R, size_t off, const int16_t* q, __m512i* isum, float* ws, float* wm, Sweep& sweep) {
  q4_k_scales(R, off, [&](int s, __m512 sc, __m512 mn) {
    _mm512_store_ps(ws + kG * s, sc);
    _mm512_store_ps(wm + kG * s, mn);
  });
  const __m512i nib = _mm512_set1_epi8(0x0f);
  for (int c = 0; c < 4; ++c) {
    sweep.step(2);
    __m512i lo[2 * M], hi[2 * M];
    zero<M>(lo);
    zero<M>(hi);
    __m512i v[8];
    load_octets(R, off + 16 + 32 * c, v);
#pragma GCC unroll 8
    for (int e = 0; e < 8; ++e) {
      const int16_t* qq = q + M * (64 * c + 4 * e);
      const __m512i l = _mm512_and_si512(v[e], nib), h = _mm512_and_si512(srli16(v[e], 4), nib);
      dot_quad<M>(lo, l, l, qq);
      dot_quad<M>(hi, h, h, qq + 32 * M);
    }
    total<M>(lo, isum + 2 * c * M);
    total<M>(hi, isum + (2 * c + 1) * M);
  }
}

// Q6_K: one 256-element block (ql[128], qh[64], int8 scales[16], fp16 d). In half t (128 elements), element
// 128t + 32p + l (l < 32) has the low (p = 0, 1) or high (p = 2, 3) nibble of ql[64t + 32(p % 2) + l] and bits
// 2p, 2p + 1 of qh[32t + l] on top (as decode_q6_k); sub-blocks of 16.
// The sixteen scales d·sc of the Q6_K block at byte off of the 16 rows (lane order), to sink(s, scales).
template <class Sink>
inline void q6_k_scales(const Rows16& R, size_t off, Sink sink) {
  __m512i sc[4];
  load_quads(R, off + 192, sc);
  // d: the dword at byte 206 of each row's block (scales 14, 15 and d), gathered in lane_row order
  const __m512i idx = _mm512_mullo_epi32(lane_rows(), _mm512_set1_epi32(static_cast<int>(R.s)));
  const __m512i dd = _mm512_i32gather_epi32(idx, R.p + off + 206, 1);
  const __m512 d = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(dd, 16)));
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

template <int M>
void ints_q6_k(const Rows16& R, size_t off, const int16_t* q, __m512i* isum, float* ws, Sweep& sweep) {
  q6_k_scales(R, off, [&](int s, __m512 sc) { _mm512_store_ps(ws + kG * s, sc); });
  for (int t = 0; t < 2; ++t)
    for (int h = 0; h < 2; ++h) {  // bytes l = 16h .. 16h + 15: sub-blocks 8t + h + {0, 2, 4, 6}
      sweep.step(2);
      __m512i qh[4];
      load_quads(R, off + 128 + 32 * t + 16 * h, qh);
#pragma GCC unroll 2
      for (int p = 0; p < 2; ++p) {  // ql[64t + 32p + l]: elements 32p + l (low nibbles) and 64 + 32p + l (high)
        __m512i ql[4], lo[2 * M], hi[2 * M];
        load_quads(R, off + 64 * t + 32 * p + 16 * h, ql);
        zero<M>(lo);
        zero<M>(hi);
#pragma GCC unroll 4
        for (int e = 0; e < 4; ++e) {
          __m512i cl, ch;
          q6_k_codes(ql[e], qh[e], p, &cl, &ch);
          const int16_t* qq = q + M * (128 * t + 32 * p + 16 * h + 4 * e);
          dot_quad<M>(lo, cl, cl, qq);
          dot_quad<M>(hi, ch, ch, qq + 64 * M);
        }
        total<M>(lo, isum + (8 * t + 2 * p + h) * M);
        total<M>(hi, isum + (8 * t + 4 + 2 * p + h) * M);
      }
    }
}

// Any other type: u8 codes (below 64 for all of them) decoded into a buffer (16 rows of kKc), sub-blocks of
// sb = 16 or 32.
template <int M>
void ints_codes(const uint8_t* codes, int64_t kc, int sb, const int16_t* q, __m512i* isum) {
  const Rows16 R{codes, kKc};
  const int units = sb / 16;  // 16-byte units per sub-block
  for (int64_t s = 0; s < kc / sb; ++s) {
    __m512i acc[2 * M];
    zero<M>(acc);
    for (int u = 0; u < units; ++u) {
      __m512i v[4];
      load_quads(R, static_cast<size_t>(sb * s + 16 * u), v);
#pragma GCC unroll 4
      for (int e = 0; e < 4; ++e) dot_quad<M>(acc, v[e], v[e], q + M * (sb * s + 16 * u + 4 * e));
    }
    total<M>(acc, isum + s * M);
  }
}

// The fp32 part of one k-block, as the GEMM tile: Y[i][masked lanes] = [Y +] Σ_s in order. corr: null where it
// would be all zeros (formats with offset 0).
template <int M, bool kMins>
void finish(const __m512i* isum, const float* ws, const float* wm, int64_t ns, const float* dx, const float* sx,
            const int32_t* corr, int64_t lds, float* y, int64_t ldy, __mmask16 mask, bool accumulate) {
#pragma GCC unroll 4
  for (int i = 0; i < M; ++i) {
    const float* dxi = dx + i * lds;
    const float* sxi = sx + i * lds;
    __m512 f = _mm512_setzero_ps();
    for (int64_t s = 0; s < ns; ++s) {
      __m512i v = isum[s * M + i];
      if (corr) v = _mm512_add_epi32(v, _mm512_set1_epi32(corr[i * lds + s]));
      f = _mm512_fmadd_ps(_mm512_cvtepi32_ps(v), _mm512_mul_ps(_mm512_load_ps(ws + kG * s), _mm512_set1_ps(dxi[s])),
                          f);
      if constexpr (kMins) f = _mm512_fnmadd_ps(_mm512_load_ps(wm + kG * s), _mm512_set1_ps(sxi[s]), f);
    }
    f = _mm512_permutexvar_ps(lane_rows(), f);  // rows in order
    float* yi = y + i * ldy;
    if (accumulate) f = _mm512_add_ps(_mm512_maskz_loadu_ps(mask, yi), f);
    _mm512_mask_storeu_ps(yi, mask, f);
  }
}

template <int M>
void gemv_rows(DType t, const Int8Format& f, const WeightView& W, int64_t g0, int64_t g1, const int16_t* q,
               const float* dx, const float* sx, const int32_t* corr, float* Y, int64_t ldy, size_t block_bytes) {
  const int64_t k = W.cols, lds = k / f.sb;
  // not W.row(): an inline function compiled here could stand in for other files' copies (ODR note, quant_impl.h)
  const auto* base = static_cast<const uint8_t*>(W.data);
  alignas(64) __m512i isum[kMaxSub * M];
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
    for (int64_t k0 = 0; k0 < k; k0 += kKc) {
      const int64_t kc = k - k0 < kKc ? k - k0 : kKc, ns = kc / f.sb;
      const size_t off = static_cast<size_t>(k0 / kKc) * block_bytes;
      const int16_t* qk = q + M * k0;
      const int64_t s0 = k0 / f.sb;
      switch (t) {
        case DType::Q8_0: ints_q8_0<M>(R, off, static_cast<int>(kc / 32), qk, isum, ws, sweep); break;
        case DType::Q4_K: ints_q4_k<M>(R, off, qk, isum, ws, wm, sweep); break;
        case DType::Q6_K: ints_q6_k<M>(R, off, qk, isum, ws, sweep); break;
        default:
          sweep.step(static_cast<int>(kc / 32));
          int8_detail::decode_sliver_avx512(t, f, R.p, R.s, kG, kG, k0, kc, &codes[0][0], kKc, ws, wm);
          for (int64_t s = 0; s < ns; ++s) {  // the tables in lane order, as the codes are read
            _mm512_store_ps(ws + kG * s, _mm512_permutexvar_ps(lane_rows(), _mm512_load_ps(ws + kG * s)));
            _mm512_store_ps(wm + kG * s, _mm512_permutexvar_ps(lane_rows(), _mm512_load_ps(wm + kG * s)));
          }
          ints_codes<M>(&codes[0][0], kc, f.sb, qk, isum);
          break;
      }
      const int32_t* ck = f.offset != 0 ? corr + s0 : nullptr;
      if (f.mins)
        finish<M, true>(isum, ws, wm, ns, dx + s0, sx + s0, ck, lds, Y + r0, ldy, mask, k0 > 0);
      else
        finish<M, false>(isum, ws, wm, ns, dx + s0, sx + s0, ck, lds, Y + r0, ldy, mask, k0 > 0);
    }
  }
}

}  // namespace

// Q4_K rows straight into the GEMM's B sliver (matmul_int16.h's layout): 16 rows at a time read and transposed as
// the GEMV reads them (lane L: 4 code bytes of row lane_row(L)), put back in row order with one permute, and each
// dword of 4 codes spread into the two k-pairs of int16 it holds: no byte-code buffer, widening pass or 16×16
// transposes. The codes, scales and mins are decode_row_ref's.
void pack_b_q4_k_avx512(const uint8_t* base, size_t stride, int64_t k0, int64_t kc, int nr, uint8_t* dst) {
  constexpr size_t kBlock = 144;
  auto* w = reinterpret_cast<int32_t*>(dst);
  auto* ws = reinterpret_cast<float*>(dst + kc * nr * 2);
  float* wm = ws + (kc / 32) * nr;
  const __m512i perm = lane_rows(), low = _mm512_set1_epi32(0xff), keep = _mm512_set1_epi32(0x000f000f);
  // the codes of elements E .. E + 3 (4 nibbles in the low nibble of each byte of u, rows in order): pairs E / 2 and
  // E / 2 + 1, as (u0, u1) and (u2, u3) int16
  auto pairs = [&](__m512i u, int64_t e, int g) {
    const __m512i p0 = _mm512_and_si512(bitselect(low, u, _mm512_slli_epi32(u, 8)), keep);
    const __m512i p1 = _mm512_and_si512(bitselect(low, _mm512_srli_epi32(u, 16), _mm512_srli_epi32(u, 8)), keep);
    _mm512_store_si512(w + (e / 2) * nr + 16 * g, p0);
    _mm512_store_si512(w + (e / 2 + 1) * nr + 16 * g, p1);
  };
  for (int g = 0; g < nr / 16; ++g) {
    const Rows16 R{base + static_cast<size_t>(16 * g) * stride, stride};
    for (int64_t i = 0; i < kc / 256; ++i) {
      const size_t off = static_cast<size_t>(k0 / 256 + i) * kBlock;
      q4_k_scales(R, off, [&](int s, __m512 sc, __m512 mn) {
        _mm512_store_ps(ws + (8 * i + s) * nr + 16 * g, _mm512_permutexvar_ps(perm, sc));
        _mm512_store_ps(wm + (8 * i + s) * nr + 16 * g, _mm512_permutexvar_ps(perm, mn));
      });
      for (int c = 0; c < 4; ++c) {
        __m512i v[8];
        load_octets(R, off + 16 + 32 * static_cast<size_t>(c), v);
#pragma GCC unroll 8
        for (int e = 0; e < 8; ++e) {  // byte 32c + 4e + t: low nibble element 64c + 4e + t, high one + 32
          const __m512i x = _mm512_permutexvar_epi32(perm, v[e]);
          pairs(x, 256 * i + 64 * c + 4 * e, g);
          pairs(_mm512_srli_epi32(x, 4), 256 * i + 64 * c + 32 + 4 * e, g);
        }
      }
    }
  }
}

// Q8_0 rows into the B sliver the same way: the stored int8 weights sign-extended (u − 128 with u = w + 128), kc a
// multiple of 32.
void pack_b_q8_0_avx512(const uint8_t* base, size_t stride, int64_t k0, int64_t kc, int nr, uint8_t* dst) {
  constexpr size_t kBlock = 34;
  auto* w = reinterpret_cast<int32_t*>(dst);
  auto* ws = reinterpret_cast<float*>(dst + kc * nr * 2);
  const __m512i perm = lane_rows(), low = _mm512_set1_epi32(0xffff);
  for (int64_t b = 0; b < kc / 32; ++b) {
    const size_t off = static_cast<size_t>(k0 / 32 + b) * kBlock;
    for (int j = 0; j < nr; ++j) {
      uint16_t d;
      std::memcpy(&d, base + static_cast<size_t>(j) * stride + off, 2);
      ws[b * nr + j] = _cvtsh_ss(d);
    }
    for (int g = 0; g < nr / 16; ++g) {
      __m512i v[8];
      load_octets(Rows16{base + static_cast<size_t>(16 * g) * stride, stride}, off + 2, v);
#pragma GCC unroll 8
      for (int e = 0; e < 8; ++e) {  // lane: w0..w3 of elements 32b + 4e .. + 3
        const __m512i x = _mm512_permutexvar_epi32(perm, v[e]);
        const __m512i even = _mm512_srai_epi16(_mm512_slli_epi16(x, 8), 8);  // words: w0, w2
        const __m512i odd = _mm512_srai_epi16(x, 8);                          // words: w1, w3
        const int64_t p = 16 * b + 2 * e;
        _mm512_store_si512(w + p * nr + 16 * g, bitselect(low, even, _mm512_slli_epi32(odd, 16)));
        _mm512_store_si512(w + (p + 1) * nr + 16 * g, bitselect(low, _mm512_srli_epi32(even, 16), odd));
      }
    }
  }
}

}  // namespace ts::int16_detail

namespace ts::int8_detail {

// The int8 path's B sliver (matmul_int8.h: u8 codes [kc/4][nr][4], then ws and wm [kc/sb][nr]) read the same way:
// each lane of 4 codes is already one dword of that layout.
bool pack_b_codes_avx512(DType t, int sb, const uint8_t* base, size_t stride, int64_t k0, int64_t kc, int nr,
                         uint8_t* dst) {
  using int16_detail::lane_rows;
  auto* w = reinterpret_cast<int32_t*>(dst);
  auto* ws = reinterpret_cast<float*>(dst + kc * nr);
  float* wm = ws + (kc / sb) * nr;
  const __m512i perm = lane_rows();
  // native scale s (native_sb elements) of the 16 rows of group g, in lane order, into table tab, repeated for
  // each product sub-block it covers
  auto put = [&](float* tab, int64_t s, int native_sb, int g, __m512 v) {
    const __m512 x = _mm512_permutexvar_ps(perm, v);
    for (int r = 0; r < native_sb / sb; ++r) _mm512_store_ps(tab + (s * (native_sb / sb) + r) * nr + 16 * g, x);
  };
  auto codes = [&](__m512i c, int64_t e, int g) {  // the codes of elements e .. e + 3, lane order
    _mm512_store_si512(w + (e / 4) * nr + 16 * g, _mm512_permutexvar_epi32(perm, c));
  };
  const __m512i nib = _mm512_set1_epi8(0x0f);
  switch (t) {
    case DType::Q4_K:
      for (int g = 0; g < nr / 16; ++g) {
        const int16_detail::Rows16 R{base + static_cast<size_t>(16 * g) * stride, stride};
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
      return true;
    case DType::Q6_K:
      for (int g = 0; g < nr / 16; ++g) {
        const int16_detail::Rows16 R{base + static_cast<size_t>(16 * g) * stride, stride};
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
      return true;
    case DType::Q8_0: {
      const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));  // u = w + 128
      for (int64_t b = 0; b < kc / 32; ++b) {
        const size_t off = static_cast<size_t>(k0 / 32 + b) * 34;
        for (int j = 0; j < nr; ++j) {
          uint16_t d;
          std::memcpy(&d, base + static_cast<size_t>(j) * stride + off, 2);
          const float v = _cvtsh_ss(d);
          for (int r = 0; r < 32 / sb; ++r) ws[(b * (32 / sb) + r) * nr + j] = v;
        }
        for (int g = 0; g < nr / 16; ++g) {
          __m512i v[8];
          int16_detail::load_octets(int16_detail::Rows16{base + static_cast<size_t>(16 * g) * stride, stride},
                                    off + 2, v);
#pragma GCC unroll 8
          for (int e = 0; e < 8; ++e) codes(_mm512_xor_si512(v[e], flip), 32 * b + 4 * e, g);
        }
      }
      return true;
    }
    default:
      return false;
  }
}

}  // namespace ts::int8_detail

namespace ts::int16_detail {

// Q6_K rows into the B sliver the same way (codes − 32 as int16, scales d·sc per 16 elements).
void pack_b_q6_k_avx512(const uint8_t* base, size_t stride, int64_t k0, int64_t kc, int nr, uint8_t* dst) {
  constexpr size_t kBlock = 210;
  auto* w = reinterpret_cast<int32_t*>(dst);
  auto* ws = reinterpret_cast<float*>(dst + kc * nr * 2);
  const __m512i perm = lane_rows(), low = _mm512_set1_epi32(0xff), keep = _mm512_set1_epi32(0x003f003f);
  const __m512i off32 = _mm512_set1_epi16(32);
  auto pairs = [&](__m512i u, int64_t e, int g) {  // as in pack_b_q4_k_avx512, 6-bit codes, offset 32
    const __m512i p0 = _mm512_and_si512(bitselect(low, u, _mm512_slli_epi32(u, 8)), keep);
    const __m512i p1 = _mm512_and_si512(bitselect(low, _mm512_srli_epi32(u, 16), _mm512_srli_epi32(u, 8)), keep);
    _mm512_store_si512(w + (e / 2) * nr + 16 * g, _mm512_sub_epi16(p0, off32));
    _mm512_store_si512(w + (e / 2 + 1) * nr + 16 * g, _mm512_sub_epi16(p1, off32));
  };
  for (int g = 0; g < nr / 16; ++g) {
    const Rows16 R{base + static_cast<size_t>(16 * g) * stride, stride};
    for (int64_t i = 0; i < kc / 256; ++i) {
      const size_t off = static_cast<size_t>(k0 / 256 + i) * kBlock;
      q6_k_scales(R, off, [&](int s, __m512 sc) {
        _mm512_store_ps(ws + (16 * i + s) * nr + 16 * g, _mm512_permutexvar_ps(perm, sc));
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
              pairs(_mm512_permutexvar_epi32(perm, cl), el, g);
              pairs(_mm512_permutexvar_epi32(perm, ch), el + 64, g);
            }
          }
        }
    }
  }
}

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
    case 1: return gemv_rows<1>(t, f, W, g0, g1, q, dx, sx, corr, Y, ldy, block_bytes);
    case 2: return gemv_rows<2>(t, f, W, g0, g1, q, dx, sx, corr, Y, ldy, block_bytes);
    case 3: return gemv_rows<3>(t, f, W, g0, g1, q, dx, sx, corr, Y, ldy, block_bytes);
    default: return gemv_rows<4>(t, f, W, g0, g1, q, dx, sx, corr, Y, ldy, block_bytes);
  }
}

}  // namespace ts::int16_detail
