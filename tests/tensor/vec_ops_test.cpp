// vec_ops: each SIMD path against the scalar reference on random inputs.
#include "tensor/vec_ops.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "tensor/cpu.h"

namespace ts {
namespace {

class VecOps : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    if (static_cast<int>(active_isa()) < static_cast<int>(GetParam())) GTEST_SKIP() << "CPU lacks " << isa_name(GetParam());
    set_isa_cap(GetParam());
  }
  void TearDown() override { set_isa_cap(Isa::kAvx512); }
};

TEST_P(VecOps, ExpShiftSumWithinThreeTenthsPpmOfStdExp) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-80.f, 0.f);
  for (int n : {0, 1, 7, 16, 33, 1000}) {
    std::vector<float> x(n);
    for (auto& v : x) v = u(rng) + 2.5f;
    std::vector<float> y = x;
    const double s = exp_shift_sum(y.data(), n, 2.5f);
    double want_s = 0;
    for (int i = 0; i < n; ++i) {
      const double want = std::exp(double(x[i]) - 2.5);
      want_s += want;
      EXPECT_NEAR(y[i], want, 3e-7 * want + 1e-37) << i;
    }
    EXPECT_NEAR(s, want_s, 3e-7 * want_s);
  }
}

TEST_P(VecOps, AccumulateLogitsMatchesReferenceAcrossBlocks) {
  std::mt19937 rng(2);
  std::normal_distribution<float> nd(0.f, 5.f);
  for (int n : {1, 15, 1024, 1025, 5000}) {
    std::vector<float> z(n);
    for (int i = 0; i < n; ++i) z[i] = nd(rng) + 0.002f * i;
    z[n / 2] = -INFINITY;
    LogitAccumulator a, b;
    // two calls, as token_stats makes per chunk
    accumulate_logits(a, z.data(), n / 3, z[0]);
    accumulate_logits(a, z.data() + n / 3, n - n / 3, z[0]);
    accumulate_logits_ref(b, z.data(), n, z[0]);
    EXPECT_EQ(a.greater, b.greater);
    EXPECT_DOUBLE_EQ(a.m, b.m);
    EXPECT_NEAR(a.S, b.S, 1e-6 * b.S);
    EXPECT_NEAR(a.T, b.T, 1e-6 * std::fabs(b.T) + 1e-6 * b.S);
  }
}

TEST_P(VecOps, IndicesAboveListsExactlyTheLargerOnesInOrder) {
  std::mt19937 rng(3);
  std::normal_distribution<float> nd(0.f, 1.f);
  std::vector<float> z(1003);
  for (auto& v : z) v = nd(rng);
  std::vector<int32_t> idx(z.size());
  const int64_t c = indices_above(z.data(), static_cast<int64_t>(z.size()), 1.5f, idx.data());
  std::vector<int32_t> want;
  for (size_t i = 0; i < z.size(); ++i)
    if (z[i] > 1.5f) want.push_back(static_cast<int32_t>(i));
  ASSERT_EQ(c, static_cast<int64_t>(want.size()));
  for (int64_t i = 0; i < c; ++i) EXPECT_EQ(idx[i], want[i]);
}

// SwiGLU's gate, g / (1 + e^−g) · u, against the same formula in double: within a few fp32 roundings (the exp's
// 3e-7, a division, a product), for g across the exp's range and beyond it (±100: the vector exp clamps, the value
// is ~0 or g·u); and each element's value is the same bits however a call's range is cut (the model's batch
// invariance relies on it).
TEST_P(VecOps, SiluMulWithinAFewRoundingsAndIndependentOfTheRange) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> g_dist(-30.f, 30.f), u_dist(-3.f, 3.f);
  const int n = 1037;
  std::vector<float> gate(n), up(n);
  for (int i = 0; i < n; ++i) gate[i] = g_dist(rng), up[i] = u_dist(rng);
  for (float edge : {0.0f, -0.0f, 1e-30f, -1e-30f, 88.0f, -88.0f, 100.0f, -100.0f}) gate[rng() % n] = edge;
  std::vector<float> whole = gate;
  silu_mul(whole.data(), up.data(), n);
  for (int i = 0; i < n; ++i) {
    const double g = gate[i], want = g / (1.0 + std::exp(-g)) * up[i];
    EXPECT_NEAR(whole[i], want, 1e-6 * std::fabs(want) + 1e-30) << "g = " << g;
  }
  std::vector<float> pieces = gate;
  for (int i0 = 0, len = 1; i0 < n; i0 += len, len = len % 23 + 3)
    silu_mul(pieces.data() + i0, up.data() + i0, std::min(len, n - i0));
  for (int i = 0; i < n; ++i) EXPECT_EQ(pieces[i], whole[i]) << i;
  silu_mul(pieces.data(), up.data(), 0);  // nothing to do
}

// The read behind bench's bandwidth figure: the wrapping sum of every word, at every length around the vector
// widths (4 × 8 words per AVX-512 step, 4 × 4 per AVX2 step) and at unaligned starts.
TEST_P(VecOps, SumWordsReadsEveryWordOnce) {
  std::mt19937_64 rng(5);
  std::vector<uint64_t> w(1100);
  for (auto& x : w) x = rng();  // large words: the sum wraps
  for (int64_t n : {0, 1, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 1000}) {
    for (int64_t start : {0, 1, 3}) {
      uint64_t want = 0;
      for (int64_t i = 0; i < n; ++i) want += w[static_cast<size_t>(start + i)];
      EXPECT_EQ(sum_words(w.data() + start, n), want) << "n = " << n << ", start = " << start;
      EXPECT_EQ(sum_words_ref(w.data() + start, n), want);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Isas, VecOps, ::testing::Values(Isa::kScalar, Isa::kAvx2, Isa::kAvx512),
                         [](const auto& info) { return std::string(isa_name(info.param)); });

}  // namespace
}  // namespace ts
