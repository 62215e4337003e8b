// The kernels of token_stats' fused pass (tensor/vec_ops.h) that this layer added: LogitAccumulator's
// U = Σ e^{z−m}(z−m)², each SIMD path against the scalar reference and a two-pass double computation across
// blocks, calls, a rising maximum and −inf logits; and the AVX2 indices_above. (They live with the analysis tests
// because token_stats is their consumer; vec_ops_test.cpp covers S, T, the rank count and indices_above too.)
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "tensor/cpu.h"
#include "tensor/vec_ops.h"

namespace ts {
namespace {

class AccumulatorIsa : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    if (static_cast<int>(active_isa()) < static_cast<int>(GetParam())) GTEST_SKIP() << "CPU lacks " << isa_name(GetParam());
    set_isa_cap(GetParam());
  }
  void TearDown() override { set_isa_cap(Isa::kAvx512); }
};

// Two-pass, double: the final maximum first, then the sums.
struct Sums {
  double m, S, T, U;
};
Sums two_pass(const std::vector<float>& z) {
  double m = -INFINITY;
  for (float v : z) m = std::max(m, double(v));
  Sums s{m, 0, 0, 0};
  for (float v : z) {
    if (v == -INFINITY) continue;
    const double d = double(v) - m, e = std::exp(d);
    s.S += e;
    s.T += e * d;
    s.U += e * d * d;
  }
  return s;
}

// Bound: the SIMD e^{z−m} is good to 3e-7 relative and the lanes sum ≤ 64 fp32 terms before going to double, so
// S, T and U are good to ~1e-6 relative to the sum of their terms' magnitudes (S, |T|, U: every term of T has the
// sign of (z − m) ≤ 0, so |T| is that sum). The scalar path is the double recurrence: 1e-12.
TEST_P(AccumulatorIsa, SecondMomentMatchesTwoPassAcrossBlocksAndCalls) {
  const double tol = GetParam() == Isa::kScalar ? 1e-12 : 2e-6;
  std::mt19937 rng(11);
  std::normal_distribution<float> nd(0.f, 5.f);
  for (int n : {1, 7, 16, 511, 1024, 1025, 5000, 32000}) {
    std::vector<float> z(n);
    for (int i = 0; i < n; ++i) z[i] = nd(rng) + 0.003f * i;  // rising maximum: rescaling at most blocks
    z[n / 2] = -INFINITY;
    if (n > 3) z[n - 2] = -INFINITY;  // in a tail
    LogitAccumulator a, ref;
    accumulate_logits(a, z.data(), n / 3, 0.f);  // two calls, as token_stats makes per chunk
    accumulate_logits(a, z.data() + n / 3, n - n / 3, 0.f);
    accumulate_logits_ref(ref, z.data(), n, 0.f);
    const Sums w = two_pass(z);
    if (n == 1) {  // the only logit is −inf: nothing accumulates
      EXPECT_EQ(a.S, 0.0);
      continue;
    }
    EXPECT_DOUBLE_EQ(a.m, w.m) << n;
    EXPECT_NEAR(a.S, w.S, tol * w.S) << n;
    EXPECT_NEAR(a.T, w.T, tol * std::fabs(w.T) + tol * w.S) << n;
    EXPECT_NEAR(a.U, w.U, tol * w.U + tol * w.S) << n;
    EXPECT_NEAR(ref.U, w.U, 1e-12 * w.U) << n;
  }
}

TEST_P(AccumulatorIsa, RescalingFromAnEarlierMaximumKeepsTheSecondMoment) {
  // Hand case: z = (0, 1, 2) seen one at a time, so the maximum rises twice. Final m = 2, d = (−2, −1, 0):
  // S = e^{-2} + e^{-1} + 1, T = −2e^{-2} − e^{-1}, U = 4e^{-2} + e^{-1}.
  const float z[3] = {0.f, 1.f, 2.f};
  LogitAccumulator a;
  for (const float& v : z) accumulate_logits(a, &v, 1, 0.f);
  const double e1 = std::exp(-1.0), e2 = std::exp(-2.0);
  const double tol = GetParam() == Isa::kScalar ? 1e-15 : 1e-6;
  EXPECT_EQ(a.m, 2.0);
  EXPECT_NEAR(a.S, e2 + e1 + 1, tol);
  EXPECT_NEAR(a.T, -2 * e2 - e1, tol);
  EXPECT_NEAR(a.U, 4 * e2 + e1, tol);
}

TEST_P(AccumulatorIsa, IndicesAboveListsExactlyTheLargerOnesInOrder) {
  std::mt19937 rng(12);
  std::normal_distribution<float> nd(0.f, 1.f);
  for (int n : {0, 5, 8, 9, 4099}) {
    std::vector<float> z(n);
    for (auto& v : z) v = nd(rng);
    if (n > 8) z[8] = 2.0f;  // equal to the threshold: not above it
    std::vector<int32_t> idx(z.size() + 1);
    const int64_t c = indices_above(z.data(), n, 2.0f, idx.data());
    std::vector<int32_t> want;
    for (int i = 0; i < n; ++i)
      if (z[i] > 2.0f) want.push_back(i);
    ASSERT_EQ(c, static_cast<int64_t>(want.size())) << n;
    for (int64_t i = 0; i < c; ++i) EXPECT_EQ(idx[i], want[i]);
  }
}

INSTANTIATE_TEST_SUITE_P(Isas, AccumulatorIsa, ::testing::Values(Isa::kScalar, Isa::kAvx2, Isa::kAvx512),
                         [](const auto& info) { return std::string(isa_name(info.param)); });

}  // namespace
}  // namespace ts
