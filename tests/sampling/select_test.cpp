// Selection: the Rng, inverse-CDF draws and greedy.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "sampling/chain.h"
#include "sampling/samplers.h"
#include "test_util.h"

namespace ts::sampling {
namespace {

TEST(Rng, IsTheStandardMt19937_64AndUniformUses53Bits) {
  // The standard fixes mt19937_64's 10000th output for the default seed 5489 ([rand.predef]).
  Rng r(5489);
  for (int i = 0; i < 9999; ++i) r.next_u64();
  EXPECT_EQ(r.next_u64(), 9981545732273789042ull);
  // uniform() = (x >> 11) · 2^-53 of the next output
  Rng a(123), b(123);
  const uint64_t x = a.next_u64();
  EXPECT_EQ(b.uniform(), double(x >> 11) / 9007199254740992.0);
  for (int i = 0; i < 1000; ++i) {
    const double u = b.uniform();
    EXPECT_GE(u, 0.0);
    EXPECT_LT(u, 1.0);
  }
}

TEST(Select, SeededDrawsAreDeterministic) {
  Chain chain;  // dist
  Candidates c = test::p5();
  softmax(c);
  Rng r1(42), r2(42), r3(43);
  std::vector<int32_t> s1, s2, s3;
  for (int i = 0; i < 200; ++i) {
    s1.push_back(chain.select(c, r1));
    s2.push_back(chain.select(c, r2));
    s3.push_back(chain.select(c, r3));
  }
  EXPECT_EQ(s1, s2);
  EXPECT_NE(s1, s3);
}

TEST(Select, EmpiricalFrequenciesMatchPChiSquare) {
  // 20000 draws from p = (0.1, 0.4, 0.05, 0.3, 0.15); Pearson's χ² with 4 degrees of freedom has a 0.1% critical
  // value of 18.47. The seed is fixed, so this is deterministic; a biased sampler (e.g. argmax p/U, or an
  // off-by-one in the CDF) fails it by orders of magnitude.
  Candidates c = test::p5();
  softmax(c);
  Chain chain;
  Rng rng(2024);
  const int n = 20000;
  std::vector<int> count(5, 0);
  for (int i = 0; i < n; ++i) ++count.at(chain.select(c, rng));
  const double p[] = {0.1, 0.4, 0.05, 0.3, 0.15};
  double chi2 = 0;
  for (int i = 0; i < 5; ++i) {
    const double e = n * p[i];
    chi2 += (count[i] - e) * (count[i] - e) / e;
  }
  EXPECT_LT(chi2, 18.47) << count[0] << " " << count[1] << " " << count[2] << " " << count[3] << " " << count[4];
}

TEST(Select, InverseCdfScansInSetOrderAndSkipsZeroP) {
  // p = (0, 0.25, 0.75) over ids 10, 11, 12: u < 0.25 → 11, else 12; id 10 never.
  Candidates c;
  c.data = {{10, 0.0f, 0.0f}, {11, 0.0f, 0.25f}, {12, 0.0f, 0.75f}};
  Rng rng(5);
  int n11 = 0;
  for (int i = 0; i < 400; ++i) {
    Rng probe = rng;  // the same next draw
    const double u = probe.uniform();
    const int32_t t = sample_inverse_cdf(c, rng);
    EXPECT_EQ(t, u < 0.25 ? 11 : 12);
    n11 += t == 11;
  }
  EXPECT_GT(n11, 0);
}

TEST(Greedy, PicksTheHighestPLowestIdOnTiesWithoutADraw) {
  Greedy g;
  Candidates c;
  c.data = {{4, 0.0f, 0.2f}, {2, 0.0f, 0.4f}, {3, 0.0f, 0.4f}};
  Rng rng(1), untouched(1);
  EXPECT_EQ(g.select(c, rng), 2);
  EXPECT_EQ(rng.next_u64(), untouched.next_u64()) << "greedy must not consume randomness";
  // as a chain selector its apply() leaves the one-hot argmax
  auto chain = Chain::parse("greedy");
  ASSERT_TRUE(chain.ok());
  const std::vector<float> z = test::p5_logits();
  Candidates out = chain->apply(z.data(), 5, {});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out.data[0].id, 1);
  EXPECT_EQ(out.data[0].p, 1.0f);
}

TEST(Select, EmptySetGivesMinusOne) {
  Candidates c;
  Rng rng(0);
  EXPECT_EQ(sample_inverse_cdf(c, rng), -1);
  EXPECT_EQ(select_most_probable(c), -1);
}

}  // namespace
}  // namespace ts::sampling
