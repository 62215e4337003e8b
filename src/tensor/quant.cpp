// The public row operations of quant.h: each picks the scalar reference of a format (quant_<format>.cpp) or its
// SIMD kernel for the active ISA (cpu.h), through one table built on first use.
//
// vec_dot_ref is defined once for every format: dequantize (the reference) then sum w[i]*x[i] in double, rounded to
// float at the end. It is the ground truth the SIMD dots are tested against.
//
// A type the engine cannot compute (Q8_1, Q8_K, an unknown id) is a caller bug, not bad input: the loader rejects
// such tensors first. Here it yields NaN (dequantize_row fills dst with NaN, vec_dot returns NaN) rather than abort.
#include <algorithm>
#include <cmath>
#include <limits>

#include "tensor/cpu.h"
#include "tensor/quant.h"
#include "tensor/quant_impl.h"

namespace ts {
namespace {

using quant::DequantFn;
using quant::DotFn;
using quant::QuantFn;

struct Format {
  DequantFn dequantize = nullptr;
  QuantFn quantize = nullptr;
};

Format format_of(DType t) {
  using namespace quant;
  switch (t) {
    case DType::F32: return {dequantize_f32_ref, quantize_f32_ref};
    case DType::F16: return {dequantize_f16_ref, quantize_f16_ref};
    case DType::BF16: return {dequantize_bf16_ref, quantize_bf16_ref};
    case DType::Q4_0: return {dequantize_q4_0_ref, quantize_q4_0_ref};
    case DType::Q4_1: return {dequantize_q4_1_ref, quantize_q4_1_ref};
    case DType::Q5_0: return {dequantize_q5_0_ref, quantize_q5_0_ref};
    case DType::Q5_1: return {dequantize_q5_1_ref, quantize_q5_1_ref};
    case DType::Q8_0: return {dequantize_q8_0_ref, quantize_q8_0_ref};
    case DType::Q2_K: return {dequantize_q2_k_ref, quantize_q2_k_ref};
    case DType::Q3_K: return {dequantize_q3_k_ref, quantize_q3_k_ref};
    case DType::Q4_K: return {dequantize_q4_k_ref, quantize_q4_k_ref};
    case DType::Q5_K: return {dequantize_q5_k_ref, quantize_q5_k_ref};
    case DType::Q6_K: return {dequantize_q6_k_ref, quantize_q6_k_ref};
    default: return {};
  }
}

constexpr uint32_t kIdLimit = 31;  // ggml ids this engine can compute are all below 31 (BF16 = 30)

struct Kernels {
  DequantFn dequantize = nullptr;  // null: the scalar reference
  DotFn dot = nullptr;             // null: vec_dot_ref
  quant::MultiDotFn dot_multi = nullptr;  // null: dot per row
  quant::DotRowsFn dot_rows = nullptr;    // null: dot per weight row
  quant::DotRowsFn dot_each = nullptr;    // null: dot per weight row
};

struct Tables {
  Kernels by_isa[3][kIdLimit];
};

Tables build_tables() {
  Tables tab{};
  for (uint32_t id = 0; id < kIdLimit; ++id) {
    const auto tr = dtype_traits(id);
    if (!tr || !tr->supported) continue;
    const DType t = tr->type;
    tab.by_isa[0][id] = {format_of(t).dequantize, nullptr, nullptr, nullptr, nullptr};
    const quant::SimdKernels a2 = quant::avx2_kernels(t);
    tab.by_isa[1][id] = {a2.dequantize ? a2.dequantize : format_of(t).dequantize, a2.dot, a2.dot_multi, a2.dot_rows,
                         a2.dot_each};
    // An AVX-512 machine also runs every AVX2 kernel, so fill the gaps with them.
    const quant::SimdKernels a5 = quant::avx512_kernels(t);
    // A multi-row dot is used only beside its own single-row dot (bit-identity is between the two).
    tab.by_isa[2][id] = {a5.dequantize ? a5.dequantize : tab.by_isa[1][id].dequantize, a5.dot ? a5.dot : a2.dot,
                         a5.dot ? a5.dot_multi : a2.dot_multi, a5.dot ? a5.dot_rows : a2.dot_rows,
                         a5.dot ? a5.dot_each : a2.dot_each};
  }
  return tab;
}

const Kernels* kernels_for(DType t) {
  static const Tables tab = build_tables();
  const auto id = static_cast<uint32_t>(t);
  if (id >= kIdLimit) return nullptr;
  const Kernels* k = &tab.by_isa[static_cast<int>(active_isa())][id];
  return k->dequantize ? k : nullptr;
}

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// Whether a GEMV over rows of n elements should walk several rows in lockstep (dot_rows) rather than one at a time.
// One row at a time reads the weights as a single sequential stream, which the hardware prefetchers serve best, and
// wins while the fp32 activations (4n bytes) stay in L1 beside the row being read; past that every 16 weights cost
// an x reload from L2 and lockstep wins. Measured on Zen 4 (32 KiB L1D), one thread, GB/s one row / 8 in lockstep:
// F16 k = 4096 28.0 / 22.9, 4608 22.6 / 20.7, 5120 18.9 / 21.6, 5632 17.0 / 22.5; F32 k = 4096 25.0 / 24.8,
// 4608 22.6 / 27.1 (BF16 as F16). The crossover sits where x plus one weight row pass about 28 KiB.
bool lockstep_pays(DType t, int64_t n) {
  return 4 * n + static_cast<int64_t>(row_bytes(t, n)) > int64_t{28} << 10;
}

}  // namespace

void dequantize_row_ref(DType t, const void* src, float* dst, int64_t n) {
  const Format f = format_of(t);
  if (!f.dequantize) {
    std::fill(dst, dst + n, kNaN);
    return;
  }
  f.dequantize(src, dst, n);
}

void dequantize_row(DType t, const void* src, float* dst, int64_t n) {
  const Kernels* k = kernels_for(t);
  if (!k) {
    std::fill(dst, dst + n, kNaN);
    return;
  }
  k->dequantize(src, dst, n);
}

float vec_dot_ref(DType t, const void* row, const float* x, int64_t n) {
  const Format f = format_of(t);
  if (!f.dequantize) return kNaN;
  const DTypeTraits tr = traits(t);
  // 256 is a multiple of every block size, so each chunk is whole blocks.
  constexpr int64_t kChunk = 256;
  float w[kChunk];
  double acc = 0.0;
  const auto* bytes = static_cast<const uint8_t*>(row);
  for (int64_t i = 0; i < n; i += kChunk) {
    const int64_t m = std::min(kChunk, n - i);
    f.dequantize(bytes + static_cast<size_t>(i / tr.block_elems) * tr.block_bytes, w, m);
    for (int64_t j = 0; j < m; ++j) acc += static_cast<double>(w[j]) * x[i + j];
  }
  return static_cast<float>(acc);
}

float vec_dot(DType t, const void* row, const float* x, int64_t n) {
  const Kernels* k = kernels_for(t);
  if (k && k->dot) return k->dot(row, x, n);
  return vec_dot_ref(t, row, x, n);
}

void vec_dot_tile(DType t, const uint8_t* rows, size_t stride, int64_t nrows, const float* x, int64_t ldx, int64_t m,
                  int64_t n, float* out, int64_t ldo) {
  const Kernels* k = kernels_for(t);
  // One activation row (the GEMV of generation): several weight rows per pass over x once x and a weight row no
  // longer fit in L1 together (quant_kernels_avx512.cpp), else one row after another in one call (dot_each).
  if (m == 1 && k && k->dot && k->dot_rows && lockstep_pays(t, n)) {
    k->dot_rows(rows, stride, nrows, x, n, out);
    return;
  }
  if (m == 1 && k && k->dot && k->dot_each) {
    k->dot_each(rows, stride, nrows, x, n, out);
    return;
  }
  float tmp[4];
  for (int64_t j = 0; j < nrows; ++j) {
    const uint8_t* row = rows + static_cast<size_t>(j) * stride;
    for (int64_t i0 = 0; i0 < m; i0 += 4) {
      const int g = static_cast<int>(std::min<int64_t>(4, m - i0));
      if (g > 1 && k && k->dot && k->dot_multi) {
        k->dot_multi(row, x + i0 * ldx, ldx, g, n, tmp);
      } else {
        for (int i = 0; i < g; ++i) tmp[i] = vec_dot(t, row, x + (i0 + i) * ldx, n);
      }
      for (int i = 0; i < g; ++i) out[(i0 + i) * ldo + j] = tmp[i];
    }
  }
}

bool quantize_row(DType t, const float* src, void* row, int64_t n) {
  const Format f = format_of(t);
  if (!f.quantize) return false;
  f.quantize(src, row, n);
  return true;
}

}  // namespace ts
