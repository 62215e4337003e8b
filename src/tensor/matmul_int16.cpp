// The int16-activation matrix product (contract and formula: matmul_int16.h): the scalar reference quantizer and
// product, and the entry behind matmul(..., Precision::kInt16): for m <= gemv_max_rows(type) the row-parallel
// GEMV (bit-identical to the GEMM per output), above it the int8 path's blocked driver
// (int8_detail::blocked_matmul) with the int16 kernel. Without AVX-512 VNNI it computes exactly (kExact's matmul at
// every m): a scalar int16 product would be slower than the exact path and no more exact.
#include "tensor/matmul_int16.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <vector>

#include "tensor/cpu.h"
#include "tensor/interleave.h"
#include "tensor/matmul.h"
#include "tensor/matmul_int8.h"
#include "tensor/quant.h"

namespace ts {

namespace int16_detail {

void quantize_act_ref(const float* x, int64_t n, int16_t* q, float* dx, float qmax) {
  for (int64_t b = 0; b < n / kActBlock; ++b, x += kActBlock, q += kActBlock) {
    float amax = 0.0f;
    for (int j = 0; j < kActBlock; ++j) amax = std::max(amax, std::fabs(x[j]));
    dx[b] = amax / qmax;
    const float id = amax > 0.0f ? qmax / amax : 0.0f;
    // nearbyint rounds to nearest even under the default rounding mode, as the SIMD conversion does; |x·id| can
    // exceed qmax only by float rounding (< 0.01), which rounds back to qmax
    for (int j = 0; j < kActBlock; ++j)
      q[j] = static_cast<int16_t>(std::clamp(std::nearbyint(x[j] * id), -qmax, qmax));
  }
}

}  // namespace int16_detail

namespace {

bool int16_format(DType t, int8_detail::Int8Format* f) {
  return int8_detail::int8_format(t, int16_detail::kActBlock, f);
}

// The GEMV's quantized activations (quantize_rows_avx512's output) for one weight format, in `buf`.
struct GemvInput {
  int16_t* q = nullptr;
  float *dx = nullptr, *sx = nullptr;
  int32_t* corr = nullptr;

  GemvInput() = default;

  // Bytes for m rows of k columns in format f.
  static size_t bytes(const int8_detail::Int8Format& f, int64_t m, int64_t k) {
    return static_cast<size_t>(m * k) * sizeof(int16_t) + 3 * static_cast<size_t>(m * (k / f.sb)) * 4;
  }
  // Quantizes X into p (64-byte aligned, bytes(f, m, k) long).
  GemvInput(const int8_detail::Int8Format& f, const float* X, int64_t m, int64_t ldx, int64_t k, uint8_t* p) {
    const size_t q_bytes = static_cast<size_t>(m * k) * sizeof(int16_t);  // k % 32 == 0: a multiple of 64
    const size_t t_bytes = static_cast<size_t>(m * (k / f.sb)) * 4;
    q = reinterpret_cast<int16_t*>(p);
    dx = reinterpret_cast<float*>(p + q_bytes);
    sx = reinterpret_cast<float*>(p + q_bytes + t_bytes);
    corr = reinterpret_cast<int32_t*>(p + q_bytes + 2 * t_bytes);
    int16_detail::quantize_rows_avx512(f, X, ldx, m, k, q, dx, sx, corr);
  }
  // Y rows for the weight-row groups [g0, g1) of W.
  void run(DType t, const int8_detail::Int8Format& f, const WeightView& W, int64_t g0, int64_t g1, int64_t m,
           float* Y, int64_t ldy) const {
    int16_detail::gemv_avx512(t, f, W, g0, g1, q, dx, sx, corr, static_cast<int>(m), Y, ldy,
                              row_bytes(W.type, int16_detail::kKc));
  }
};

// m <= gemv_max_rows(W.type): the activations are quantized once by the calling thread, then the weight rows are split
// between the threads in contiguous chunks of whole groups of kGemvRows, each row streamed once and decoded once
// for all m rows.
void gemv(const int8_detail::Int8Format& f, const WeightView& W, const float* X, int64_t m, int64_t ldx, float* Y,
          int64_t ldy, ThreadPool& pool) {
  const int64_t k = W.cols;
  thread_local int8_detail::AlignedBytes buf;  // per calling thread: generation does not allocate
  const GemvInput in(f, X, m, ldx, k, buf.get(GemvInput::bytes(f, m, k)));
  constexpr int64_t kG = int16_detail::kGemvRows;
  if (W.rows < kG) {  // the kernel reads whole groups: copy the rows into a zero-padded one
    thread_local int8_detail::AlignedBytes pad_buf, y_buf;
    const size_t rb = row_bytes(W.type, k);
    uint8_t* pad = pad_buf.get(rb * kG);
    std::memset(pad, 0, rb * kG);
    for (int64_t r = 0; r < W.rows; ++r) std::memcpy(pad + r * rb, W.row(r), rb);
    auto* y = reinterpret_cast<float*>(y_buf.get(static_cast<size_t>(m * kG) * sizeof(float)));
    in.run(W.type, f, WeightView{W.type, pad, kG, k, rb}, 0, 1, m, y, kG);
    for (int64_t i = 0; i < m; ++i) std::memcpy(Y + i * ldy, y + i * kG, static_cast<size_t>(W.rows) * sizeof(float));
    return;
  }
  // Chunks of at least a quarter of a thread's share: within a chunk each group's rows are prefetched while the
  // group before it runs (see the kernel), so only the first group of a chunk waits on memory.
  const int64_t groups = (W.rows + kG - 1) / kG;
  const int64_t grain = std::max<int64_t>(1, groups / (4 * pool.size()));
  pool.parallel_for(groups, grain, [&](int64_t g0, int64_t g1, int) { in.run(W.type, f, W, g0, g1, m, Y, ldy); });
}

}  // namespace

namespace int16_detail {
int64_t gemv_max_rows(DType t) {
  switch (t) {
    case DType::Q8_0:
    case DType::Q4_K: return 32;
    case DType::Q6_K: return 12;
    default: return 16;
  }
}
}  // namespace int16_detail

bool matmul_int16_group(std::span<const GroupProduct> group, int64_t m, ThreadPool& pool, bool aligned,
                        const std::function<void(int64_t, int64_t)>& epilogue) {
  constexpr int64_t kG = int16_detail::kGemvRows;
  constexpr size_t kMax = 8;
  if (group.empty() || group.size() > kMax || m <= 0) return false;
  int8_detail::Int8Format f[kMax];
  for (size_t j = 0; j < group.size(); ++j) {
    const WeightView& W = group[j].W;
    if (!int16_matmul_available(W.type) || !int16_format(W.type, &f[j]) || W.rows < kG || W.cols <= 0 ||
        m > int16_detail::gemv_max_rows(W.type))
      return false;
    // aligned: one row range of every product per unit, so the epilogue sees whole groups of finished rows
    if (aligned && (W.rows != group[0].W.rows || W.rows % kG != 0)) return false;
  }
  // quantize each distinct (activation, format) once: q, k and v read the same normed input
  size_t offset[kMax], total = 0;
  size_t source[kMax];  // the product whose quantized input product j uses
  for (size_t j = 0; j < group.size(); ++j) {
    source[j] = j;
    for (size_t i = 0; i < j; ++i)
      if (group[i].X == group[j].X && group[i].ldx == group[j].ldx && group[i].W.cols == group[j].W.cols &&
          f[i].sb == f[j].sb && f[i].offset == f[j].offset && f[i].mins == f[j].mins) {
        source[j] = i;
        break;
      }
    offset[j] = total;
    if (source[j] == j) total += (GemvInput::bytes(f[j], m, group[j].W.cols) + 63) / 64 * 64;
  }
  thread_local int8_detail::AlignedBytes buf;
  uint8_t* base = buf.get(total);
  GemvInput in[kMax];  // no allocation: this runs ~90 times per generated token
  for (size_t j = 0; j < group.size(); ++j) {
    const GroupProduct& g = group[j];
    in[j] = source[j] == j ? GemvInput(f[j], g.X, m, g.ldx, g.W.cols, base + offset[j]) : in[source[j]];
  }
  auto run = [&](size_t j, int64_t g0, int64_t g1) {
    in[j].run(group[j].W.type, f[j], group[j].W, g0, g1, m, group[j].Y, group[j].ldy);
  };
  if (aligned) {  // units: the same groups of every product, then the epilogue on their rows
    const int64_t groups = group[0].W.rows / kG;
    pool.parallel_for(groups, std::max<int64_t>(1, groups / (4 * pool.size())), [&](int64_t g0, int64_t g1, int) {
      for (size_t j = 0; j < group.size(); ++j) run(j, g0, g1);
      if (epilogue) epilogue(g0 * kG, g1 * kG);
    });
    return true;
  }
  // units: ranges of the products' groups laid end to end
  int64_t first[kMax + 1] = {0};
  for (size_t j = 0; j < group.size(); ++j) first[j + 1] = first[j] + (group[j].W.rows + kG - 1) / kG;
  const int64_t groups = first[group.size()];
  pool.parallel_for(groups, std::max<int64_t>(1, groups / (4 * pool.size())), [&](int64_t u0, int64_t u1, int) {
    for (size_t j = 0; j < group.size(); ++j) {
      const int64_t a = std::max(u0, first[j]), b = std::min(u1, first[j + 1]);
      if (a < b) run(j, a - first[j], b - first[j]);
    }
  });
  return true;
}

bool int16_matmul_available(DType t) {
  int8_detail::Int8Format f;
  return active_isa() == Isa::kAvx512 && cpu_features().avx512vnni && int16_format(t, &f);
}

void matmul_int16(const WeightView& W, const float* X, int64_t m, int64_t ldx, float* Y, int64_t ldy,
                  ThreadPool& pool) {
  int8_detail::Int8Format f;
  if (!int16_matmul_available(W.type) || !int16_format(W.type, &f) || m <= 0 || W.rows <= 0 || W.cols <= 0) {
    matmul(W, X, m, ldx, Y, ldy, pool);
    return;
  }
  if (m <= int16_detail::gemv_max_rows(W.type)) {
    gemv(f, W, X, m, ldx, Y, ldy, pool);
    return;
  }
  int8_detail::blocked_matmul(int16_detail::int16_kernel_avx512(), f, W, X, m, ldx, Y, ldy, pool);
}

namespace {

bool is_float(DType t) { return t == DType::F16 || t == DType::BF16 || t == DType::F32; }

// The float weights' format for the int16 kernel: blocks of 32 with one scale each, no offset, no mins.
constexpr int8_detail::Int8Format kFloatFormat{32, 32, 32, 0, false};

}  // namespace

bool float_fast_available(DType t) {
  return active_isa() == Isa::kAvx512 && cpu_features().avx512vnni && is_float(t);
}

void matmul_float_int16(const WeightView& W, const float* X, int64_t m, int64_t ldx, float* Y, int64_t ldy,
                        ThreadPool& pool) {
  if (!float_fast_available(W.type) || m <= 0 || W.rows <= 0 || W.cols <= 0 || W.cols % 32 != 0) {
    matmul(W, X, m, ldx, Y, ldy, pool);
    return;
  }
  int8_detail::blocked_matmul(int16_detail::float_int16_kernel_avx512(), kFloatFormat, W, X, m, ldx, Y, ldy, pool);
}

void matmul_float_int16_ref(const WeightView& W, const float* X, int64_t m, int64_t ldx, float* Y, int64_t ldy) {
  using int16_detail::kActBlock;
  using int16_detail::kFloatQMax;
  const int64_t k = W.cols, nb = k / kActBlock;
  std::vector<float> w(static_cast<size_t>(k)), dw(static_cast<size_t>(nb)), dx(static_cast<size_t>(m * nb));
  std::vector<int16_t> qw(static_cast<size_t>(k)), q(static_cast<size_t>(m * k));
  for (int64_t i = 0; i < m; ++i)
    int16_detail::quantize_act_ref(X + i * ldx, k, &q[static_cast<size_t>(i * k)], &dx[static_cast<size_t>(i * nb)],
                                   kFloatQMax);
  for (int64_t r = 0; r < W.rows; ++r) {
    dequantize_row_ref(W.type, W.row(r), w.data(), k);
    int16_detail::quantize_act_ref(w.data(), k, qw.data(), dw.data(), kFloatQMax);
    for (int64_t i = 0; i < m; ++i) {
      double y = 0.0;
      for (int64_t b = 0; b < nb; ++b) {
        int64_t dot = 0;
        for (int64_t p = b * kActBlock; p < (b + 1) * kActBlock; ++p)
          dot += static_cast<int64_t>(qw[static_cast<size_t>(p)]) * q[static_cast<size_t>(i * k + p)];
        y += static_cast<double>(dw[static_cast<size_t>(b)]) * dx[static_cast<size_t>(i * nb + b)] *
             static_cast<double>(dot);
      }
      Y[i * ldy + r] = static_cast<float>(y);
    }
  }
}

void matmul_int16_ref(const WeightView& W, const float* X, int64_t m, int64_t ldx, float* Y, int64_t ldy) {
  int8_detail::Int8Format f;
  if (!int16_format(W.type, &f)) {
    matmul_ref(W, X, m, ldx, Y, ldy);
    return;
  }
  const int64_t k = W.cols, ns = k / f.sb, nb = k / int16_detail::kActBlock;
  std::vector<uint8_t> u(static_cast<size_t>(k));
  std::vector<float> ws(static_cast<size_t>(k / f.native_sb)), wm(ws.size(), 0.0f);
  std::vector<int16_t> q(static_cast<size_t>(m * k));
  std::vector<float> dx(static_cast<size_t>(m * nb));
  for (int64_t i = 0; i < m; ++i)
    int16_detail::quantize_act_ref(X + i * ldx, k, &q[static_cast<size_t>(i * k)], &dx[static_cast<size_t>(i * nb)]);
  std::vector<uint8_t> scratch;
  for (int64_t r = 0; r < W.rows; ++r) {
    int8_detail::decode_row_ref(W.type, row_span(W, r, 1, 0, k, scratch).p, 0, k, u.data(), ws.data(), wm.data());
    for (int64_t i = 0; i < m; ++i) {
      const int16_t* qi = &q[static_cast<size_t>(i * k)];
      const float* dxi = &dx[static_cast<size_t>(i * nb)];
      const float* xi = X + i * ldx;
      double y = 0.0;
      for (int64_t s = 0; s < ns; ++s) {
        int64_t dot = 0;
        double sx = 0.0;
        for (int64_t p = s * f.sb; p < (s + 1) * f.sb; ++p) {
          const int w16 = static_cast<int>(u[static_cast<size_t>(p)]) - f.offset;
          dot += static_cast<int64_t>(w16) * qi[p];
          sx += xi[p];
        }
        const size_t native = static_cast<size_t>(s * f.sb / f.native_sb);
        y += static_cast<double>(ws[native]) * dxi[s * f.sb / int16_detail::kActBlock] * static_cast<double>(dot);
        if (f.mins) y -= static_cast<double>(wm[native]) * sx;
      }
      Y[i * ldy + r] = static_cast<float>(y);
    }
  }
}

}  // namespace ts
