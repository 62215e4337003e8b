// The int8-activation matrix product (contract and formula: matmul_int8.h): the type table, the scalar reference
// decode and activation quantizer, the scalar reference product, and the blocked driver behind
// matmul(..., Precision::kFast).
//
// The driver is the fp32 GEMM's BLIS loop (matmul.cpp) with integer codes instead of floats: X is quantized once per
// call into mr-row slivers per k-block (shared by all threads); each thread takes chunks of nc weight rows and, per
// k-block, decodes its nc × kc panel of W into nr-row slivers of codes and scales (the panel stays in L2), then runs
// the register tile for every (X sliver, W sliver) pair. The integer dot products are exact and every output element
// is summed by one thread in a fixed order, so results do not depend on the thread count. The int16 path
// (matmul_int16.cpp) runs the same driver with its own kernel (blocked_matmul).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "tensor/cpu.h"
#include "tensor/interleave.h"
#include "tensor/matmul.h"
#include "tensor/matmul_int16.h"
#include "tensor/matmul_int8.h"
#include "tensor/quant_impl.h"

namespace ts {

namespace int8_detail {

bool int8_format(DType t, int act_block, Int8Format* f) {
  auto set = [&](int native_sb, int offset, bool mins) {
    f->native_sb = native_sb;
    f->act = act_block == 16 ? 16 : 32;
    f->sb = std::min(native_sb, f->act);
    f->offset = offset;
    f->mins = mins;
    return true;
  };
  switch (t) {
    case DType::Q8_0: return set(32, 128, false);
    case DType::Q4_0: return set(32, 8, false);
    case DType::Q4_1: return set(32, 0, true);
    case DType::Q5_0: return set(32, 16, false);
    case DType::Q5_1: return set(32, 0, true);
    case DType::Q2_K: return set(16, 0, true);
    case DType::Q3_K: return set(16, 4, false);
    case DType::Q4_K: return set(32, 0, true);
    case DType::Q5_K: return set(32, 0, true);
    case DType::Q6_K: return set(16, 32, false);
    default: return false;
  }
}

// Codes, scales and mins as in each format's file (quant_<format>.cpp, layouts as in ggml-common.h); a min m that
// the format adds (Q4_1, Q5_1) is stored as wm = −m.
void decode_row_ref(DType t, const uint8_t* row, int64_t k0, int64_t kc, uint8_t* u, float* ws, float* wm) {
  using namespace quant;
  switch (t) {
    case DType::Q8_0: {
      const auto* b = reinterpret_cast<const BlockQ8_0*>(row) + k0 / kQK;
      for (int64_t i = 0; i < kc / kQK; ++i) {
        ws[i] = half_to_float(b[i].d);
        for (int j = 0; j < kQK; ++j) u[kQK * i + j] = static_cast<uint8_t>(b[i].qs[j] + 128);
      }
      return;
    }
    case DType::Q4_0:
    case DType::Q4_1: {
      const bool q41 = t == DType::Q4_1;
      const size_t bytes = q41 ? sizeof(BlockQ4_1) : sizeof(BlockQ4_0);
      for (int64_t i = 0; i < kc / kQK; ++i) {
        const uint8_t* blk = row + (k0 / kQK + i) * bytes;
        uint16_t d, m;
        std::memcpy(&d, blk, 2);
        const uint8_t* qs = blk + (q41 ? 4 : 2);
        ws[i] = half_to_float(d);
        if (q41) {
          std::memcpy(&m, blk + 2, 2);
          wm[i] = -half_to_float(m);
        }
        for (int j = 0; j < 16; ++j) {
          u[kQK * i + j] = qs[j] & 0xF;
          u[kQK * i + j + 16] = qs[j] >> 4;
        }
      }
      return;
    }
    case DType::Q5_0:
    case DType::Q5_1: {
      const bool q51 = t == DType::Q5_1;
      const size_t bytes = q51 ? sizeof(BlockQ5_1) : sizeof(BlockQ5_0);
      for (int64_t i = 0; i < kc / kQK; ++i) {
        const uint8_t* blk = row + (k0 / kQK + i) * bytes;
        uint16_t d, m;
        uint32_t qh;
        std::memcpy(&d, blk, 2);
        const uint8_t* p = blk + (q51 ? 4 : 2);
        std::memcpy(&qh, p, 4);
        const uint8_t* qs = p + 4;
        ws[i] = half_to_float(d);
        if (q51) {
          std::memcpy(&m, blk + 2, 2);
          wm[i] = -half_to_float(m);
        }
        for (int j = 0; j < 16; ++j) {
          u[kQK * i + j] = static_cast<uint8_t>((qs[j] & 0xF) | (((qh >> j) & 1) << 4));
          u[kQK * i + j + 16] = static_cast<uint8_t>((qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4));
        }
      }
      return;
    }
    case DType::Q2_K: {
      const auto* b = reinterpret_cast<const BlockQ2_K*>(row) + k0 / kQKK;
      for (int64_t i = 0; i < kc / kQKK; ++i, u += kQKK, ws += 16, wm += 16) {
        const float d = half_to_float(b[i].d), dmin = half_to_float(b[i].dmin);
        for (int s = 0; s < 16; ++s) {
          ws[s] = d * static_cast<float>(b[i].scales[s] & 0xF);
          wm[s] = dmin * static_cast<float>(b[i].scales[s] >> 4);
        }
        for (int h = 0; h < 2; ++h)
          for (int g = 0; g < 4; ++g)
            for (int l = 0; l < 32; ++l) u[128 * h + 32 * g + l] = (b[i].qs[32 * h + l] >> (2 * g)) & 3;
      }
      return;
    }
    case DType::Q3_K: {
      const auto* b = reinterpret_cast<const BlockQ3_K*>(row) + k0 / kQKK;
      for (int64_t i = 0; i < kc / kQKK; ++i, u += kQKK, ws += 16) {
        const float d = half_to_float(b[i].d);
        for (int s = 0; s < 16; ++s) ws[s] = d * static_cast<float>(q3k_scale(s, b[i].scales));
        for (int h = 0; h < 2; ++h)
          for (int g = 0; g < 4; ++g)
            for (int l = 0; l < 32; ++l) {
              const int lo = (b[i].qs[32 * h + l] >> (2 * g)) & 3;
              const int hi = (b[i].hmask[l] >> (4 * h + g)) & 1;
              u[128 * h + 32 * g + l] = static_cast<uint8_t>(lo | (hi << 2));  // code + 4
            }
      }
      return;
    }
    case DType::Q4_K:
    case DType::Q5_K: {
      const bool q5 = t == DType::Q5_K;
      const size_t bytes = q5 ? sizeof(BlockQ5_K) : sizeof(BlockQ4_K);
      for (int64_t i = 0; i < kc / kQKK; ++i, u += kQKK, ws += 8, wm += 8) {
        const uint8_t* blk = row + (k0 / kQKK + i) * bytes;
        uint16_t dh, dminh;
        std::memcpy(&dh, blk, 2);
        std::memcpy(&dminh, blk + 2, 2);
        const float d = half_to_float(dh), dmin = half_to_float(dminh);
        const uint8_t* scales = blk + 4;
        const uint8_t* qh = blk + 16;
        const uint8_t* qs = blk + (q5 ? 48 : 16);
        for (int s = 0; s < 8; ++s) {
          uint8_t sc, m;
          k4_scale_min(s, scales, &sc, &m);
          ws[s] = d * static_cast<float>(sc);
          wm[s] = dmin * static_cast<float>(m);
        }
        for (int c = 0; c < 4; ++c)
          for (int l = 0; l < 32; ++l) {
            const uint8_t q = qs[32 * c + l];
            const int h0 = q5 ? ((qh[l] >> (2 * c)) & 1) << 4 : 0, h1 = q5 ? ((qh[l] >> (2 * c + 1)) & 1) << 4 : 0;
            u[64 * c + l] = static_cast<uint8_t>((q & 0xF) | h0);
            u[64 * c + 32 + l] = static_cast<uint8_t>((q >> 4) | h1);
          }
      }
      return;
    }
    case DType::Q6_K: {
      const auto* b = reinterpret_cast<const BlockQ6_K*>(row) + k0 / kQKK;
      for (int64_t i = 0; i < kc / kQKK; ++i, u += kQKK, ws += 16) {
        const float d = half_to_float(b[i].d);
        for (int s = 0; s < 16; ++s) ws[s] = d * static_cast<float>(b[i].scales[s]);
        for (int h = 0; h < 2; ++h) {
          const uint8_t* ql = b[i].ql + 64 * h;
          const uint8_t* qh = b[i].qh + 32 * h;
          uint8_t* y = u + 128 * h;
          for (int l = 0; l < 32; ++l) {
            y[l] = static_cast<uint8_t>((ql[l] & 0xF) | ((qh[l] & 3) << 4));
            y[l + 32] = static_cast<uint8_t>((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4));
            y[l + 64] = static_cast<uint8_t>((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4));
            y[l + 96] = static_cast<uint8_t>((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4));
          }
        }
      }
      return;
    }
    default:
      return;
  }
}

void quantize_act_ref(const float* x, int64_t n, int64_t block, int8_t* q, float* dx) {
  for (int64_t b = 0; b < n / block; ++b, x += block, q += block) {
    float amax = 0.0f;
    for (int64_t j = 0; j < block; ++j) amax = std::max(amax, std::fabs(x[j]));
    dx[b] = amax / 127.0f;
    const float id = amax > 0.0f ? 127.0f / amax : 0.0f;
    // nearbyint rounds to nearest even under the default rounding mode, as the SIMD conversion does
    for (int64_t j = 0; j < block; ++j) q[j] = static_cast<int8_t>(std::nearbyint(x[j] * id));
  }
}

}  // namespace int8_detail

namespace {

using int8_detail::AlignedBytes;
using int8_detail::Int8Format;
using int8_detail::Int8Kernel;

// Weight rows per thread chunk: the nc × kc panel (128 KiB of codes) stays in L2 while every X sliver streams past.
constexpr int64_t kNc = 256;
// Activation rows per pass: bounds the packed copy of X (about 1.1 bytes per element with int8 codes, 2.1 with
// int16).
constexpr int64_t kMaxPassRows = 4096;

// Prefetches (into L2) the bytes of columns [k0, k0 + kc) of weight rows [r0, r0 + rows), one 64-byte line per step.
class SegmentPrefetcher {
 public:
  SegmentPrefetcher() = default;
  SegmentPrefetcher(const WeightView& W, int64_t r0, int64_t rows, int64_t k0, int64_t kc)
      : runs_(weight_runs(W, r0, rows, k0, kc)), lines_per_run_(static_cast<int64_t>((runs_.bytes + 63) / 64)) {}
  int64_t lines() const { return runs_.count * lines_per_run_; }
  void issue(int64_t count) {
    for (; count > 0 && r_ < runs_.count; --count) {
      __builtin_prefetch(runs_.first + static_cast<size_t>(r_) * runs_.stride + 64 * line_, 0, 2);
      if (++line_ == lines_per_run_) line_ = 0, ++r_;
    }
  }

 private:
  WeightRuns runs_;
  int64_t lines_per_run_ = 0, r_ = 0, line_ = 0;
};

void matmul_int8_pass(const Int8Kernel& kern, const Int8Format& f, const WeightView& W, const float* X, int64_t m,
                      int64_t ldx, float* Y, int64_t ldy, ThreadPool& pool) {
  const int64_t n = W.rows, k = W.cols;
  const int mr = kern.mr, nr = kern.nr;
  const int64_t slivers = (m + mr - 1) / mr;
  const int64_t kc_full = kern.kc;
  const int64_t kblocks = (k + kc_full - 1) / kc_full;
  const int64_t a_stride = kern.a_sliver_bytes(f, kc_full);
  const int64_t b_stride = kern.b_sliver_bytes(f, kc_full);

  // Packed X: k-block kb of sliver s at xp + (kb * slivers + s) * a_stride.
  thread_local AlignedBytes x_buf;
  uint8_t* xp = x_buf.get(static_cast<size_t>(kblocks * slivers * a_stride));
  pool.parallel_for(slivers, 4, [&](int64_t s0, int64_t s1, int) {
    for (int64_t s = s0; s < s1; ++s) {
      const int rows = static_cast<int>(std::min<int64_t>(mr, m - s * mr));
      for (int64_t kb = 0; kb < kblocks; ++kb) {
        const int64_t k0 = kb * kc_full, kc = std::min(kc_full, k - k0);
        kern.pack_a(f, X + s * mr * ldx + k0, ldx, rows, kc, xp + (kb * slivers + s) * a_stride);
      }
    }
  });

  const int64_t per_thread = (n + pool.size() - 1) / pool.size();
  const int64_t nc = std::max<int64_t>(nr, std::min(kNc, (per_thread + nr - 1) / nr * nr));
  const int64_t chunks = (n + nc - 1) / nc;
  pool.parallel_for(chunks, 1, [&](int64_t c0, int64_t c1, int) {
    thread_local AlignedBytes panel_buf;
    thread_local std::vector<uint8_t> scratch;  // interleaved weights without a direct packer: the rows unpacked
    uint8_t* panel = panel_buf.get(static_cast<size_t>((kNc + nr - 1) / nr * b_stride));
    for (int64_t c = c0; c < c1; ++c) {
      const int64_t n0 = c * nc;
      const int64_t n_rows = std::min(nc, n - n0);
      const int64_t n_slivers = (n_rows + nr - 1) / nr;
      for (int64_t kb = 0; kb < kblocks; ++kb) {
        const int64_t k0 = kb * kc_full, kc = std::min(kc_full, k - k0);
        for (int64_t t = 0; t < n_slivers; ++t) {
          const int rows = static_cast<int>(std::min<int64_t>(nr, n_rows - t * nr));
          if (W.interleaved && kern.pack_b_interleaved &&
              kern.pack_b_interleaved(W.type, f, interleaved_group(W, n0 + t * nr), W.row_stride, rows, k0, kc,
                                      panel + t * b_stride))
            continue;
          const RowSpan span = row_span(W, n0 + t * nr, rows, k0, kc, scratch);
          kern.pack_b(W.type, f, span.p, span.stride, rows, 0, kc, panel + t * b_stride);
        }
        // While the tiles run, bring the weights the next panel decodes into L2, a few lines per tile.
        SegmentPrefetcher next;
        if (kb + 1 < kblocks)
          next = SegmentPrefetcher(W, n0, n_rows, (kb + 1) * kc_full, std::min(kc_full, k - (kb + 1) * kc_full));
        else if (c + 1 < c1)
          next = SegmentPrefetcher(W, n0 + nc, std::min(nc, n - n0 - nc), 0, std::min(kc_full, k));
        const int64_t per_tile = next.lines() / std::max<int64_t>(1, n_slivers * slivers) + 1;
        // The W sliver (nr × kc codes, 16 KiB in both paths) stays in L1 while the X slivers (mr × kc, 3 KiB each)
        // stream past it from L2: the smaller operand is the one that moves.
        for (int64_t t = 0; t < n_slivers; ++t) {
          const int cols = static_cast<int>(std::min<int64_t>(nr, n_rows - t * nr));
          for (int64_t s = 0; s < slivers; ++s) {
            next.issue(per_tile);
            const int rows = static_cast<int>(std::min<int64_t>(mr, m - s * mr));
            kern.tile(f, kc, xp + (kb * slivers + s) * a_stride, panel + t * b_stride, Y + s * mr * ldy + n0 + t * nr,
                      ldy, rows, cols, kb > 0);
          }
        }
      }
    }
  });
}

}  // namespace

void int8_detail::blocked_matmul(const Int8Kernel& kern, const Int8Format& f, const WeightView& W, const float* X,
                                 int64_t m, int64_t ldx, float* Y, int64_t ldy, ThreadPool& pool) {
  const int64_t pass_rows = kMaxPassRows / kern.mr * kern.mr;
  for (int64_t i0 = 0; i0 < m; i0 += pass_rows)
    matmul_int8_pass(kern, f, W, X + i0 * ldx, std::min(pass_rows, m - i0), ldx, Y + i0 * ldy, ldy, pool);
}

namespace {

bool int8_isa_available() {
  return active_isa() == Isa::kAvx512 && cpu_features().avx512vnni;
}

}  // namespace

namespace int8_detail {
int64_t gemv_max_rows(DType t) { return t == DType::Q8_0 ? 16 : 0; }
}  // namespace int8_detail

namespace {

constexpr int64_t kGemvGroup = int16_detail::kGemvRows;  // the int16 GEMV's groups: the kernels are one code

// The int8 GEMV (matmul_int8.h): the activations quantized once by the calling thread, then the weight rows split
// between the threads in contiguous chunks of whole groups.
void gemv(const Int8Format& f, const WeightView& W, const float* X, int64_t m, int64_t ldx, float* Y, int64_t ldy,
          ThreadPool& pool) {
  const int64_t k = W.cols, ns = k / f.sb;
  const size_t q_bytes = static_cast<size_t>((m * k + 63) / 64 * 64), t_bytes = static_cast<size_t>(m * ns) * 4;
  thread_local AlignedBytes buf;  // per calling thread: repeated calls do not allocate
  uint8_t* p = buf.get(q_bytes + 3 * t_bytes);
  auto* q = reinterpret_cast<int8_t*>(p);
  auto* dx = reinterpret_cast<float*>(p + q_bytes);
  float* sx = dx + m * ns;
  auto* corr = reinterpret_cast<int32_t*>(sx + m * ns);
  int8_detail::quantize_rows_avx512(f, X, ldx, m, k, q, dx, sx, corr);
  const int64_t groups = (W.rows + kGemvGroup - 1) / kGemvGroup;
  const size_t block_bytes = row_bytes(W.type, int16_detail::kKc);
  pool.parallel_for(groups, std::max<int64_t>(1, groups / (4 * pool.size())), [&](int64_t g0, int64_t g1, int) {
    int8_detail::gemv_avx512(W.type, f, W, g0, g1, q, dx, sx, corr, static_cast<int>(m), Y, ldy, block_bytes);
  });
}

}  // namespace

bool fast_matmul_available(DType t) {
  Int8Format f;
  return int8_isa_available() && int8_detail::int8_format(t, kFastBlock, &f);
}

void matmul_int8(const WeightView& W, const float* X, int64_t m, int64_t ldx, float* Y, int64_t ldy, ThreadPool& pool,
                 int act_block) {
  Int8Format f;
  if (!int8_isa_available() || !int8_detail::int8_format(W.type, act_block, &f) || m <= 0 || W.rows <= 0 ||
      W.cols <= 0) {
    matmul(W, X, m, ldx, Y, ldy, pool);
    return;
  }
  if (m <= int8_detail::gemv_max_rows(W.type) && W.rows >= kGemvGroup) {
    gemv(f, W, X, m, ldx, Y, ldy, pool);
    return;
  }
  int8_detail::blocked_matmul(int8_detail::int8_kernel_avx512(), f, W, X, m, ldx, Y, ldy, pool);
}

void matmul_int8_ref(const WeightView& W, const float* X, int64_t m, int64_t ldx, float* Y, int64_t ldy,
                     int act_block) {
  Int8Format f;
  if (!int8_detail::int8_format(W.type, act_block, &f)) {
    matmul_ref(W, X, m, ldx, Y, ldy);
    return;
  }
  const int64_t k = W.cols, ns = k / f.sb, nb = k / f.act;
  std::vector<uint8_t> u(static_cast<size_t>(k));
  std::vector<float> ws(static_cast<size_t>(k / f.native_sb)), wm(ws.size(), 0.0f);
  std::vector<int8_t> q(static_cast<size_t>(m * k));
  std::vector<float> dx(static_cast<size_t>(m * nb));
  for (int64_t i = 0; i < m; ++i)
    int8_detail::quantize_act_ref(X + i * ldx, k, f.act, &q[static_cast<size_t>(i * k)],
                                  &dx[static_cast<size_t>(i * nb)]);
  std::vector<uint8_t> scratch;
  for (int64_t r = 0; r < W.rows; ++r) {
    int8_detail::decode_row_ref(W.type, row_span(W, r, 1, 0, k, scratch).p, 0, k, u.data(), ws.data(), wm.data());
    for (int64_t i = 0; i < m; ++i) {
      const int8_t* qi = &q[static_cast<size_t>(i * k)];
      const float* dxi = &dx[static_cast<size_t>(i * nb)];
      const float* xi = X + i * ldx;
      double y = 0.0;
      for (int64_t s = 0; s < ns; ++s) {
        int64_t dot = 0;
        double sx = 0.0;
        for (int64_t p = s * f.sb; p < (s + 1) * f.sb; ++p) {
          dot += (static_cast<int64_t>(u[static_cast<size_t>(p)]) - f.offset) * qi[p];
          sx += xi[p];
        }
        const size_t native = static_cast<size_t>(s * f.sb / f.native_sb);
        y += static_cast<double>(ws[native]) * dxi[s * f.sb / f.act] * static_cast<double>(dot);
        if (f.mins) y -= static_cast<double>(wm[native]) * sx;
      }
      Y[i * ldy + r] = static_cast<float>(y);
    }
  }
}

}  // namespace ts
