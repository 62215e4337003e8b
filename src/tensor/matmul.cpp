// matmul: Y[m, n] = X[m, k] · W[n, k]ᵀ for weights of any stored type, fp32 activations (contract: matmul.h).
//
// Two regimes:
//  * m <= kRowParallelMaxM (generation, a few positions at once): memory-bound. W's rows are split across threads in
//    contiguous chunks; each row is streamed once and dotted with all m activation rows through vec_dot_tile while it
//    is still in L1/L2 (for m = 1, a few weight rows per pass over the activations).
//  * larger m (prompt evaluation): compute-bound. A cache-blocked SGEMM in the BLIS style:
//      X is packed once per call into mr-row slivers per kc block (shared by all threads);
//      the threads take chunks of nc weight rows; for each kc block a thread dequantizes its nc × kc panel of W
//      with dequantize_row (exact) and transposes it into nr-row slivers (the panel stays in L2), and while the
//      tiles run on it asks the memory for the weight bytes of its next panel (software prefetch);
//      then for every mr sliver of X (in L1) and nr sliver of W it runs the register-tile kernel.
//    Each product is one fp32 FMA and sums are fp32 (the partial sum of each kc block is added to Y), so the result
//    is exact to fp32 rounding for every weight type: no activation quantization. Every output element is computed
//    by one thread in the same order whatever the thread count, so results do not depend on the pool size.
//    Very long X is processed in passes of up to 1024 rows to bound the packed copy; F32 weights skip the
//    dequantize copy and are transposed straight from W, F16 / BF16 weights are widened as they are transposed.
// matmul_ordered (every m) is that GEMM, with the rows of X past the last whole mr sliver (all of them for m < mr)
// handed to a small-m tile that performs each output's operations in the register tile's order. matmul_panels runs
// the same tiles on fp32 weights that are already stored as packed slivers (the KV cache), on the calling thread.
// The per-ISA tile kernels and transposes live in matmul_avx512.cpp / matmul_avx2.cpp; the scalar fallback is here.
#include "tensor/matmul.h"

#include <algorithm>
#include <cassert>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "tensor/cpu.h"
#include "tensor/interleave.h"
#include "tensor/k_split.h"
#include "tensor/matmul_kernels.h"
#include "tensor/quant.h"

namespace ts {

namespace {

using matmul_detail::GemmKernel;

// Up to this many activation rows the row-parallel vec_dot path wins: the GEMM pays a fixed cost per weight
// (dequantize, transpose, a register tile padded to mr rows) that about equals four fused dot products
// (measured on Zen 4 with k = n = 2048, F16 / Q8_0 / Q4_K: m = 4 favours vec_dot by ~10%, m = 6 the GEMM by ~30%).
constexpr int64_t kRowParallelMaxM = 4;
// k-block: a multiple of every block size (32, 256), and 256 × 32 floats = 32 KiB per weight sliver.
constexpr int64_t kKc = 256;
// Weight rows per thread chunk: an nc × kc panel of 256 KiB stays in L2 while every X sliver streams past it.
constexpr int64_t kNc = 256;
// Activation rows per pass: the packed copy of X (rows × k floats, kept per calling thread) stays within
// kPackedXBytes, but a pass has at least kMinPassRows rows because W is dequantized again for every pass.
constexpr int64_t kPackedXBytes = int64_t{32} << 20;
constexpr int64_t kMinPassRows = 256;
constexpr int64_t kMaxPassRows = 1024;

// A growable 64-byte-aligned float buffer, kept per thread so repeated calls do not allocate.
class AlignedFloats {
 public:
  float* get(size_t n) {
    if (n > cap_) {
      const size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
      ptr_.reset(static_cast<float*>(std::aligned_alloc(64, bytes)));
      cap_ = n;
    }
    return ptr_.get();
  }

 private:
  struct Free {
    void operator()(float* p) const { std::free(p); }
  };
  std::unique_ptr<float, Free> ptr_;
  size_t cap_ = 0;
};

// ---- scalar fallback (also the model for the SIMD tiles) ----
constexpr int kScalarMr = 4;
constexpr int kScalarNr = 8;

void tile_scalar(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int rows, int cols,
                 bool accumulate) {
  float acc[kScalarMr][kScalarNr] = {};
  for (int64_t p = 0; p < kc; ++p) {
    for (int i = 0; i < kScalarMr; ++i)
      for (int j = 0; j < kScalarNr; ++j) acc[i][j] += a[p * kScalarMr + i] * b[p * kScalarNr + j];
  }
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) c[i * ldc + j] = accumulate ? c[i * ldc + j] + acc[i][j] : acc[i][j];
}

void pack_b_scalar(const float* src, int64_t ld, int rows, int64_t kc, float* dst) {
  for (int64_t p = 0; p < kc; ++p)
    for (int j = 0; j < kScalarNr; ++j) dst[p * kScalarNr + j] = j < rows ? src[j * ld + p] : 0.0f;
}

void pack_a_scalar(const float* src, int64_t ld, int rows, int64_t kc, float* dst) {
  for (int64_t p = 0; p < kc; ++p)
    for (int i = 0; i < kScalarMr; ++i) dst[p * kScalarMr + i] = i < rows ? src[i * ld + p] : 0.0f;
}

// The small-m tile: per output the same operations as tile_scalar (acc += x · b from zero, then C = [C +] acc).
void tile_small_scalar(int64_t kc, const float* x, int64_t ldx, int rows, const float* b, int slivers,
                       int64_t sliver_stride, float* c, int64_t ldc, int cols, bool accumulate) {
  for (int t = 0; t < slivers; ++t) {
    const float* bt = b + t * sliver_stride;
    const int tc = std::min(kScalarNr, cols - t * kScalarNr);
    for (int i = 0; i < rows; ++i) {
      const float* xi = x + i * ldx;
      float acc[kScalarNr] = {};
      for (int64_t p = 0; p < kc; ++p)
        for (int j = 0; j < kScalarNr; ++j) acc[j] += xi[p] * bt[p * kScalarNr + j];
      float* ci = c + i * ldc + t * kScalarNr;
      for (int j = 0; j < tc; ++j) ci[j] = accumulate ? ci[j] + acc[j] : acc[j];
    }
  }
}

GemmKernel select_kernel() {
  switch (active_isa()) {
    case Isa::kAvx512:
      return matmul_detail::gemm_kernel_avx512();
    case Isa::kAvx2:
      return matmul_detail::gemm_kernel_avx2();
    case Isa::kScalar:
      break;
  }
  return GemmKernel{kScalarMr, kScalarNr, tile_scalar, pack_b_scalar, pack_a_scalar, tile_small_scalar};
}

// ---- m small: one pass over W, rows split across threads ----

// k-split W (k_split.h): the pool's chunks run over (segment, row) in segment order, so a thread keeps one x segment
// in L1 while it streams that segment's rows; each segment's dot products go to their own partial row, and the
// partials are added in segment order: Y = ((d₀ + d₁) + d₂) + ….
void matmul_rows_k_split(const WeightView& W, const float* X, int64_t m, int64_t ldx, float* Y, int64_t ldy,
                         ThreadPool& pool) {
  const int64_t n = W.rows, S = k_segments(W);
  thread_local std::vector<float> part_buf;  // S × m rows of n: segment s, activation row i at (s · m + i) · n
  part_buf.resize(static_cast<size_t>(S * m * n));
  float* part = part_buf.data();
  pool.parallel_for(S * n, 16, [&](int64_t v0, int64_t v1, int) {
    for (int64_t v = v0; v < v1;) {
      const int64_t s = v / n, r = v % n, e = std::min(v1, (s + 1) * n);
      const KSegment g = k_segment_of(W, s);
      vec_dot_tile(W.type, g.p + static_cast<size_t>(r) * g.stride, g.stride, e - v, X + g.col0, ldx, m, g.cols,
                   part + s * m * n + r, n);
      v = e;
    }
  });
  for (int64_t i = 0; i < m; ++i) {
    float* y = Y + i * ldy;
    std::copy_n(part + i * n, n, y);
    for (int64_t s = 1; s < S; ++s) {
      const float* p = part + (s * m + i) * n;
      for (int64_t r = 0; r < n; ++r) y[r] += p[r];
    }
  }
}

void matmul_rows(const WeightView& W, const float* X, int64_t m, int64_t ldx, float* Y, int64_t ldy,
                 ThreadPool& pool) {
  const int64_t k = W.cols;
  if (W.k_segment > 0) {
    matmul_rows_k_split(W, X, m, ldx, Y, ldy, pool);
    return;
  }
  // each weight row decoded once for all m activation rows, which stay in L1; for m = 1 several weight rows share
  // each pass over x (quant.h). Either way every output is vec_dot's, bit for bit.
  pool.parallel_for(W.rows, 16, [&](int64_t r0, int64_t r1, int) {
    if (!W.interleaved) {
      vec_dot_tile(W.type, W.row(r0), W.row_stride, r1 - r0, X, ldx, m, k, Y + r0, ldy);
      return;
    }
    thread_local std::vector<uint8_t> scratch;  // a group's rows at a time, unpacked
    for (int64_t a = r0; a < r1; a = (a / kInterleaveRows + 1) * kInterleaveRows) {
      const int64_t b = std::min(r1, (a / kInterleaveRows + 1) * kInterleaveRows);
      const RowSpan rows = row_span(W, a, b - a, 0, k, scratch);
      vec_dot_tile(W.type, rows.p, rows.stride, b - a, X, ldx, m, k, Y + a, ldy);
    }
  });
}

// ---- m large: blocked GEMM on rows [0, m) of X and Y ----

// Weight rows per thread chunk for n weight rows: at most kNc, but small enough that every thread gets one.
int64_t chunk_rows(const GemmKernel& kern, int64_t n, const ThreadPool& pool) {
  const int64_t per_thread = (n + pool.size() - 1) / pool.size();
  return std::max<int64_t>(kern.nr, std::min(kNc, (per_thread + kern.nr - 1) / kern.nr * kern.nr));
}

// The kernel's fused widen-and-transpose for 16-bit float rows (F16, BF16), or null where there is none.
using PackHalves = void (*)(const uint16_t*, int64_t, int, int64_t, float*);
PackHalves pack_halves_for(const GemmKernel& kern, const WeightView& W) {
  if (W.row_stride % sizeof(uint16_t) != 0 || reinterpret_cast<uintptr_t>(W.data) % alignof(uint16_t) != 0)
    return nullptr;
  return W.type == DType::F16 ? kern.pack_b_f16 : W.type == DType::BF16 ? kern.pack_b_bf16 : nullptr;
}

// Dequantizes and transposes weight rows [n0, n0 + n_rows) over columns [k0, k0 + kc) into nr-row slivers at
// panel + t · kc · nr (tmp: nr · kc floats of scratch). F32 rows (e.g. the KV cache in attention) are transposed
// straight from W, and F16 / BF16 rows widened and transposed in one pass (the same panel: matmul_kernels.h).
void pack_panel(const GemmKernel& kern, const WeightView& W, int64_t n0, int64_t n_rows, int64_t k0, int64_t kc,
                float* tmp, float* panel) {
  const int nr = kern.nr;
  const bool direct_f32 = W.type == DType::F32 && W.row_stride % sizeof(float) == 0 &&
                          reinterpret_cast<uintptr_t>(W.data) % alignof(float) == 0;
  const PackHalves pack_halves = pack_halves_for(kern, W);
  const int64_t n_slivers = (n_rows + nr - 1) / nr;
  thread_local std::vector<uint8_t> scratch;  // interleaved weights (or columns across k-segments): rows unpacked
  for (int64_t t = 0; t < n_slivers; ++t) {
    const int rows = static_cast<int>(std::min<int64_t>(nr, n_rows - t * nr));
    const RowSpan span = row_span(W, n0 + t * nr, rows, k0, kc, scratch);
    const uint8_t* first = span.p;
    if (direct_f32) {
      kern.pack_b(reinterpret_cast<const float*>(first), static_cast<int64_t>(span.stride / sizeof(float)), rows, kc,
                  panel + t * kc * nr);
      continue;
    }
    if (pack_halves) {
      pack_halves(reinterpret_cast<const uint16_t*>(first), static_cast<int64_t>(span.stride / sizeof(uint16_t)), rows,
                  kc, panel + t * kc * nr);
      continue;
    }
    for (int j = 0; j < rows; ++j) dequantize_row(W.type, first + j * span.stride, tmp + j * kc, kc);
    kern.pack_b(tmp, kc, rows, kc, panel + t * kc * nr);
  }
}

// Asks for part `part` of `parts` of the weight bytes that pack_panel will read for rows [n0, n0 + n_rows), columns
// [k0, k0 + kc), so that they arrive from memory while the tiles run on the current panel. A row's slice of a panel
// is only a few cache lines (512 bytes for F16 with kKc = 256), too short for the hardware's stream prefetcher. On
// the mapped weights of the 1.1B F16 model (m = 512, Zen 4) it cut the packing's share of the GEMM's time from about
// 4.3% to 3.2% (with synthetic weights in anonymous memory, 4.8% to 2%); hint T0 measured no worse than T1/T2/NTA.
void prefetch_panel(const WeightView& W, int64_t n0, int64_t n_rows, int64_t k0, int64_t kc, int64_t part,
                    int64_t parts) {
  const WeightRuns runs = weight_runs(W, n0, n_rows, k0, kc);
  const int64_t lines = static_cast<int64_t>((runs.bytes + 63) / 64) + 1;  // + 1: the slice need not start a line
  const int64_t total = runs.count * lines;
  for (int64_t i = part * total / parts, end = (part + 1) * total / parts; i < end; ++i) {
    const int64_t r = i / lines, l = i % lines;
    const size_t at = std::min(static_cast<size_t>(l) * 64, runs.bytes - 1);
    __builtin_prefetch(runs.first + static_cast<size_t>(r) * runs.stride + at, 0, 3);
  }
}

// Packs slivers [s0, s1) of X's m rows (k columns) for the register tile: for the kc block starting at k0, sliver s
// lives at xp + k0 · m_pad + s · kc · mr (rows past m zero).
void pack_x(const GemmKernel& kern, const float* X, int64_t m, int64_t ldx, int64_t k, int64_t s0, int64_t s1,
            int64_t m_pad, float* xp) {
  const int mr = kern.mr;
  for (int64_t s = s0; s < s1; ++s) {
    const int64_t rows = std::min<int64_t>(mr, m - s * mr);
    for (int64_t k0 = 0; k0 < k; k0 += kKc) {
      const int64_t kc = std::min(kKc, k - k0);
      kern.pack_a(X + s * mr * ldx + k0, ldx, static_cast<int>(rows), kc, xp + k0 * m_pad + s * kc * mr);
    }
  }
}

// small_tail (matmul_ordered): the last m % mr rows of X go through tile_small, which reads X in place, instead of a
// register tile padded to mr rows (for m = 1 that is 8 times the work); the outputs are the same bits either way
// (matmul_kernels.h).
void matmul_blocked(const GemmKernel& kern, const WeightView& W, const float* X, int64_t m, int64_t ldx, float* Y,
                    int64_t ldy, ThreadPool& pool, bool small_tail = false) {
  const int64_t n = W.rows, k = W.cols;
  const int mr = kern.mr, nr = kern.nr;
  const int64_t tail = m % mr;
  const bool tail_small = small_tail && tail > 0;
  const int64_t slivers = tail_small ? m / mr : (m + mr - 1) / mr;  // the slivers that the register tile takes
  const int64_t m_pad = slivers * mr;

  thread_local AlignedFloats x_buf;
  float* xp = x_buf.get(static_cast<size_t>(std::max<int64_t>(m_pad * k, 1)));
  pool.parallel_for(slivers, 4, [&](int64_t s0, int64_t s1, int) { pack_x(kern, X, m, ldx, k, s0, s1, m_pad, xp); });

  const int64_t nc = chunk_rows(kern, n, pool);
  const int64_t chunks = (n + nc - 1) / nc;
  pool.parallel_for(chunks, 1, [&](int64_t c0, int64_t c1, int) {
    thread_local AlignedFloats panel_buf, rows_buf;
    float* panel = panel_buf.get(static_cast<size_t>(nc * kKc));
    float* tmp = rows_buf.get(static_cast<size_t>(nr * kKc));
    for (int64_t c = c0; c < c1; ++c) {
      const int64_t n0 = c * nc;
      const int64_t n_rows = std::min(nc, n - n0);
      const int64_t n_slivers = (n_rows + nr - 1) / nr;
      for (int64_t k0 = 0; k0 < k; k0 += kKc) {
        const int64_t kc = std::min(kKc, k - k0);
        pack_panel(kern, W, n0, n_rows, k0, kc, tmp, panel);
        // the panel after this one: the next k-block of this chunk, or the first of the next chunk
        const bool next_k = k0 + kKc < k, next_chunk = !next_k && c + 1 < c1;
        const int64_t pf_n0 = next_k ? n0 : n0 + nc, pf_k0 = next_k ? k0 + kKc : 0;
        const int64_t pf_rows = next_k ? n_rows : next_chunk ? std::min(nc, n - pf_n0) : 0;
        // asked for during the second half of the tiles, so that fewer lines are evicted again before their use
        // (measured no worse than spreading them over all the tiles, and a little better on synthetic weights)
        const int64_t pf_from = slivers / 2;
        for (int64_t s = 0; s < slivers; ++s) {
          if (pf_rows > 0 && s >= pf_from)
            prefetch_panel(W, pf_n0, pf_rows, pf_k0, std::min(kKc, k - pf_k0), s - pf_from, slivers - pf_from);
          const float* a = xp + k0 * m_pad + s * kc * mr;
          const int rows = static_cast<int>(std::min<int64_t>(mr, m - s * mr));
          float* y = Y + s * mr * ldy + n0;
          for (int64_t t = 0; t < n_slivers; ++t) {
            const int cols = static_cast<int>(std::min<int64_t>(nr, n_rows - t * nr));
            kern.tile(kc, a, panel + t * kc * nr, y + t * nr, ldy, rows, cols, k0 > 0);
          }
        }
        if (tail_small)
          kern.tile_small(kc, X + slivers * mr * ldx + k0, ldx, static_cast<int>(tail), panel,
                          static_cast<int>(n_slivers), kc * nr, Y + slivers * mr * ldy + n0, ldy,
                          static_cast<int>(n_rows), k0 > 0);
      }
    }
  });
}

// The blocked GEMM over all m rows, in passes that bound the packed copy of X.
void matmul_gemm(const GemmKernel& kern, const WeightView& W, const float* X, int64_t m, int64_t ldx, float* Y,
                 int64_t ldy, ThreadPool& pool, bool small_tail = false) {
  const int64_t pass_rows =
      std::clamp<int64_t>(kPackedXBytes / (4 * W.cols), kMinPassRows, kMaxPassRows) / kern.mr * kern.mr;
  for (int64_t i0 = 0; i0 < m; i0 += pass_rows)
    matmul_blocked(kern, W, X + i0 * ldx, std::min(pass_rows, m - i0), ldx, Y + i0 * ldy, ldy, pool, small_tail);
}

// The checks both entries share; true when there is nothing to multiply (no rows, or k = 0: Y is zeroed).
bool empty_product(const WeightView& W, int64_t m, int64_t ldx, float* Y, int64_t ldy) {
  assert(W.cols % traits(W.type).block_elems == 0);
  assert(m <= 1 || (ldx >= W.cols && ldy >= W.rows));
  (void)ldx;
  if (m <= 0 || W.rows <= 0) return true;
  if (W.cols != 0) return false;
  for (int64_t i = 0; i < m; ++i) std::fill(Y + i * ldy, Y + i * ldy + W.rows, 0.0f);
  return true;
}

}  // namespace

void matmul(const WeightView& W, const float* X, int64_t m, int64_t ldx, float* Y, int64_t ldy, ThreadPool& pool) {
  if (empty_product(W, m, ldx, Y, ldy)) return;
  if (m <= kRowParallelMaxM) {
    matmul_rows(W, X, m, ldx, Y, ldy, pool);
    return;
  }
  matmul_gemm(select_kernel(), W, X, m, ldx, Y, ldy, pool);
}

void matmul_ordered(const WeightView& W, const float* X, int64_t m, int64_t ldx, float* Y, int64_t ldy,
                    ThreadPool& pool) {
  if (empty_product(W, m, ldx, Y, ldy)) return;
  matmul_gemm(select_kernel(), W, X, m, ldx, Y, ldy, pool, /*small_tail=*/true);
}

int gemm_panel_rows() { return select_kernel().nr; }

void matmul_panels(const PanelView& W, const float* X, int64_t m, int64_t ldx, float* Y, int64_t ldy) {
  const int64_t n = W.rows, k = W.cols;
  assert(W.nr > 0 && W.sliver_stride >= k * W.nr && (m <= 1 || (ldx >= k && ldy >= n)));
  if (m <= 0 || n <= 0) return;
  if (k == 0) {
    for (int64_t i = 0; i < m; ++i) std::fill(Y + i * ldy, Y + i * ldy + n, 0.0f);
    return;
  }
  const GemmKernel kern = select_kernel();
  if (kern.nr != W.nr) {  // laid out for another ISA's GEMM (the ISA cap changed since): as rows, then packed
    thread_local std::vector<float> rows;
    rows.resize(static_cast<size_t>(n * k));
    for (int64_t r = 0; r < n; ++r)
      for (int64_t c = 0; c < k; ++c)
        rows[static_cast<size_t>(r * k + c)] = W.data[(r / W.nr) * W.sliver_stride + c * W.nr + r % W.nr];
    thread_local ThreadPool solo(1);
    matmul_ordered(WeightView{DType::F32, rows.data(), n, k, sizeof(float) * static_cast<size_t>(k)}, X, m, ldx, Y,
                   ldy, solo);
    return;
  }
  // matmul_blocked's loops with W's slivers read in place: the same tiles on the same operands in the same k order
  const int mr = kern.mr, nr = kern.nr;
  const int64_t slivers = m / mr, tail = m % mr, m_pad = slivers * mr, n_slivers = (n + nr - 1) / nr;
  thread_local AlignedFloats x_buf;
  float* xp = x_buf.get(static_cast<size_t>(std::max<int64_t>(m_pad * k, 1)));
  pack_x(kern, X, m, ldx, k, 0, slivers, m_pad, xp);
  for (int64_t k0 = 0; k0 < k; k0 += kKc) {
    const int64_t kc = std::min(kKc, k - k0);
    const float* b = W.data + k0 * nr;
    for (int64_t s = 0; s < slivers; ++s) {
      const float* a = xp + k0 * m_pad + s * kc * mr;
      for (int64_t t = 0; t < n_slivers; ++t)
        kern.tile(kc, a, b + t * W.sliver_stride, Y + s * mr * ldy + t * nr, ldy, mr,
                  static_cast<int>(std::min<int64_t>(nr, n - t * nr)), k0 > 0);
    }
    if (tail > 0)
      kern.tile_small(kc, X + m_pad * ldx + k0, ldx, static_cast<int>(tail), b, static_cast<int>(n_slivers),
                      W.sliver_stride, Y + m_pad * ldy, ldy, static_cast<int>(n), k0 > 0);
  }
}

void matmul(const WeightView& W, const float* X, int64_t m, int64_t ldx, float* Y, int64_t ldy, ThreadPool& pool,
            Precision precision, int act_block) {
  if (precision == Precision::kFast && m > kFastMinRows && fast_matmul_available(W.type)) {
    matmul_int8(W, X, m, ldx, Y, ldy, pool, act_block);
    return;
  }
  if (precision == Precision::kFast && m > kFastMinRows && float_fast_available(W.type)) {
    matmul_float_int16(W, X, m, ldx, Y, ldy, pool);
    return;
  }
  // act_block is kFast's choice: 16-bit activations keep blocks of 32 everywhere
  // kInt16 runs at every m (the GEMV below kFastMinRows rows is bit-identical to the GEMM), so a position's output
  // does not depend on how many positions a call evaluates. kFast takes the same int16 GEMV for its few rows: more
  // exact than int8 and, memory-bound, as fast.
  if ((precision == Precision::kInt16 || (precision == Precision::kFast && m <= kFastMinRows)) &&
      int16_matmul_available(W.type)) {
    matmul_int16(W, X, m, ldx, Y, ldy, pool);
    return;
  }
  matmul(W, X, m, ldx, Y, ldy, pool);
}

void matmul_ref(const WeightView& W, const float* X, int64_t m, int64_t ldx, float* Y, int64_t ldy) {
  const int64_t k = W.cols;
  std::vector<float> w(static_cast<size_t>(k));
  std::vector<uint8_t> scratch;
  for (int64_t r = 0; r < W.rows; ++r) {
    dequantize_row_ref(W.type, row_span(W, r, 1, 0, k, scratch).p, w.data(), k);
    for (int64_t i = 0; i < m; ++i) {
      const float* x = X + i * ldx;
      double s = 0.0;
      for (int64_t p = 0; p < k; ++p) s += static_cast<double>(w[static_cast<size_t>(p)]) * x[p];
      Y[i * ldy + r] = static_cast<float>(s);
    }
  }
}

}  // namespace ts
