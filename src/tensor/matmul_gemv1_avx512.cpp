// The int16 GEMV for one activation row (generation) over interleaved Q4_K and Q6_K weights (the types of a Q4_K_M
// file): gemv1_avx512 in matmul_int16.h. The general GEMV (matmul_gemv_avx512.cpp) runs these for any number of rows;
// for one row this one does less per group of 16 weight rows:
//   * the scales go from the block straight into the fp32 part, in registers: no scale tables stored and reloaded,
//     no call per k-block;
//   * the next group is swept into L2 while a group runs (Sweep). One row of Q4_K_M decodes fast enough to keep up
//     with one core's stream only when the data is already on its way: without the sweep a core's out-of-order
//     window reaches ~1-2 KB ahead of the decode, which is not enough when the memory is fast.
// Measured on Zen 4 (2 cores), 2 threads streaming a Q4_K_M layer set (Q4_K 5632 × 2048 × 2, Q6_K 2048 × 5632,
// Q4_K 2048 × 2048 × 2; 8 copies) against a plain read of the same bytes right after, in alternation; the machine's
// memory flips between a slow state (2-thread read 33-36 GB/s) and a fast one (53-62 GB/s). Median GEMV / read over
// five runs of 400-1200 samples (the last, 900 samples, in brackets):
//   general GEMV        slow 0.856-0.882 (0.882)   fast 0.669-0.678 (0.678)
//   the same + sweep                     (0.869)                    (0.712)
//   this file           slow 0.859-0.880 (0.862)   fast 0.689-0.750 (0.750)
// So +5-10% where the memory is fast, within ±2% where it is slow in this harness; end to end (tokenscope bench,
// Q4_K_M, -p 0 -n 48, builds alternating) the sweep gave +11-15% in the fast state (60 -> 68-70 tokens/s) and
// -4-7% in the slow one (49-50 -> 46-47). Hence gemv_avx512 times its one-row calls and runs whichever of the two
// kernels measured faster lately (one_row_kernel below): three alternating runs of 10-12 rounds, medians,
// general / this kernel always / the choice: fast state 61.6 / 65.7 / 64.6, 59.4 / 68.5 / 65.5, 60.5 / 67.0 / 65.7;
// slow state 47.9 / 47.3 / 51.2, 49.2 / 46.1 / 50.5, 43.5 / 43.7 / 46.4 tokens/s.
// From L2 (one thread, 512 × 2048): Q4_K 20.6 -> 19.6 µs, Q6_K 28.2 -> 28.1 µs.
// Tried and left: two groups side by side (each activation broadcast then serves 32 rows; from L2 Q4_K 16.3 µs, Q6_K
// 22.4 µs) reads two streams per core and lost a quarter end to end (Q4_K_M tg 60 -> 45 tokens/s in the fast state,
// 49 -> 42 in the slow one); sweeping 1-8 KB ahead instead of a group: slower in both states (2 KB: fast 0.51).
//
// The integer sums are exact in any order; the fp32 operations per output are the general GEMV's finish (and so the
// GEMM tile's), in its order: per k-block of kKc, f = 0, then per sub-block s in order
// f = fma(float(isum_s + corr_s), ws_s·dx_s, f) and, with mins, f = f − wm_s·Σx_s; Y = f, or Y + f after the first
// k-block. ws_s and wm_s are q4_k_scales' / q6_k_scales' products, as the tables hold them. So every output is
// bit-identical to the general GEMV's (tests/tensor/interleave_test.cpp: each kernel forced, and the choice, against
// the row layout, which runs the general one).
//
// Only intrinsics and internal-linkage helpers here: see the ODR note in quant_impl.h.

// GCC 12's AVX-512 headers start results from _mm512_undefined_*(), which its own -Wmaybe-uninitialized then flags
// (GCC bug 105593); the warnings say nothing about this file.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <atomic>
#include <cstring>

#include "tensor/matmul_int16.h"
#include "tensor/rows16_avx512.h"

namespace ts::int16_detail {
namespace {

constexpr int kG = static_cast<int>(kGemvRows);

// The activation row's quad of elements e .. e + 3 sits at q + e (quantize_rows_avx512 with m = 1): its four low
// bytes ql, then its four high bytes qh. acc[0] += Σ ql·c, acc[1] += Σ c·qh (c: the lanes' 4 codes, below 128, so
// the same bytes serve as signed and as unsigned operand); the sum is acc[0] + 256·acc[1].
inline void dot(__m512i* acc, __m512i c, const int16_t* q) {
  acc[0] = _mm512_dpbusd_epi32(acc[0], bcast32(q), c);
  acc[1] = _mm512_dpbusd_epi32(acc[1], c, bcast32(q + 2));
}
inline __m512i total(const __m512i* acc) { return _mm512_add_epi32(acc[0], _mm512_slli_epi32(acc[1], 8)); }

inline void zero(__m512i* acc, int n) {
  for (int i = 0; i < n; ++i) acc[i] = _mm512_setzero_si512();
}

// One sub-block's step of the fp32 chain.
inline __m512 step(__m512 f, __m512i isum, __m512 ws, float dx) {
  return _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_mul_ps(ws, _mm512_set1_ps(dx)), f);
}

inline void store(float* y, __m512 f, bool accumulate) {
  if (accumulate) f = _mm512_add_ps(_mm512_loadu_ps(y), f);
  _mm512_storeu_ps(y, f);
}

// One group of Q4_K rows: per 256-element block, 8 sub-blocks of 32; element 64c + l is the low nibble of byte
// 32c + l of the block's 128 code bytes, 64c + 32 + l its high nibble (as ints_q4_k).
void q4_k(const Il16Q4_K& R, int64_t k, size_t block_bytes, const int16_t* q, const float* dx, const float* sx,
          float* y, Sweep& sweep) {
  const __m512i nib = _mm512_set1_epi8(0x0f);
  for (int64_t kb = 0; kb < k / kKc; ++kb) {
    const size_t off = static_cast<size_t>(kb) * block_bytes;
    const int16_t* qk = q + kKc * kb;
    __m512i isum[8];
    for (int c = 0; c < 4; ++c) {
      sweep.step(1);
      const uint8_t* p = R.body(off + 16 + 32 * c);
      __m512i lo[2], hi[2];
      zero(lo, 2), zero(hi, 2);
#pragma GCC unroll 8
      for (int e = 0; e < 8; ++e) {
        const int16_t* qq = qk + 64 * c + 4 * e;
        const __m512i v = _mm512_loadu_si512(p + 64 * e);
        dot(lo, _mm512_and_si512(v, nib), qq);
        dot(hi, _mm512_and_si512(srli16(v, 4), nib), qq + 32);
      }
      isum[2 * c] = total(lo), isum[2 * c + 1] = total(hi);
    }
    const float* dxk = dx + 8 * kb;
    const float* sxk = sx + 8 * kb;
    __m512 f = _mm512_setzero_ps();
    q4_k_scales(R, off, [&](int s, __m512 ws, __m512 wm) {
      f = step(f, isum[s], ws, dxk[s]);
      f = _mm512_fnmadd_ps(wm, _mm512_set1_ps(sxk[s]), f);
    });
    store(y, f, kb > 0);
  }
}

// One group of Q6_K rows: per 256-element block, 16 sub-blocks of 16 (layout: ints_q6_k). Half t of the block holds
// sub-blocks 8t .. 8t + 7, so their fp32 steps run after that half's integer pass, in order.
void q6_k(const Il16Q6_K& R, int64_t k, size_t block_bytes, const int16_t* q, const float* dx, const int32_t* corr,
          float* y, Sweep& sweep) {
  for (int64_t kb = 0; kb < k / kKc; ++kb) {
    const size_t off = static_cast<size_t>(kb) * block_bytes;
    const int16_t* qk = q + kKc * kb;
    __m512 f = _mm512_setzero_ps();
    for (int t = 0; t < 2; ++t) {
      __m512i isum[8];  // sub-blocks 8t + j
      for (int h = 0; h < 2; ++h) {  // bytes l = 16h .. 16h + 15 of the half's ql and qh rows
        sweep.step(1);
        __m512i qh[4];
        load_quads(R, off + 128 + 32 * t + 16 * h, qh);
#pragma GCC unroll 2
        for (int p = 0; p < 2; ++p) {  // elements 32p + l (low nibbles) and 64 + 32p + l (high)
          const uint8_t* ql = R.body(off + 64 * t + 32 * p + 16 * h);
          __m512i lo[2], hi[2];
          zero(lo, 2), zero(hi, 2);
#pragma GCC unroll 4
          for (int e = 0; e < 4; ++e) {
            const int16_t* qq = qk + 128 * t + 32 * p + 16 * h + 4 * e;
            __m512i cl, ch;
            q6_k_codes(_mm512_loadu_si512(ql + 64 * e), qh[e], p, &cl, &ch);
            dot(lo, cl, qq);
            dot(hi, ch, qq + 64);
          }
          isum[2 * p + h] = total(lo), isum[4 + 2 * p + h] = total(hi);
        }
      }
      const float* dxt = dx + 16 * kb + 8 * t;
      const int32_t* ct = corr + 16 * kb + 8 * t;
      q6_k_scales(R, off, [&](int s, __m512 ws) {
        if (s / 8 != t) return;  // (unrolled: the other half's scales are never computed)
        const int j = s % 8;
        f = step(f, _mm512_add_epi32(isum[j], _mm512_set1_epi32(ct[j])), ws, dxt[j]);
      });
    }
    store(y, f, kb > 0);
  }
}

// Groups [g0, g1) of W in order, one sequential stream; while a group runs, the next one is swept into L2.
template <class Src, class Run>
void groups(const WeightView& W, int64_t g0, int64_t g1, float* Y, Run&& run) {
  const auto* base = static_cast<const uint8_t*>(W.data);
  const size_t group_bytes = static_cast<size_t>(kG) * W.row_stride;
  Sweep sweep;
  for (int64_t g = g0; g < g1; ++g) {
    const Src R{base + static_cast<size_t>(g) * group_bytes, W.row_stride};
    sweep.start(R.p + group_bytes, g + 1 < g1 ? group_bytes : 0, W.cols / 64);  // steps: 4 per k-block
    run(R, Y + g * kG, sweep);
  }
}

// The sweep pays where the memory is fast and costs where it is slow (see the top of the file), and the machine's
// memory flips between the two states every few seconds to a minute; so one-row products time themselves and
// follow the faster of the two kernels, per matrix shape and type: cycles per weight byte of each, averaged over
// the last ~16 calls it ran, and every 16th call runs the other one to notice a change of state.
struct Choice {
  std::atomic<uint64_t> key{0};  // type, rows, cols of the matrices it measures; 0: free
  std::atomic<uint32_t> calls{0};
  std::atomic<float> cost[2] = {0.0f, 0.0f};  // 0: not yet measured
};
Choice g_choice[16];
std::atomic<int> g_forced{-1};

// The matrix shape's entry (a product's matrices differ in cycles per byte: short chunks start cold); the last
// entry is shared once the others are taken.
Choice* choice_of(DType t, const WeightView& W) {
  if (t != DType::Q4_K && t != DType::Q6_K) return nullptr;
  const uint64_t key = (static_cast<uint64_t>(t) << 56 | static_cast<uint64_t>(W.rows) << 28 |
                        static_cast<uint64_t>(W.cols)) + 1;
  for (Choice& c : g_choice) {
    uint64_t k = c.key.load(std::memory_order_relaxed);
    if (k == 0 && c.key.compare_exchange_strong(k, key, std::memory_order_relaxed)) return &c;
    if (k == key) return &c;
  }
  return &g_choice[15];
}

}  // namespace

int one_row_kernel(DType t, const WeightView& W, int* slot) {
  Choice* c = W.interleaved ? choice_of(t, W) : nullptr;
  if (!c) return -1;
  *slot = static_cast<int>(c - g_choice);
  if (const int f = g_forced.load(std::memory_order_relaxed); f >= 0) return f;
  const float c0 = c->cost[0].load(std::memory_order_relaxed), c1 = c->cost[1].load(std::memory_order_relaxed);
  if (c0 == 0.0f || c1 == 0.0f) return c1 == 0.0f ? 1 : 0;
  const int best = c1 <= c0 ? 1 : 0;
  return c->calls.fetch_add(1, std::memory_order_relaxed) % 16 == 15 ? 1 - best : best;
}

void one_row_record(int slot, int kernel, uint64_t cycles, size_t bytes) {
  if (slot < 0 || slot >= 16 || bytes == 0 || kernel < 0 || kernel > 1) return;
  Choice* c = &g_choice[slot];
  const float sample = static_cast<float>(cycles) / static_cast<float>(bytes);
  const float old = c->cost[kernel].load(std::memory_order_relaxed);
  c->cost[kernel].store(old == 0.0f ? sample : old + (sample - old) / 16.0f, std::memory_order_relaxed);
}

void force_one_row_kernel(int kernel) { g_forced.store(kernel, std::memory_order_relaxed); }

bool gemv1_avx512(DType t, const WeightView& W, int64_t g0, int64_t g1, const int16_t* q, const float* dx,
                  const float* sx, const int32_t* corr, float* Y, size_t block_bytes) {
  if (!W.interleaved) return false;
  const int64_t k = W.cols;
  switch (t) {
    case DType::Q4_K:
      groups<Il16Q4_K>(W, g0, g1, Y, [&](const Il16Q4_K& R, float* y, Sweep& sweep) {
        q4_k(R, k, block_bytes, q, dx, sx, y, sweep);
      });
      return true;
    case DType::Q6_K:
      groups<Il16Q6_K>(W, g0, g1, Y, [&](const Il16Q6_K& R, float* y, Sweep& sweep) {
        q6_k(R, k, block_bytes, q, dx, corr, y, sweep);
      });
      return true;
    default: return false;
  }
}

}  // namespace ts::int16_detail
