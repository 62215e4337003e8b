// The GEMV of one activation row over several weight rows in lockstep (SimdKernels::dot_rows, reached through
// vec_dot_tile with m = 1 and through matmul's row-parallel path): every output must be the single-row dot's, bit
// for bit, at every ISA this CPU has, for the float formats (F32, F16, BF16); and dot_each (one row after another in
// one call) for those and the quantized formats.
//
// The values mix magnitudes over many binades, so that a changed summation order (another chunk-to-accumulator
// mapping, another tail or reduction order) changes the bits: OrderSensitiveData checks that it does.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "isa_support.h"
#include "tensor/matmul.h"
#include "tensor/quant.h"
#include "tensor/quant_impl.h"
#include "tensor/thread_pool.h"

namespace ts {
namespace {

const DType kFloatTypes[] = {DType::F32, DType::F16, DType::BF16};
// Short rows, a 64-wide step plus whole vectors, a tail alone, and long rows past L1 (quant.cpp's lockstep_pays).
const int64_t kLengths[] = {16, 48, 64, 100, 2048 + 17, 5632};

uint32_t bits_of(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

// g · 2^e with e uniform in [-span, span]: products spread over 4·span binades.
float mixed_value(std::mt19937& rng, int span) {
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::uniform_int_distribution<int> e(-span, span);
  return std::ldexp(g(rng), e(rng));
}

// nrows weight rows of n elements at `stride` bytes (more than a row: rows not back to back, 2-byte aligned).
struct Rows {
  size_t stride = 0;
  std::vector<uint8_t> bytes;
  const uint8_t* row(int64_t j) const { return bytes.data() + static_cast<size_t>(j) * stride; }
};

Rows make_rows(DType t, int64_t n, int64_t nrows, std::mt19937& rng) {
  Rows r;
  const size_t rb = row_bytes(t, n);
  r.stride = rb + (t == DType::F32 ? 12 : 6);
  r.bytes.assign(static_cast<size_t>(nrows) * r.stride + 64, 0xAB);
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t j = 0; j < nrows; ++j) {
    for (auto& w : v) w = mixed_value(rng, t == DType::F16 ? 6 : 12);  // F16: stay clear of overflow and subnormals
    EXPECT_TRUE(quantize_row(t, v.data(), r.bytes.data() + j * r.stride, n));
  }
  return r;
}

std::vector<float> make_x(int64_t n, std::mt19937& rng) {
  std::vector<float> x(static_cast<size_t>(n) + 1);  // x at +1 float: not 64-byte aligned
  for (auto& v : x) v = mixed_value(rng, 12);
  return x;
}

// The kernel tables directly, so the short rows (which vec_dot_tile hands to dot() one by one) run in lockstep
// too: every row count 1..9 plus counts that leave 4 + 1 and 4 + 3 rows after the groups of eight.
TEST(DotRows, KernelIsBitIdenticalToSingleRowDotAtEveryIsa) {
  test::IsaCapGuard guard;
  std::mt19937 rng(5);
  int checked = 0;
  for (Isa isa : test::available_isas()) {
    if (isa == Isa::kScalar) continue;
    for (DType t : kFloatTypes) {
      const quant::SimdKernels k = isa == Isa::kAvx2 ? quant::avx2_kernels(t) : quant::avx512_kernels(t);
      ASSERT_NE(k.dot_rows, nullptr) << dtype_name(t) << " " << isa_name(isa);
      ASSERT_NE(k.dot, nullptr);
      for (int64_t n : kLengths) {
        constexpr int64_t kMaxRows = 15;
        const Rows w = make_rows(t, n, kMaxRows, rng);
        const std::vector<float> xb = make_x(n, rng);
        const float* x = xb.data() + 1;
        for (int64_t nrows : {1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 15}) {
          std::vector<float> out(static_cast<size_t>(nrows) + 1, -7.0f);
          k.dot_rows(w.row(0), w.stride, nrows, x, n, out.data());
          for (int64_t j = 0; j < nrows; ++j) {
            const float one = k.dot(w.row(j), x, n);
            EXPECT_EQ(bits_of(out[j]), bits_of(one)) << dtype_name(t) << " " << isa_name(isa) << " n=" << n
                                                     << " nrows=" << nrows << " row " << j << ": " << out[j]
                                                     << " vs " << one;
          }
          EXPECT_EQ(out[nrows], -7.0f) << "wrote past out";
          ++checked;
        }
      }
    }
  }
  if (checked == 0) GTEST_SKIP() << "no AVX2 on this CPU: no lockstep kernel to test";
}

// Other formats have no lockstep kernel (vec_dot_tile falls back to dot per row for them).
TEST(DotRows, OnlyTheFloatFormatsHaveTheKernel) {
  for (Isa isa : test::available_isas()) {
    if (isa == Isa::kScalar) continue;
    for (DType t : {DType::Q8_0, DType::Q4_0, DType::Q4_K, DType::Q6_K}) {
      const quant::SimdKernels k = isa == Isa::kAvx2 ? quant::avx2_kernels(t) : quant::avx512_kernels(t);
      EXPECT_NE(k.dot, nullptr) << dtype_name(t) << " " << isa_name(isa);
      EXPECT_EQ(k.dot_rows, nullptr) << dtype_name(t) << " " << isa_name(isa);
    }
  }
}

// dot_each (one row after another in one call, what vec_dot_tile runs for one activation row where lockstep does not
// pay) exists beside every SIMD dot and gives dot()'s bits for every row, quantized formats included.
TEST(DotEach, EveryRowIsTheSingleRowDotAtEveryIsa) {
  test::IsaCapGuard guard;
  std::mt19937 rng(13);
  int checked = 0;
  for (Isa isa : test::available_isas()) {
    if (isa == Isa::kScalar) continue;
    for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0, DType::Q4_K, DType::Q6_K}) {
      const quant::SimdKernels k = isa == Isa::kAvx2 ? quant::avx2_kernels(t) : quant::avx512_kernels(t);
      ASSERT_NE(k.dot_each, nullptr) << dtype_name(t) << " " << isa_name(isa);
      ASSERT_NE(k.dot, nullptr);
      for (int64_t n : {int64_t{256}, int64_t{2816}}) {
        const Rows w = make_rows(t, n, 7, rng);
        const std::vector<float> xb = make_x(n, rng);
        const float* x = xb.data() + 1;
        for (int64_t nrows : {0, 1, 2, 7}) {
          std::vector<float> out(static_cast<size_t>(nrows) + 1, -7.0f);
          k.dot_each(w.row(0), w.stride, nrows, x, n, out.data());
          for (int64_t j = 0; j < nrows; ++j) {
            const float one = k.dot(w.row(j), x, n);
            EXPECT_EQ(bits_of(out[j]), bits_of(one))
                << dtype_name(t) << " " << isa_name(isa) << " n=" << n << " nrows=" << nrows << " row " << j;
          }
          EXPECT_EQ(out[nrows], -7.0f) << "wrote past out";
          ++checked;
        }
      }
    }
  }
  if (checked == 0) GTEST_SKIP() << "no AVX2 on this CPU: no SIMD kernels to test";
}

// The public entry: vec_dot_tile with one activation row, outputs at a stride (only row 0's are written).
TEST(DotRows, TileWithOneActivationRowIsBitIdenticalToVecDot) {
  test::IsaCapGuard guard;
  std::mt19937 rng(9);
  int checked = 0;
  for (Isa isa : test::available_isas()) {
    set_isa_cap(isa);
    for (DType t : kFloatTypes) {
      for (int64_t n : kLengths) {
        const Rows w = make_rows(t, n, 9, rng);
        const std::vector<float> xb = make_x(n, rng);
        const float* x = xb.data() + 1;
        for (int64_t nrows = 1; nrows <= 9; ++nrows) {
          std::vector<float> out(static_cast<size_t>(nrows) + 1, -7.0f);
          vec_dot_tile(t, w.row(0), w.stride, nrows, x, /*ldx=*/0, /*m=*/1, n, out.data(), /*ldo=*/1000);
          for (int64_t j = 0; j < nrows; ++j) {
            const float one = vec_dot(t, w.row(j), x, n);
            EXPECT_EQ(bits_of(out[j]), bits_of(one))
                << dtype_name(t) << " " << isa_name(isa) << " n=" << n << " nrows=" << nrows << " row " << j;
          }
          EXPECT_EQ(out[nrows], -7.0f) << "wrote past out";
          ++checked;
        }
      }
    }
  }
  EXPECT_GT(checked, 0);
}

// matmul with m = 1 (generation) goes through the lockstep kernel on long rows; each output stays vec_dot's, with
// rows split across two threads in chunks that are no multiple of eight.
TEST(DotRows, MatmulWithOneRowIsBitIdenticalToVecDotPerRow) {
  test::IsaCapGuard guard;
  std::mt19937 rng(13);
  ThreadPool pool(2);
  for (Isa isa : test::available_isas()) {
    set_isa_cap(isa);
    for (DType t : kFloatTypes) {
      constexpr int64_t kN = 37, kK = 5632;
      const Rows w = make_rows(t, kK, kN, rng);
      const std::vector<float> xb = make_x(kK, rng);
      const WeightView W{t, w.bytes.data(), kN, kK, w.stride};
      std::vector<float> y(kN + 1, -7.0f);
      matmul(W, xb.data() + 1, 1, kK, y.data(), kN, pool);
      for (int64_t j = 0; j < kN; ++j)
        EXPECT_EQ(bits_of(y[j]), bits_of(vec_dot(t, w.row(j), xb.data() + 1, kK)))
            << dtype_name(t) << " " << isa_name(isa) << " row " << j;
      EXPECT_EQ(y[kN], -7.0f);
    }
  }
}

// The data can tell summation orders apart: a plain left-to-right fp32 sum differs from vec_dot's four-accumulator
// order for most rows. (Were it not so, the identities above would hold for any order and prove nothing.)
TEST(DotRows, OrderSensitiveData) {
  std::mt19937 rng(17);
  int differ = 0, total = 0;
  for (DType t : kFloatTypes) {
    const int64_t n = 2048 + 17;
    const Rows w = make_rows(t, n, 8, rng);
    const std::vector<float> xb = make_x(n, rng);
    const float* x = xb.data() + 1;
    std::vector<float> v(static_cast<size_t>(n));
    for (int64_t j = 0; j < 8; ++j) {
      dequantize_row_ref(t, w.row(j), v.data(), n);
      float s = 0.0f;
      for (int64_t i = 0; i < n; ++i) s = std::fma(v[static_cast<size_t>(i)], x[i], s);
      differ += bits_of(s) != bits_of(vec_dot(t, w.row(j), x, n));
      ++total;
    }
  }
  EXPECT_GT(differ, total / 2);
}

}  // namespace
}  // namespace ts
