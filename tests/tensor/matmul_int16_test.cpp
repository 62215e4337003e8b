// The int16-activation matmul (Precision::kInt16, tensor/matmul_int16.h) on random data.
//
// Bounds, per output y = Σ_s ws·dx·(Σ_{k∈s} w16·q) − Σ_s wm·Σ_{k∈s} x:
//  * SIMD against matmul_int16_ref. Both use the same q and dx (the same fp32 operations) and exact integer
//    sub-block sums, so they are not bit-identical only because the reference scales and adds in double while the
//    kernel rounds in fp32, in an order set by its k-blocks. Each sub-block term picks up at most 2 roundings
//    (int32 → fp32, ws·dx); the fma chain of a k-block of kc = 256 adds at most 2·256/16 = 32 (scale and min terms);
//    the k-blocks are added in at most k/256 = 22 steps for k = 5632; the fp32 Σx of a sub-block of 32 is a 5-level
//    tree; the reference's final cast 1. To first order:
//      |Δ| <= 64 · 2⁻²⁴ · M,   M = Σ_k (|ws·w16·dx·q| + |wm|·|x|)      (≈ 3.8e-6 of the magnitude M)
//    M, not |y|: y may cancel. A dropped, doubled or mis-scaled sub-block is off by about M / (k / sb) ≫ that.
//  * Either against the fp64 product of the stored weights with the unquantized activations: rounding x to dx·q
//    moves an element by at most dx/2 (plus < 1% of that from the float rounding of x·(32767/max|x|)), so
//      |Δ| <= Σ_k |ws·w16| · 0.51 · dx  + the fp32 bound above.
//    That is 258 times tighter than the int8 path's bound; the reference test checks the ratio on real errors.
//  * The GEMV (m <= kGemvMaxRows, generation) is bit-identical to the GEMM for the same activation row: same q, dx,
//    Σx, exact integer sub-block sums, and the tile's fp32 operations in the tile's order.
//  * Where the int16 path does not run (no AVX-512 VNNI, fp weights) kInt16 is bit-identical to kExact, at every m.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "isa_support.h"
#include "matmul_support.h"
#include "tensor/cpu.h"
#include "tensor/matmul.h"
#include "tensor/matmul_int16.h"
#include "tensor/matmul_int8.h"
#include "tensor/quant.h"

namespace ts {
namespace {

using test::Weights;

using test::IsaCapGuard;
using test::random_activations;
// Normal weights (a few large ones, as trained matrices have), quantized with quantize_row; row stride with slack.
bool make_weights(DType t, int64_t rows, int64_t cols, uint32_t seed, Weights* w) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 0.05f);
  std::vector<float> src(static_cast<size_t>(cols));
  w->type = t;
  w->rows = rows;
  w->cols = cols;
  w->stride = row_bytes(t, cols) + 32;
  w->bytes.assign(w->stride * static_cast<size_t>(rows), 0);
  for (int64_t r = 0; r < rows; ++r) {
    for (auto& v : src) v = nd(rng);
    src[static_cast<size_t>(r % cols)] *= 8.0f;
    if (!quantize_row(t, src.data(), w->bytes.data() + static_cast<size_t>(r) * w->stride, cols)) return false;
  }
  return true;
}

// Per output: the activation-rounding bound Σ_k |ws·w16|·0.51·dx and the magnitude M of the header comment.
struct Bounds {
  std::vector<double> rounding, magnitude;
};

Bounds bounds(const WeightView& W, const float* X, int64_t m, int64_t ldx) {
  int8_detail::Int8Format f;
  EXPECT_TRUE(int8_detail::int8_format(W.type, int16_detail::kActBlock, &f));
  const int64_t k = W.cols;
  std::vector<uint8_t> u(static_cast<size_t>(k));
  std::vector<float> ws(static_cast<size_t>(k / f.native_sb)), wm(ws.size(), 0.0f);
  std::vector<int16_t> q(static_cast<size_t>(k));
  std::vector<float> dx(static_cast<size_t>(k / int16_detail::kActBlock));
  Bounds b;
  b.rounding.assign(static_cast<size_t>(m * W.rows), 0.0);
  b.magnitude.assign(static_cast<size_t>(m * W.rows), 0.0);
  for (int64_t r = 0; r < W.rows; ++r) {
    int8_detail::decode_row_ref(W.type, W.row(r), 0, k, u.data(), ws.data(), wm.data());
    for (int64_t i = 0; i < m; ++i) {
      int16_detail::quantize_act_ref(X + i * ldx, k, q.data(), dx.data());
      double rb = 0, mb = 0;
      for (int64_t p = 0; p < k; ++p) {
        const size_t s = static_cast<size_t>(p / f.native_sb);
        const double d = dx[static_cast<size_t>(p / int16_detail::kActBlock)];
        const int w16 = static_cast<int>(u[static_cast<size_t>(p)]) - f.offset;
        const double a = std::fabs(static_cast<double>(ws[s]) * w16);
        rb += a * 0.51 * d;
        mb += a * d * std::abs(q[static_cast<size_t>(p)]);
        if (f.mins) mb += std::fabs(wm[s]) * std::fabs(X[i * ldx + p]);
      }
      b.rounding[static_cast<size_t>(i * W.rows + r)] = rb;
      b.magnitude[static_cast<size_t>(i * W.rows + r)] = mb;
    }
  }
  return b;
}

constexpr double kFp32Tol = 64.0 / (1 << 24);
constexpr float kSentinel = 12345.0f;
const DType kTypes[] = {DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1,
                        DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K};

std::string name(DType t) { return std::string(dtype_name(t)); }

TEST(MatmulInt16, QuantizerRoundsEachElementWithinHalfAStepOfItsBlock) {
  std::vector<float> x = random_activations(128, 1);
  std::fill(x.begin() + 64, x.begin() + 96, 0.0f);  // an all-zero block
  std::vector<int16_t> q(128);
  std::vector<float> dx(4);
  int16_detail::quantize_act_ref(x.data(), 128, q.data(), dx.data());
  for (int b = 0; b < 4; ++b) {
    int qmax = 0;
    for (int j = 32 * b; j < 32 * b + 32; ++j) {
      qmax = std::max(qmax, std::abs(static_cast<int>(q[j])));
      EXPECT_LE(std::fabs(x[j] - dx[b] * q[j]), 0.51 * dx[b]) << "element " << j;
    }
    EXPECT_EQ(qmax, b == 2 ? 0 : 32767) << "block " << b << ": the largest element maps to ±32767";
  }
}

TEST(MatmulInt16, ReferenceStaysWithinTheActivationRoundingBoundAndFarInsideInt8s) {
  // Runs on every CPU: the reference defines what the int16 path computes.
  for (DType t : kTypes) {
    Weights w;
    ASSERT_TRUE(make_weights(t, 20, 512, 3, &w)) << name(t);
    constexpr int64_t m = 3, k = 512;
    const std::vector<float> X = random_activations(m * k, 5);
    std::vector<float> exact(m * 20), ref16(m * 20), ref8(m * 20);
    matmul_ref(w.view(), X.data(), m, k, exact.data(), 20);
    matmul_int16_ref(w.view(), X.data(), m, k, ref16.data(), 20);
    matmul_int8_ref(w.view(), X.data(), m, k, ref8.data(), 20, kFastBlock);
    const Bounds b = bounds(w.view(), X.data(), m, k);
    double err16 = 0, err8 = 0;
    for (size_t i = 0; i < exact.size(); ++i) {
      EXPECT_LE(std::fabs(ref16[i] - exact[i]), b.rounding[i] + kFp32Tol * b.magnitude[i] + 1e-7)
          << name(t) << " element " << i;
      err16 += std::fabs(ref16[i] - exact[i]);
      err8 += std::fabs(ref8[i] - exact[i]);
    }
    EXPECT_GT(err16, 0.0) << name(t) << ": activations were not quantized";
    // 16-bit steps are 258 times finer than 8-bit ones; fp32 rounding of y (|y| ~ 1) takes part of the margin
    EXPECT_LT(err16 * 50, err8) << name(t);
  }
}

// Q8_0 codes of −128 (the largest |w16|) against activations of −1 (q = −32767): every sub-block sum is
// 32·128·32767 ≈ 2²⁷, and 176 of them (k = 5632) would overflow a single int32 sum by a factor of 11.
void check_extreme_codes(int64_t n, int64_t m) {
  constexpr int64_t k = 5632;
  Weights w{DType::Q8_0, n, k, row_bytes(DType::Q8_0, k), {}};
  w.bytes.assign(w.stride * n, 0x80);  // qs = −128
  const uint16_t one_half = 0x3800;    // d = 0.5 in fp16
  for (size_t b = 0; b < w.bytes.size(); b += 34) std::memcpy(&w.bytes[b], &one_half, 2);
  const std::vector<float> X(static_cast<size_t>(m * k), -1.0f);
  const double want = 0.5 * 128.0 * k;  // Σ (0.5·−128)·(−1)
  std::vector<float> ref(m * n), y(m * n);
  matmul_int16_ref(w.view(), X.data(), m, k, ref.data(), n);
  ThreadPool pool(2);
  matmul_int16(w.view(), X.data(), m, k, y.data(), n, pool);
  for (size_t i = 0; i < y.size(); ++i) {
    EXPECT_NEAR(ref[i], want, want * 1e-6) << "reference element " << i;
    EXPECT_NEAR(y[i], want, want * 1e-6) << "element " << i << (int16_matmul_available(DType::Q8_0) ? "" : " (exact)");
  }
}

TEST(MatmulInt16, ReferenceSumsExtremeCodesAndActivationsWithoutOverflow) {
  // n = 3, m = 9: the GEMM; n = 19 (a group of 16 rows and a moved-back one), m = 1..4: the GEMV
  for (auto [n, m] : {std::pair<int64_t, int64_t>{3, 9}, {19, 1}, {19, 2}, {19, 3}, {19, 4}}) {
    SCOPED_TRACE("n=" + std::to_string(n) + " m=" + std::to_string(m));
    check_extreme_codes(n, m);
  }
}

// matmul_int16 on m rows of strided X against matmul_int16_ref (fp32 bound) and matmul_ref (activation-rounding
// bound); the padding columns of Y must stay untouched. Returns the largest |Y − reference| in units of 2⁻²⁴·M.
double check_int16(const Weights& w, int64_t m, ThreadPool& pool) {
  const int64_t k = w.cols, n = w.rows, ldx = k + 3, ldy = n + 2;
  const std::vector<float> X = random_activations(static_cast<size_t>(m * ldx), 100 + static_cast<uint32_t>(m));
  std::vector<float> y(static_cast<size_t>(m * ldy), kSentinel), ref(y), exact(y);
  matmul_int16(w.view(), X.data(), m, ldx, y.data(), ldy, pool);
  matmul_int16_ref(w.view(), X.data(), m, ldx, ref.data(), ldy);
  matmul_ref(w.view(), X.data(), m, ldx, exact.data(), ldy);
  const Bounds b = bounds(w.view(), X.data(), m, ldx);
  const std::string what =
      name(w.type) + " m=" + std::to_string(m) + " n=" + std::to_string(n) + " k=" + std::to_string(k);
  int failures = 0;
  double worst = 0;
  for (int64_t i = 0; i < m && failures < 5; ++i) {
    for (int64_t j = 0; j < ldy && failures < 5; ++j) {
      const size_t e = static_cast<size_t>(i * ldy + j);
      if (j >= n) {
        if (y[e] != kSentinel) ADD_FAILURE() << what << ": wrote padding Y[" << i << "][" << j << "]";
        failures += y[e] != kSentinel;
        continue;
      }
      const size_t o = static_cast<size_t>(i * n + j);
      const double fp_tol = kFp32Tol * b.magnitude[o] + 1e-7;
      if (b.magnitude[o] > 0) worst = std::max(worst, std::fabs(y[e] - ref[e]) / (b.magnitude[o] / (1 << 24)));
      if (!(std::fabs(y[e] - ref[e]) <= fp_tol)) {
        ADD_FAILURE() << what << ": Y[" << i << "][" << j << "] = " << y[e] << ", int16 reference " << ref[e]
                      << ", tolerance " << fp_tol;
        ++failures;
      }
      if (!(std::fabs(y[e] - exact[e]) <= b.rounding[o] + fp_tol)) {
        ADD_FAILURE() << what << ": Y[" << i << "][" << j << "] = " << y[e] << ", exact " << exact[e] << ", bound "
                      << b.rounding[o] + fp_tol;
        ++failures;
      }
    }
  }
  return worst;
}

TEST(MatmulInt16, SimdMatchesReferenceAndBoundForEveryTypeAndAwkwardShape) {
  ThreadPool pool(2);
  for (DType t : kTypes) {
    if (!int16_matmul_available(t)) {
      std::printf("[  NOTE    ] no int16 path for %s on this CPU (needs AVX-512 VNNI): not tested\n", name(t).c_str());
      continue;
    }
    const bool kquant = traits(t).block_elems == 256;
    // k = 256: one k-block; k = 5632: the 1.1B FFN width, 22 k-blocks; k = 96 (block-32 types): a lone partial
    // k-block. n = 33: one full and one 1-row weight sliver; m = 7 and 13: partial activation slivers (mr = 6).
    double worst = 0;
    for (int64_t k : kquant ? std::vector<int64_t>{256, 5632} : std::vector<int64_t>{96, 256, 5632}) {
      Weights w;
      ASSERT_TRUE(make_weights(t, 33, k, 7 + static_cast<uint32_t>(k), &w)) << name(t);
      for (int64_t m : {7, 13}) worst = std::max(worst, check_int16(w, m, pool));
    }
    std::printf("[  INFO    ] %s: largest |SIMD − reference| %.2f · 2⁻²⁴·M (bound 64)\n", name(t).c_str(), worst);
  }
}

TEST(MatmulInt16, GemvIsBitIdenticalToTheGemmForEveryTypeFewRowsAndAwkwardShapes) {
  ThreadPool pool(2);
  for (DType t : kTypes) {
    if (!int16_matmul_available(t)) {
      std::printf("[  NOTE    ] no int16 path for %s on this CPU (needs AVX-512 VNNI): not tested\n", name(t).c_str());
      continue;
    }
    const bool kquant = traits(t).block_elems == 256;
    // n = 37: two full groups of 16 weight rows and a 5-row one (read as the last 16 rows, storing 5); n = 5: fewer
    // rows than one group; k = 96 / 288: a lone or trailing partial k-block.
    for (int64_t k : kquant ? std::vector<int64_t>{256, 768} : std::vector<int64_t>{96, 288, 2048}) {
      for (int64_t rows : {37, 5}) {
        Weights w;
        ASSERT_TRUE(make_weights(t, rows, k, 11 + static_cast<uint32_t>(k + rows), &w)) << name(t);
        const int64_t n = w.rows, ldx = k + 3, ldy = n + 2, most = int16_detail::gemv_max_rows(t), big = most + 3;
        const std::vector<float> X = random_activations(static_cast<size_t>(big * ldx), 31 + static_cast<uint32_t>(k));
        std::vector<float> gemm(static_cast<size_t>(big * ldy), kSentinel);
        matmul_int16(w.view(), X.data(), big, ldx, gemm.data(), ldy, pool);  // m > gemv_max_rows: the GEMM
        for (int64_t m = 1; m <= most; ++m) {
          const std::string what =
              name(t) + " m=" + std::to_string(m) + " n=" + std::to_string(n) + " k=" + std::to_string(k);
          std::vector<float> y(static_cast<size_t>(m * ldy), kSentinel);
          matmul(w.view(), X.data(), m, ldx, y.data(), ldy, pool, Precision::kInt16);
          for (int64_t i = 0; i < m; ++i)
            for (int64_t j = 0; j < ldy; ++j) {
              const size_t e = static_cast<size_t>(i * ldy + j);
              ASSERT_EQ(y[e], gemm[e]) << what << " Y[" << i << "][" << j << "]" << (j >= n ? " (padding)" : "");
            }
          check_int16(w, m, pool);  // and against the reference and the exact product, as the GEMM is
        }
      }
    }
  }
}

TEST(MatmulInt16, Int16IsExactWithoutVnniAndForWeightsAtEveryM) {
  IsaCapGuard guard;
  ThreadPool pool(2);
  constexpr int64_t k = 256, n = 40;
  auto same = [&](const Weights& w, int64_t m, const std::string& what) {
    const std::vector<float> X = random_activations(static_cast<size_t>(m * k), 9);
    std::vector<float> i16(static_cast<size_t>(m * n)), exact(i16.size());
    matmul(w.view(), X.data(), m, k, i16.data(), n, pool, Precision::kInt16);
    matmul(w.view(), X.data(), m, k, exact.data(), n, pool, Precision::kExact);
    for (size_t i = 0; i < i16.size(); ++i) ASSERT_EQ(i16[i], exact[i]) << what << " element " << i;
  };
  Weights q8, f16, bf16;
  ASSERT_TRUE(make_weights(DType::Q8_0, n, k, 1, &q8));
  ASSERT_TRUE(make_weights(DType::F16, n, k, 2, &f16));
  ASSERT_TRUE(make_weights(DType::BF16, n, k, 3, &bf16));
  EXPECT_FALSE(int16_matmul_available(DType::F16));
  EXPECT_FALSE(int16_matmul_available(DType::BF16));
  EXPECT_FALSE(int16_matmul_available(DType::F32));
  for (int64_t m : {1, 4, 64}) {
    same(f16, m, "F16 m=" + std::to_string(m));
    same(bf16, m, "BF16 m=" + std::to_string(m));
  }
  for (Isa cap : {Isa::kAvx2, Isa::kScalar}) {
    set_isa_cap(cap);
    EXPECT_FALSE(int16_matmul_available(DType::Q8_0)) << isa_name(cap);
    for (int64_t m : {1, 4, 64}) same(q8, m, "Q8_0 m=" + std::to_string(m) + " capped at " + isa_name(cap));
  }
  set_isa_cap(Isa::kAvx512);
  if (int16_matmul_available(DType::Q8_0)) {
    // ... and where it runs, kInt16 really is the int16 path, with blocks of 32 whatever act_block says
    const std::vector<float> X = random_activations(64 * k, 9);
    std::vector<float> via_matmul(64 * n), via_fine(64 * n), direct(64 * n), exact(64 * n);
    matmul(q8.view(), X.data(), 64, k, via_matmul.data(), n, pool, Precision::kInt16);
    matmul(q8.view(), X.data(), 64, k, via_fine.data(), n, pool, Precision::kInt16, kFastFineBlock);
    matmul_int16(q8.view(), X.data(), 64, k, direct.data(), n, pool);
    matmul(q8.view(), X.data(), 64, k, exact.data(), n, pool);
    EXPECT_EQ(via_matmul, direct);
    EXPECT_EQ(via_fine, direct);
    EXPECT_NE(direct, exact);
    // for generation's single row too (the GEMV)
    std::vector<float> one(n), one_exact(n);
    matmul(q8.view(), X.data(), 1, k, one.data(), n, pool, Precision::kInt16);
    matmul(q8.view(), X.data(), 1, k, one_exact.data(), n, pool, Precision::kExact);
    EXPECT_NE(one, one_exact);
  }
}

TEST(MatmulInt16, OneAndTwoThreadsGiveBitIdenticalResults) {
  if (!int16_matmul_available(DType::Q4_K)) GTEST_SKIP() << "no int16 path on this CPU";
  constexpr int64_t k = 512, n = 300;
  for (DType t : {DType::Q4_K, DType::Q8_0, DType::Q6_K}) {
    Weights w;
    ASSERT_TRUE(make_weights(t, n, k, 21, &w));
    ThreadPool one(1), two(2);
    for (int64_t m : {50, 1, 3}) {  // the GEMM and the GEMV
      const std::vector<float> X = random_activations(static_cast<size_t>(m * k), 17);
      std::vector<float> y1(static_cast<size_t>(m * n)), y2(y1.size());
      matmul_int16(w.view(), X.data(), m, k, y1.data(), n, one);
      matmul_int16(w.view(), X.data(), m, k, y2.data(), n, two);
      EXPECT_EQ(y1, y2) << name(t) << " m=" << m;
    }
  }
}

// matmul_int16_group: q/k/v-like products (one input, types differing, rows not a multiple of 16) and gate/up-like
// aligned pairs with an epilogue give each output the bits matmul_int16 gives it alone, on 1 and 2 threads.
TEST(MatmulInt16, GroupedProductsAreBitIdenticalToOneAtATime) {
  if (!int16_matmul_available(DType::Q4_K)) GTEST_SKIP() << "no int16 path on this CPU";
  constexpr int64_t k = 512;
  Weights wq, wk, wv, gate, up;
  ASSERT_TRUE(make_weights(DType::Q4_K, 80, k, 1, &wq));
  ASSERT_TRUE(make_weights(DType::Q4_K, 16, k, 2, &wk));
  ASSERT_TRUE(make_weights(DType::Q6_K, 37, k, 3, &wv));  // another format; a partial last group
  ASSERT_TRUE(make_weights(DType::Q8_0, 48, k, 4, &gate));
  ASSERT_TRUE(make_weights(DType::Q4_K, 48, k, 5, &up));
  for (int threads : {1, 2}) {
    ThreadPool pool(threads);
    for (int64_t m = 1; m <= int16_detail::gemv_max_rows(DType::Q6_K); ++m) {  // the fewest of the three types
      const std::string what = "threads=" + std::to_string(threads) + " m=" + std::to_string(m);
      const int64_t ldx = k + 5;
      const std::vector<float> X = random_activations(static_cast<size_t>(m * ldx), 40 + static_cast<uint32_t>(m));
      const std::vector<float> X2 = random_activations(static_cast<size_t>(m * ldx), 50 + static_cast<uint32_t>(m));
      auto alone = [&](const Weights& w, const std::vector<float>& x) {
        std::vector<float> y(static_cast<size_t>(m * w.rows));
        matmul_int16(w.view(), x.data(), m, ldx, y.data(), w.rows, pool);
        return y;
      };
      // not aligned: three products, the third on another input
      std::vector<float> yq(static_cast<size_t>(m * 80)), yk(static_cast<size_t>(m * 16)), yv(static_cast<size_t>(m * 37));
      const GroupProduct qkv[] = {{wq.view(), X.data(), ldx, yq.data(), 80},
                                  {wk.view(), X.data(), ldx, yk.data(), 16},
                                  {wv.view(), X2.data(), ldx, yv.data(), 37}};
      ASSERT_TRUE(matmul_int16_group(qkv, m, pool, false)) << what;
      EXPECT_EQ(yq, alone(wq, X)) << what;
      EXPECT_EQ(yk, alone(wk, X)) << what;
      EXPECT_EQ(yv, alone(wv, X2)) << what;
      // aligned with an epilogue: it sees every row range once, after both products wrote it
      std::vector<float> yg(static_cast<size_t>(m * 48)), yu(yg.size());
      std::vector<int> seen(48, 0);
      const std::vector<float> ref_g = alone(gate, X), ref_u = alone(up, X);
      bool rows_ready = true;
      auto epilogue = [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
          ++seen[static_cast<size_t>(r)];
          for (int64_t i = 0; i < m; ++i) {
            const size_t e = static_cast<size_t>(i * 48 + r);
            if (yg[e] != ref_g[e] || yu[e] != ref_u[e]) rows_ready = false;
            yg[e] += yu[e];
          }
        }
      };
      const GroupProduct pair[] = {{gate.view(), X.data(), ldx, yg.data(), 48}, {up.view(), X.data(), ldx, yu.data(), 48}};
      ASSERT_TRUE(matmul_int16_group(pair, m, pool, true, epilogue)) << what;
      EXPECT_TRUE(rows_ready) << what;
      EXPECT_EQ(seen, std::vector<int>(48, 1)) << what;
      for (size_t e = 0; e < yg.size(); ++e) ASSERT_EQ(yg[e], ref_g[e] + ref_u[e]) << what << " element " << e;
    }
  }
}

TEST(MatmulInt16, GroupDeclinesWhereTheGemvDoesNotRun) {
  constexpr int64_t k = 256;
  ThreadPool pool(2);
  Weights q8, small, f16, other;
  ASSERT_TRUE(make_weights(DType::Q8_0, 32, k, 1, &q8));
  ASSERT_TRUE(make_weights(DType::Q8_0, 8, k, 2, &small));
  ASSERT_TRUE(make_weights(DType::F16, 32, k, 3, &f16));
  ASSERT_TRUE(make_weights(DType::Q8_0, 48, k, 4, &other));
  const std::vector<float> X = random_activations(8 * k, 7);
  std::vector<float> y(8 * 48, kSentinel);
  auto declines = [&](std::vector<GroupProduct> g, int64_t m, bool aligned) {
    const bool ran = matmul_int16_group(g, m, pool, aligned);
    return !ran && std::all_of(y.begin(), y.end(), [](float v) { return v == kSentinel; });
  };
  const GroupProduct a{q8.view(), X.data(), k, y.data(), 32};
  EXPECT_TRUE(declines({a}, int16_detail::kGemvMaxRows + 1, false));              // the GEMM's rows
  EXPECT_TRUE(declines({a}, int16_detail::gemv_max_rows(DType::Q8_0) + 1, false));
  EXPECT_TRUE(declines({a, {f16.view(), X.data(), k, y.data(), 32}}, 1, false));  // no int16 form
  EXPECT_TRUE(declines({a, {small.view(), X.data(), k, y.data(), 8}}, 1, false));  // under one group
  EXPECT_TRUE(declines({a, {other.view(), X.data(), k, y.data(), 48}}, 1, true));  // aligned, unequal rows
  EXPECT_TRUE(declines({}, 1, false));
  if (!int16_matmul_available(DType::Q8_0)) {
    EXPECT_TRUE(declines({a}, 1, false));
  }
}

}  // namespace
}  // namespace ts
