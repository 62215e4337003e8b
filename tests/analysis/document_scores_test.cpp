// score_document gathers the per-document scores; fields that need a second model, zlib or a frequency table
// appear only when those are given.
#include "analysis/document_scores.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "analysis/min_k_plus_plus.h"

namespace ts::analysis {
namespace {

PositionSignals sig(double logprob, int64_t rank, double entropy, double varentropy, int32_t id) {
  PositionSignals p;
  p.id = id;
  p.logprob = logprob;
  p.rank = rank;
  p.entropy = entropy;
  p.varentropy = varentropy;
  return p;
}

TEST(DocumentScores, OneModelRunHasNoTwoModelScores) {
  const std::vector<PositionSignals> d = {sig(-1, 2, 1.5, 1, 3), sig(-2, 4, 2.5, 4, 5)};
  DocumentInputs in;
  in.text_bytes = 6;
  const DocumentScores s = *score_document(d, in);
  EXPECT_DOUBLE_EQ(s.log_likelihood, -1.5);
  EXPECT_DOUBLE_EQ(s.perplexity.nll_sum, 3.0);
  // white-box Fast-DetectGPT: LL = −3, Σμ = −4, Σs2 = 5 → 1/sqrt(5)
  EXPECT_NEAR(s.fast_detectgpt_white_box.score, 1 / std::sqrt(5.0), 1e-15);
  // Min-K%++ tokens: (−1 + 1.5)/1 = 0.5, (−2 + 2.5)/2 = 0.25; ⌊2·0.2⌋ = 0 → the lowest, 0.25
  EXPECT_DOUBLE_EQ(s.min_k_plus_plus, 0.25);
  EXPECT_FALSE(s.fast_detectgpt_reference.has_value());
  EXPECT_FALSE(s.binoculars.has_value());
  EXPECT_FALSE(s.zlib_ratio.has_value());
  EXPECT_FALSE(s.dc_pdd.has_value());
  EXPECT_EQ(s.chow_quantiles.size(), 11u);
}

TEST(DocumentScores, OptionalInputsAddTheirScores) {
  std::vector<PositionSignals> d = {sig(-1, 2, 1.5, 1, 3), sig(-2, 4, 2.5, 4, 5)};
  for (auto& p : d) {
    p.has_reference = true;
    p.contrast.cross_ab = 3.0;
  }
  const TokenFrequency freq(std::vector<uint64_t>(8, 1));
  DocumentInputs in;
  in.zlib_bytes = 30;
  in.frequency = &freq;
  const DocumentScores s = *score_document(d, in);
  ASSERT_TRUE(s.binoculars.has_value());
  EXPECT_DOUBLE_EQ(s.binoculars->score, 0.5);  // log PPL 1.5 / X-PPL 3
  ASSERT_TRUE(s.zlib_ratio.has_value());
  EXPECT_DOUBLE_EQ(*s.zlib_ratio, 0.05);  // 1.5 / 30
  EXPECT_TRUE(s.dc_pdd.has_value());
  EXPECT_TRUE(s.fast_detectgpt_reference.has_value());
  // a token outside the frequency table is an input error
  d[1].id = 8;
  EXPECT_FALSE(score_document(d, in).ok());
}

}  // namespace
}  // namespace ts::analysis
