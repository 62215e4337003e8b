// kFast on float weights (matmul_float_int16, tensor/matmul.h): F16 / BF16 / F32 weights and the activations both
// rounded per block of 32 to 13-bit integers (scale max|v| / 8191), products by vpdpwssd, on random data.
//
// Bounds, per output y = Σ_b dw_b · dx_b · (Σ_{k∈b} qw·q):
//  * SIMD against matmul_float_int16_ref: the same codes and scales (the same fp32 operations), exact integer block
//    sums; the kernel scales and adds in fp32 (int16 path's tile, see matmul_int16_test.cpp), the reference in
//    double, so |Δ| <= 64 · 2⁻²⁴ · M with M = Σ_k |dw·qw·dx·q|. A dropped or mis-scaled block is off by ~M / (k/32).
//  * Against the fp64 product of the stored weights and the unquantized activations: each weight moves by at most
//    dw/2 and each activation by dx/2 (plus < 1% of that from the float rounding of v · 8191/max|v|), so
//      |Δ| <= Σ_k (|w|·0.51·dx + |x|·0.51·dw + 0.27·dw·dx)  + the fp32 bound above.
//  * The integer block sums cannot overflow: 32 · 8191² < 2³¹; blocks of equal values (every code ±8191) check it.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "isa_support.h"
#include "matmul_support.h"
#include "tensor/cpu.h"
#include "tensor/matmul.h"
#include "tensor/matmul_int16.h"
#include "tensor/quant.h"

namespace ts {
namespace {

using test::Weights;

using test::IsaCapGuard;
using test::random_activations;

// Rows of `type` from src (rows × cols floats), row stride with slack.
Weights store(DType type, const std::vector<float>& src, int64_t rows, int64_t cols) {
  Weights w{type, rows, cols, row_bytes(type, cols) + 64, {}};
  w.bytes.assign(w.stride * static_cast<size_t>(rows), 0);
  for (int64_t r = 0; r < rows; ++r)
    EXPECT_TRUE(quantize_row(type, &src[static_cast<size_t>(r * cols)], w.bytes.data() + r * w.stride, cols));
  return w;
}

// Normal weights with a large one per row, as trained matrices have.
Weights random_weights(DType type, int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 0.05f);
  std::vector<float> src(static_cast<size_t>(rows * cols));
  for (auto& v : src) v = nd(rng);
  for (int64_t r = 0; r < rows; ++r) src[static_cast<size_t>(r * cols + r % cols)] *= 8.0f;
  return store(type, src, rows, cols);
}

// Per output, the bounds of the header comment: M (fp32 rounding) and the rounding of weights and activations.
struct Bounds {
  std::vector<double> magnitude, rounding;
};

Bounds bounds(const WeightView& W, const float* X, int64_t m, int64_t ldx) {
  using int16_detail::kFloatQMax;
  const int64_t k = W.cols, nb = k / 32;
  std::vector<float> w(static_cast<size_t>(k)), dw(static_cast<size_t>(nb)), dx(static_cast<size_t>(nb));
  std::vector<int16_t> qw(static_cast<size_t>(k)), q(static_cast<size_t>(k));
  Bounds b;
  b.magnitude.assign(static_cast<size_t>(m * W.rows), 0.0);
  b.rounding.assign(b.magnitude.size(), 0.0);
  for (int64_t r = 0; r < W.rows; ++r) {
    dequantize_row_ref(W.type, W.row(r), w.data(), k);
    int16_detail::quantize_act_ref(w.data(), k, qw.data(), dw.data(), kFloatQMax);
    for (int64_t i = 0; i < m; ++i) {
      const float* x = X + i * ldx;
      int16_detail::quantize_act_ref(x, k, q.data(), dx.data(), kFloatQMax);
      double mb = 0, rb = 0;
      for (int64_t p = 0; p < k; ++p) {
        const size_t u = static_cast<size_t>(p), blk = static_cast<size_t>(p / 32);
        mb += std::fabs(static_cast<double>(dw[blk]) * qw[u] * dx[blk] * q[u]);
        rb += std::fabs(w[u]) * 0.51 * dx[blk] + std::fabs(x[p]) * 0.51 * dw[blk] + 0.27 * dw[blk] * dx[blk];
      }
      b.magnitude[static_cast<size_t>(i * W.rows + r)] = mb;
      b.rounding[static_cast<size_t>(i * W.rows + r)] = rb;
    }
  }
  return b;
}

constexpr double kFp32Tol = 64.0 / (1 << 24);

std::string name(DType t) { return std::string(dtype_name(t)); }

#define REQUIRE_FLOAT_FAST()                                                                              \
  if (!float_fast_available(DType::F16)) {                                                               \
    GTEST_SKIP() << "no AVX-512 VNNI: kFast computes float weights exactly here (MatmulInt8 tests that)"; \
  }

TEST(MatmulFloatInt16, SimdMatchesReferenceAndStaysWithinTheRoundingBoundOfExact) {
  REQUIRE_FLOAT_FAST();
  ThreadPool pool(2);
  const int64_t shapes[][2] = {{1, 32}, {31, 288}, {33, 544}, {70, 256}, {40, 2080}};
  for (DType t : {DType::F16, DType::BF16, DType::F32}) {
    for (const auto& s : shapes) {
      const int64_t n = s[0], k = s[1];
      const Weights w = random_weights(t, n, k, static_cast<uint32_t>(n * 7 + k));
      for (int64_t m : {5, 6, 7, 13, 64}) {
        const int64_t ldx = k + 16, ldy = n + 3;
        const std::vector<float> X = random_activations(static_cast<size_t>(m * ldx), static_cast<uint32_t>(m));
        std::vector<float> got(static_cast<size_t>(m * ldy)), ref(got.size()), exact(got.size());
        matmul_float_int16(w.view(), X.data(), m, ldx, got.data(), ldy, pool);
        matmul_float_int16_ref(w.view(), X.data(), m, ldx, ref.data(), ldy);
        matmul_ref(w.view(), X.data(), m, ldx, exact.data(), ldy);
        const Bounds b = bounds(w.view(), X.data(), m, ldx);
        int differs = 0;
        for (int64_t i = 0; i < m; ++i)
          for (int64_t r = 0; r < n; ++r) {
            const size_t o = static_cast<size_t>(i * ldy + r), j = static_cast<size_t>(i * n + r);
            const double fp32 = kFp32Tol * b.magnitude[j] + 1e-30;
            ASSERT_LE(std::fabs(got[o] - ref[o]), fp32) << name(t) << " n=" << n << " k=" << k << " m=" << m
                                                        << " row " << i << " col " << r;
            ASSERT_LE(std::fabs(static_cast<double>(ref[o]) - exact[o]), b.rounding[j] + 2 * fp32)
                << name(t) << " n=" << n << " k=" << k << " m=" << m << " row " << i << " col " << r;
            differs += ref[o] != exact[o];
          }
        EXPECT_GT(differs, 0) << name(t) << " n=" << n << " k=" << k << " m=" << m << ": no rounding at all?";
      }
    }
  }
}

TEST(MatmulFloatInt16, BlocksOfExtremeCodesSumWithoutOverflow) {
  REQUIRE_FLOAT_FAST();
  ThreadPool pool(1);
  constexpr int64_t k = 512, n = 32, m = 8;
  // every weight ±0.75 and every activation ±3: all codes ±8191, each block sum ±32·8191² (an int32 wrap would flip
  // the sign); rows alternate the weights' sign, activation rows theirs
  std::vector<float> src(static_cast<size_t>(n * k)), X(static_cast<size_t>(m * k));
  for (int64_t r = 0; r < n; ++r)
    for (int64_t p = 0; p < k; ++p) src[static_cast<size_t>(r * k + p)] = r % 2 ? -0.75f : 0.75f;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t p = 0; p < k; ++p) X[static_cast<size_t>(i * k + p)] = i % 3 ? 3.0f : -3.0f;
  for (DType t : {DType::F16, DType::BF16, DType::F32}) {
    const Weights w = store(t, src, n, k);
    std::vector<float> y(static_cast<size_t>(m * n));
    matmul_float_int16(w.view(), X.data(), m, k, y.data(), n, pool);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t r = 0; r < n; ++r) {
        const double want = (r % 2 ? -0.75 : 0.75) * (i % 3 ? 3.0 : -3.0) * k;
        ASSERT_NEAR(y[static_cast<size_t>(i * n + r)], want, 1e-5 * std::fabs(want)) << name(t) << " " << i << "," << r;
      }
  }
}

TEST(MatmulFloatInt16, FastRunsItAboveFourRowsOnOneOrTwoThreadsAlike) {
  REQUIRE_FLOAT_FAST();
  ThreadPool one(1), two(2);
  constexpr int64_t k = 768, n = 100;
  for (DType t : {DType::F16, DType::BF16, DType::F32}) {
    const Weights w = random_weights(t, n, k, 5);
    for (int64_t m : {kFastMinRows, kFastMinRows + 1, int64_t{50}}) {
      const std::vector<float> X = random_activations(static_cast<size_t>(m * k), 3);
      std::vector<float> fast(static_cast<size_t>(m * n)), fast1(fast.size()), direct(fast.size()),
          exact(fast.size());
      matmul(w.view(), X.data(), m, k, fast.data(), n, two, Precision::kFast);
      matmul(w.view(), X.data(), m, k, fast1.data(), n, one, Precision::kFast);
      matmul_float_int16(w.view(), X.data(), m, k, direct.data(), n, two);
      matmul(w.view(), X.data(), m, k, exact.data(), n, two, Precision::kExact);
      EXPECT_EQ(fast, fast1) << name(t) << " m=" << m;
      if (m > kFastMinRows) {
        EXPECT_EQ(fast, direct) << name(t) << " m=" << m;
        EXPECT_NE(fast, exact) << name(t) << " m=" << m;
      } else {  // generation stays exact for float weights
        EXPECT_EQ(fast, exact) << name(t) << " m=" << m;
      }
      // kInt16 (the default) never rounds float weights
      std::vector<float> i16(fast.size());
      matmul(w.view(), X.data(), m, k, i16.data(), n, two, Precision::kInt16);
      EXPECT_EQ(i16, exact) << name(t) << " m=" << m;
    }
  }
}

TEST(MatmulFloatInt16, IsExactWithoutVnni) {
  IsaCapGuard guard;
  ThreadPool pool(2);
  constexpr int64_t k = 256, n = 40, m = 16;
  const Weights w = random_weights(DType::F16, n, k, 8);
  const std::vector<float> X = random_activations(static_cast<size_t>(m * k), 4);
  for (Isa cap : {Isa::kAvx2, Isa::kScalar}) {
    set_isa_cap(cap);
    EXPECT_FALSE(float_fast_available(DType::F16)) << isa_name(cap);
    std::vector<float> got(static_cast<size_t>(m * n)), exact(got.size());
    matmul_float_int16(w.view(), X.data(), m, k, got.data(), n, pool);
    matmul(w.view(), X.data(), m, k, exact.data(), n, pool);
    EXPECT_EQ(got, exact) << isa_name(cap);
  }
  set_isa_cap(Isa::kAvx512);
  EXPECT_FALSE(float_fast_available(DType::Q8_0));  // quantized weights have their own paths
}

}  // namespace
}  // namespace ts
