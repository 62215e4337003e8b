#include "sampling/candidates.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "test_util.h"

namespace ts::sampling {
namespace {

using test::ids_in_order;

TEST(Candidates, SoftmaxRecoversProbabilitiesFromLogProbLogits) {
  Candidates c = test::p5();
  softmax(c);
  const double expected[] = {0.1, 0.4, 0.05, 0.3, 0.15};
  double sum = 0;
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(c.data[i].id, int32_t(i));
    EXPECT_NEAR(c.data[i].p, expected[i], 1e-6);
    sum += c.data[i].p;
  }
  EXPECT_NEAR(sum, 1.0, 1e-6);
}

TEST(Candidates, SoftmaxIsShiftInvariantAndSurvivesHugeLogits) {
  // exp(1000) overflows without the max subtraction; shifted logits give the same p: 1/(1+e), e/(1+e).
  std::vector<float> z = {1000.0f, 1001.0f};
  Candidates c = from_logits(z.data(), 2);
  softmax(c);
  EXPECT_NEAR(c.data[0].p, 0.268941, 1e-6);
  EXPECT_NEAR(c.data[1].p, 0.731059, 1e-6);
}

TEST(Candidates, NanLogitsBecomeMinusInfinityAndAllMinusInfinityIsUniform) {
  std::vector<float> z = {NAN, 1.0f};
  Candidates c = from_logits(z.data(), 2);
  EXPECT_EQ(c.data[0].logit, -INFINITY);
  softmax(c);
  EXPECT_EQ(c.data[0].p, 0.0f);
  EXPECT_EQ(c.data[1].p, 1.0f);

  std::vector<float> all_neg_inf = {-INFINITY, -INFINITY, -INFINITY, -INFINITY};
  Candidates d = from_logits(all_neg_inf.data(), 4);
  softmax(d);
  for (const Candidate& x : d.data) EXPECT_FLOAT_EQ(x.p, 0.25f);
}

TEST(Candidates, SortIsByLogitDescendingWithLowerIdFirstOnTies) {
  std::vector<float> z = {1.0f, 3.0f, 2.0f, 3.0f, 1.0f};
  Candidates c = from_logits(z.data(), 5);
  sort_desc(c);
  EXPECT_TRUE(c.sorted);
  EXPECT_EQ(ids_in_order(c), (std::vector<int32_t>{1, 3, 2, 0, 4}));
}

TEST(Candidates, SortTopPutsTheBestKFirstInOrder) {
  Candidates c = test::p5();
  sort_top(c, 2);
  EXPECT_FALSE(c.sorted) << "only a head was sorted";
  EXPECT_EQ(c.data[0].id, 1);
  EXPECT_EQ(c.data[1].id, 3);
  sort_top(c, 5);
  EXPECT_TRUE(c.sorted);
  EXPECT_EQ(ids_in_order(c), (std::vector<int32_t>{1, 3, 4, 0, 2}));
}

TEST(Candidates, EntropyProbOfAndDense) {
  Candidates c = test::p5();
  softmax(c);
  // H = −Σ p ln p = 0.366516 + 0.361192 + 0.284568 + 0.230259 + 0.149787 = 1.392321 nats
  EXPECT_NEAR(entropy_nats(c), 1.392321, 1e-5);
  EXPECT_NEAR(prob_of(c, 3), 0.3, 1e-6);
  EXPECT_EQ(prob_of(c, 99), 0.0f);
  sort_desc(c);  // prob_of must not rely on id order
  EXPECT_NEAR(prob_of(c, 0), 0.1, 1e-6);
  std::vector<float> dense(7, -1.0f);
  to_dense(c, dense);
  EXPECT_NEAR(dense[2], 0.05, 1e-6);
  EXPECT_EQ(dense[5], 0.0f);
  EXPECT_EQ(dense[6], 0.0f);
  EXPECT_EQ(argmax_index(c), 0);
}

}  // namespace
}  // namespace ts::sampling
