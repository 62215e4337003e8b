// Mirostat v1 / v2 on the distribution of test_util.h (sorted p: 0.4 (id 1), 0.3 (3), 0.15 (4), 0.1 (0), 0.05 (2)).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "sampling/samplers.h"
#include "test_util.h"

namespace ts::sampling {
namespace {

using test::ids_in_order;
using test::keys;
using test::p5;
using test::run;
using Ids = std::vector<int32_t>;

TEST(MirostatV2, DropsTokensMoreSurprisingThanMu) {
  // τ = 1 → μ = 2τ = 2: keep −log2 p ≤ 2, i.e. p ≥ 0.25 → {1, 3}; renormalised 4/7, 3/7
  MirostatV2 s(1.0f, 0.1f);
  EXPECT_FLOAT_EQ(s.mu(), 2.0f);
  auto p = run(s, p5());
  EXPECT_EQ(keys(p), (Ids{1, 3}));
  EXPECT_NEAR(p[1], 0.571429, 1e-5);
  EXPECT_NEAR(p[3], 0.428571, 1e-5);
  // μ below every surprise still keeps the most likely token
  s.set_mu(0.5f);
  EXPECT_EQ(keys(run(s, p5())), (Ids{1}));
}

TEST(MirostatV2, ApplyIsStatelessAndAcceptMovesMuByTheFormula) {
  MirostatV2 s(1.0f, 0.1f);
  Candidates a = p5(), b = p5();
  s.apply(a, {});
  s.apply(b, {});
  EXPECT_EQ(ids_in_order(a), ids_in_order(b));
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a.data[i].p, b.data[i].p);
  EXPECT_FLOAT_EQ(s.mu(), 2.0f) << "apply() must not move mu";
  // accept(3): p = 3/7, surprise log2(7/3) = 1.222392, e = 0.222392, μ = 2 − 0.1 · 0.222392 = 1.977761
  s.accept(3);
  EXPECT_NEAR(s.mu(), 1.977761, 1e-5);
  // a second accept without an apply in between has no distribution to read: μ stays
  s.accept(3);
  EXPECT_NEAR(s.mu(), 1.977761, 1e-5);
}

TEST(MirostatV2, AcceptOfTheOtherTokenAndOfATruncatedToken) {
  MirostatV2 s(1.0f, 0.1f);
  Candidates c = p5();
  s.apply(c, {});
  // accept(1): p = 4/7, surprise log2(7/4) = 0.807355, e = −0.192645, μ = 2.019265
  s.accept(1);
  EXPECT_NEAR(s.mu(), 2.019265, 1e-5);
  s.apply(c = p5(), {});
  const float before = s.mu();
  s.accept(4);  // 4 was cut (p = 0.15 < 2^−μ): its surprise under mirostat's distribution is undefined
  EXPECT_EQ(s.mu(), before);
}

TEST(MirostatV2, ResetRestoresTwoTauAndCloneCarriesMu) {
  MirostatV2 s(1.0f, 0.1f);
  Candidates c = p5();
  s.apply(c, {});
  s.accept(3);
  auto copy = s.clone();
  EXPECT_EQ(static_cast<MirostatV2&>(*copy).mu(), s.mu());
  s.reset();
  EXPECT_FLOAT_EQ(s.mu(), 2.0f);
  EXPECT_NE(static_cast<MirostatV2&>(*copy).mu(), s.mu());
}

TEST(MirostatV1, TopKFromTheZipfEstimate) {
  // Pairs i = 0..3 of the sorted p: t_i = ln((i+2)/(i+1)) = 0.693147, 0.405465, 0.287682, 0.223144
  //                                  b_i = ln(p_i/p_{i+1}) = ln(4/3), ln 2, ln 1.5, ln 2
  //                                      = 0.287682, 0.693147, 0.405465, 0.693147
  // Σ t·b = 0.199406 + 0.281047 + 0.116645 + 0.154673 = 0.751771;  Σ t² = 0.777409;  ŝ = 0.967021, ε̂ = −0.032979
  // n = 5: 1 − 5^{0.032979} = −0.054512, so ε̂ / (1 − n^{−ε̂}) = 0.604986.
  //   μ = 2   (τ = 1):    k = (0.604986 · 4)^{1/ŝ}        = 2.419945^{1.034105} = 2.494 → keep 2
  //   μ = 2.5:            k = (0.604986 · 5.656854)^{1/ŝ} = 3.569                 → keep 3
  //   μ = 4:              k = 10.46 → clamped to the 5 candidates
  Mirostat s(1.0f, 0.1f, 100);
  auto p = run(s, p5());
  EXPECT_EQ(keys(p), (Ids{1, 3}));
  EXPECT_NEAR(p[1], 0.571429, 1e-5);
  s.set_mu(2.5f);
  EXPECT_EQ(keys(run(s, p5())), (Ids{1, 3, 4}));
  s.set_mu(4.0f);
  EXPECT_EQ(run(s, p5()).size(), 5u);
}

TEST(MirostatV1, AcceptUpdatesMuFromTheTruncatedDistribution) {
  Mirostat s(1.0f, 0.1f, 100);
  Candidates c = p5();
  s.apply(c, {});  // keeps {1, 3} with p 4/7, 3/7 (see above)
  EXPECT_FLOAT_EQ(s.mu(), 2.0f);
  // accept(1): e = log2(7/4) − 1 = −0.192645 → μ = 2.019265
  s.accept(1);
  EXPECT_NEAR(s.mu(), 2.019265, 1e-5);
}

TEST(MirostatV1, SelectIsAnInverseCdfDrawOverItsTruncation) {
  Mirostat s(1.0f, 0.1f, 100);
  Candidates c = p5();
  s.apply(c, {});
  Rng rng(7);
  for (int i = 0; i < 50; ++i) {
    const int32_t t = s.select(c, rng);
    EXPECT_TRUE(t == 1 || t == 3) << t;
  }
}

}  // namespace
}  // namespace ts::sampling
