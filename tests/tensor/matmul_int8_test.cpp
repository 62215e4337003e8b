// The int8-activation matmul (Precision::kFast, tensor/matmul_int8.h) on random data.
//
// Three bounds:
//  * SIMD against matmul_int8_ref (same quantized activations, integer block sums, scales in double): they differ
//    only by fp32 rounding of the per-sub-block partial sums:
//    |Δ| <= 1e-5 · Σ_k (|ws·(u−off)| + |wm|)·|x| + 1e-6.
//  * Either against the fp64 product of the stored weights with the unquantized activations: rounding x to dx·q
//    moves each element by at most dx/2 (dx = its block's max|x| / 127; blocks of 32 or 16), so
//    |Δ| <= Σ_k |ws·(u−off)| · dx/2 plus the fp32 rounding above.
//    A kernel that dropped or mis-scaled a block would exceed both by orders of magnitude.
//  * Where the int8 path does not run (no AVX-512 VNNI, fp weights) kFast is bit-identical to kExact; for
//    m <= kFastMinRows it is kInt16's GEMV where that runs, else kExact.
//  * The int8 GEMV (a few rows) is bit-identical to the int8 GEMM.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "isa_support.h"
#include "matmul_support.h"
#include "tensor/cpu.h"
#include "tensor/matmul.h"
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

// Per output: the activation-rounding bound Σ_k |ws·(u−off)|·dx/2 and the fp32-rounding scale
// Σ_k (|ws·(u−off)| + |wm|)·|x|.
struct Bounds {
  std::vector<double> rounding, magnitude;
};

Bounds bounds(const WeightView& W, const float* X, int64_t m, int64_t ldx, int act) {
  int8_detail::Int8Format f;
  EXPECT_TRUE(int8_detail::int8_format(W.type, act, &f));
  const int64_t k = W.cols;
  std::vector<uint8_t> u(static_cast<size_t>(k));
  std::vector<float> ws(static_cast<size_t>(k / f.native_sb)), wm(ws.size(), 0.0f);
  std::vector<int8_t> q(static_cast<size_t>(k));
  std::vector<float> dx(static_cast<size_t>(k / act));
  Bounds b;
  b.rounding.assign(static_cast<size_t>(m * W.rows), 0.0);
  b.magnitude.assign(static_cast<size_t>(m * W.rows), 0.0);
  for (int64_t r = 0; r < W.rows; ++r) {
    int8_detail::decode_row_ref(W.type, W.row(r), 0, k, u.data(), ws.data(), wm.data());
    for (int64_t i = 0; i < m; ++i) {
      int8_detail::quantize_act_ref(X + i * ldx, k, act, q.data(), dx.data());
      double rb = 0, mb = 0;
      for (int64_t p = 0; p < k; ++p) {
        const size_t s = static_cast<size_t>(p / f.native_sb);
        const int code = static_cast<int>(u[static_cast<size_t>(p)]) - f.offset;
        const double a = std::fabs(static_cast<double>(ws[s]) * code);
        rb += a * dx[static_cast<size_t>(p / act)] / 2;
        mb += (a + (f.mins ? std::fabs(wm[s]) : 0.0)) * std::fabs(X[i * ldx + p]);
      }
      b.rounding[static_cast<size_t>(i * W.rows + r)] = rb;
      b.magnitude[static_cast<size_t>(i * W.rows + r)] = mb;
    }
  }
  return b;
}

constexpr float kSentinel = 12345.0f;
const DType kTypes[] = {DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1,
                        DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K};

std::string name(DType t) { return std::string(dtype_name(t)); }

TEST(MatmulInt8, ReferenceStaysWithinTheActivationRoundingBoundOfTheExactProduct) {
  // Runs on every CPU: the reference defines what the int8 path computes.
  for (DType t : kTypes) {
    Weights w;
    if (!make_weights(t, 20, 512, 3, &w)) {
      std::printf("[  NOTE    ] quantize_row cannot make %s weights: not tested\n", name(t).c_str());
      continue;
    }
    constexpr int64_t m = 3, k = 512;
    const std::vector<float> X = random_activations(m * k, 5);
    std::vector<float> exact(m * 20);
    matmul_ref(w.view(), X.data(), m, k, exact.data(), 20);
    double err[2] = {0, 0};
    for (int act : {kFastBlock, kFastFineBlock}) {
      std::vector<float> ref(m * 20);
      matmul_int8_ref(w.view(), X.data(), m, k, ref.data(), 20, act);
      const Bounds b = bounds(w.view(), X.data(), m, k, act);
      for (size_t i = 0; i < exact.size(); ++i) {
        const double tol = b.rounding[i] + 1e-5 * b.magnitude[i] + 1e-6;
        EXPECT_LE(std::fabs(ref[i] - exact[i]), tol) << name(t) << " act " << act << " element " << i;
        err[act == kFastFineBlock] += std::fabs(ref[i] - exact[i]);
      }
    }
    EXPECT_GT(err[0], 0.0) << name(t) << ": activations were not quantized";
    // the outliers in the activations make finer blocks clearly better
    EXPECT_LT(err[1], err[0]) << name(t);
  }
}

// matmul_int8 on m rows of strided X against matmul_int8_ref (fp32-rounding bound) and matmul_ref (activation-
// rounding bound); the padding columns of Y must stay untouched.
void check_int8(const Weights& w, int64_t m, int act, ThreadPool& pool) {
  const int64_t k = w.cols, n = w.rows, ldx = k + 3, ldy = n + 2;
  const std::vector<float> X = random_activations(static_cast<size_t>(m * ldx), 100 + static_cast<uint32_t>(m));
  std::vector<float> y(static_cast<size_t>(m * ldy), kSentinel), ref(y), exact(y);
  matmul_int8(w.view(), X.data(), m, ldx, y.data(), ldy, pool, act);
  matmul_int8_ref(w.view(), X.data(), m, ldx, ref.data(), ldy, act);
  matmul_ref(w.view(), X.data(), m, ldx, exact.data(), ldy);
  const Bounds b = bounds(w.view(), X.data(), m, ldx, act);
  const std::string what = name(w.type) + " m=" + std::to_string(m) + " n=" + std::to_string(n) +
                           " k=" + std::to_string(k) + " act=" + std::to_string(act);
  int failures = 0;
  for (int64_t i = 0; i < m && failures < 5; ++i) {
    for (int64_t j = 0; j < ldy && failures < 5; ++j) {
      const size_t e = static_cast<size_t>(i * ldy + j);
      if (j >= n) {
        if (y[e] != kSentinel) ADD_FAILURE() << what << ": wrote padding Y[" << i << "][" << j << "]";
        failures += y[e] != kSentinel;
        continue;
      }
      const size_t o = static_cast<size_t>(i * n + j);
      const double fp_tol = 1e-5 * b.magnitude[o] + 1e-6;
      if (!(std::fabs(y[e] - ref[e]) <= fp_tol)) {
        ADD_FAILURE() << what << ": Y[" << i << "][" << j << "] = " << y[e] << ", int8 reference " << ref[e]
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
}

TEST(MatmulInt8, SimdMatchesReferenceAndBoundForEveryTypeAndShape) {
  ThreadPool pool(2);
  for (DType t : kTypes) {
    if (!fast_matmul_available(t)) {
      std::printf("[  NOTE    ] no int8 path for %s on this CPU (needs AVX-512 VNNI): not tested\n", name(t).c_str());
      continue;
    }
    const bool kquant = traits(t).block_elems == 256;
    // k = 768: a full and a partial k-block; k = 96 (block-32 types): a k-block of 96, not a multiple of 64
    for (int64_t k : kquant ? std::vector<int64_t>{768} : std::vector<int64_t>{768, 96}) {
      for (int64_t n : {33, 100}) {
        Weights w;
        if (!make_weights(t, n, k, 7 + static_cast<uint32_t>(n), &w)) break;
        for (int64_t m : {1, 7, 130})
          for (int act : {kFastBlock, kFastFineBlock}) check_int8(w, m, act, pool);
      }
    }
  }
}

// The int8 GEMV (m <= gemv_max_rows(type)) gives each output the GEMM's bits: the first m rows of a product of more
// rows than the GEMV takes (the GEMM, whose rows do not depend on each other) are the GEMV's. Every type it takes,
// both activation blocks (16 splits Q8_0's and Q4_K's sub-blocks), n = 37 (a 5-row last group read as the last 16
// rows) and n = 5 (fewer rows than a group: the GEMM), k with a partial last k-block of 512 and one of 32 columns;
// Y's padding untouched; and the reference and exact bounds (check_int8) at the most rows it takes.
TEST(MatmulInt8, GemvIsBitIdenticalToTheGemmForEveryTypeFewRowsAndAwkwardShapes) {
  ThreadPool pool(2);
  for (DType t : kTypes) {
    if (!fast_matmul_available(t)) {
      std::printf("[  NOTE    ] no int8 path for %s on this CPU (needs AVX-512 VNNI): not tested\n", name(t).c_str());
      continue;
    }
    if (int8_detail::gemv_max_rows(t) == 0) continue;  // the GEMM at every m
    const bool kquant = traits(t).block_elems == 256;
    for (int64_t k : kquant ? std::vector<int64_t>{256, 768} : std::vector<int64_t>{96, 544, 2048}) {
      for (int64_t rows : {37, 5}) {
        Weights w;
        ASSERT_TRUE(make_weights(t, rows, k, 11 + static_cast<uint32_t>(k + rows), &w)) << name(t);
        for (int act : {kFastBlock, kFastFineBlock}) {
          const int64_t n = w.rows, ldx = k + 3, ldy = n + 2, most = int8_detail::gemv_max_rows(t), big = most + 3;
          const std::vector<float> X =
              random_activations(static_cast<size_t>(big * ldx), 31 + static_cast<uint32_t>(k));
          std::vector<float> gemm(static_cast<size_t>(big * ldy), kSentinel);
          matmul_int8(w.view(), X.data(), big, ldx, gemm.data(), ldy, pool, act);  // more rows: the GEMM
          for (int64_t m = 1; m <= most; ++m) {
            const std::string what = name(t) + " m=" + std::to_string(m) + " n=" + std::to_string(n) +
                                     " k=" + std::to_string(k) + " act=" + std::to_string(act);
            std::vector<float> y(static_cast<size_t>(m * ldy), kSentinel);
            matmul_int8(w.view(), X.data(), m, ldx, y.data(), ldy, pool, act);
            for (int64_t i = 0; i < m; ++i)
              for (int64_t j = 0; j < ldy; ++j) {
                const size_t e = static_cast<size_t>(i * ldy + j);
                ASSERT_EQ(y[e], gemm[e]) << what << " Y[" << i << "][" << j << "]" << (j >= n ? " (padding)" : "");
              }
          }
          check_int8(w, most, act, pool);
        }
      }
    }
  }
}

// (kFast on float weights above kFastMinRows rows: matmul_float_int16_test.cpp)
TEST(MatmulInt8, FastIsExactWithoutVnniAndForWeightsOnFewRowsAndInt16ForFewRows) {
  IsaCapGuard guard;
  ThreadPool pool(2);
  constexpr int64_t k = 256, n = 40;
  auto same = [&](const Weights& w, int64_t m, const std::string& what) {
    const std::vector<float> X = random_activations(static_cast<size_t>(m * k), 9);
    std::vector<float> fast(static_cast<size_t>(m * n)), exact(fast.size());
    matmul(w.view(), X.data(), m, k, fast.data(), n, pool, Precision::kFast);
    matmul(w.view(), X.data(), m, k, exact.data(), n, pool, Precision::kExact);
    for (size_t i = 0; i < fast.size(); ++i) ASSERT_EQ(fast[i], exact[i]) << what << " element " << i;
  };
  Weights q8, f16;
  ASSERT_TRUE(make_weights(DType::Q8_0, n, k, 1, &q8));
  ASSERT_TRUE(make_weights(DType::F16, n, k, 2, &f16));
  EXPECT_FALSE(fast_matmul_available(DType::F16));
  EXPECT_FALSE(fast_matmul_available(DType::F32));
  same(f16, 1, "F16 m=1");
  same(f16, kFastMinRows, "F16 m=4");
  {  // few rows: kInt16's GEMV where it runs, exact elsewhere
    const std::vector<float> X = random_activations(static_cast<size_t>(kFastMinRows * k), 9);
    std::vector<float> fast(static_cast<size_t>(kFastMinRows * n)), int16(fast.size()), exact(fast.size());
    matmul(q8.view(), X.data(), kFastMinRows, k, fast.data(), n, pool, Precision::kFast);
    matmul_int16(q8.view(), X.data(), kFastMinRows, k, int16.data(), n, pool);
    matmul(q8.view(), X.data(), kFastMinRows, k, exact.data(), n, pool, Precision::kExact);
    EXPECT_EQ(fast, int16);
    EXPECT_EQ(int16 == exact, !int16_matmul_available(DType::Q8_0));
  }
  for (Isa cap : {Isa::kAvx2, Isa::kScalar}) {
    set_isa_cap(cap);
    EXPECT_FALSE(fast_matmul_available(DType::Q8_0)) << isa_name(cap);
    same(q8, 64, std::string("Q8_0 m=64 capped at ") + isa_name(cap));
    same(q8, 1, std::string("Q8_0 m=1 capped at ") + isa_name(cap));
    EXPECT_FALSE(float_fast_available(DType::F16)) << isa_name(cap);
    same(f16, 64, std::string("F16 m=64 capped at ") + isa_name(cap));
  }
  set_isa_cap(Isa::kAvx512);
  if (fast_matmul_available(DType::Q8_0)) {
    // ... and where it runs, kFast really is the int8 path
    const std::vector<float> X = random_activations(64 * k, 9);
    std::vector<float> fast(64 * n), int8(64 * n);
    matmul(q8.view(), X.data(), 64, k, fast.data(), n, pool, Precision::kFast);
    matmul_int8(q8.view(), X.data(), 64, k, int8.data(), n, pool);
    EXPECT_EQ(fast, int8);
  }
}

TEST(MatmulInt8, OneAndTwoThreadsGiveBitIdenticalResults) {
  if (!fast_matmul_available(DType::Q4_K)) GTEST_SKIP() << "no int8 path on this CPU";
  constexpr int64_t k = 512, n = 300, m = 50;
  for (DType t : {DType::Q4_K, DType::Q8_0}) {
    Weights w;
    ASSERT_TRUE(make_weights(t, n, k, 21, &w));
    ThreadPool one(1), two(2);
    const std::vector<float> X = random_activations(m * k, 17);
    std::vector<float> y1(m * n), y2(m * n);
    matmul_int8(w.view(), X.data(), m, k, y1.data(), n, one);
    matmul_int8(w.view(), X.data(), m, k, y2.data(), n, two);
    EXPECT_EQ(y1, y2) << name(t);
  }
}

}  // namespace
}  // namespace ts
