// The records of `tokenscope analyze` / POST /v1/analyze (runtime/analysis_record.h): field order, rounding, the
// summary of an empty document, the caller's fields, and the span text. The CLI and the route are compared with each
// other, end to end, in tests/server/analysis_routes_test.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "runtime/analysis_record.h"

namespace ts {
namespace {

using Json = nlohmann::ordered_json;

std::vector<std::string> keys(const Json& j) {
  std::vector<std::string> k;
  for (auto it = j.begin(); it != j.end(); ++it) k.push_back(it.key());
  return k;
}

AnalyzedPosition position(int64_t pos, int32_t id, double logprob, double entropy) {
  AnalyzedPosition p;
  p.pos = pos;
  analysis::PositionSignals s;
  s.id = id;
  s.logprob = logprob;
  s.rank = pos;
  s.entropy = entropy;
  s.varentropy = 0.5;
  s.max_prob = 0.25;
  s.margin = 0.125;
  p.signals = {s};
  p.stats.top = {{id, logprob}};
  return p;
}

// "abcdefgh" as BOS + four two-byte tokens: offsets 0, 0, 2, 4, 6; positions 1..4 predicted.
struct Example {
  std::string text = "abcdefgh";
  std::vector<uint32_t> offsets = {0, 0, 2, 4, 6};
  std::vector<AnalyzedPosition> toks = {position(1, 3, -1.23456789, 2.0), position(2, 4, -0.5, 3.0),
                                        position(3, 3, -2.0, 1.0), position(4, 4, -0.25, 0.5)};
  TokenizedText tokenized() const { return {text, offsets, 8}; }
};

TEST(AnalysisRecord, TokenRecordHasTheFieldsInOrderRoundedToSixDecimals) {
  const std::string demo = std::string(TS_SOURCE_DIR) + "/models/tokenscope-demo.gguf";
  if (!std::ifstream(demo)) GTEST_SKIP() << "no bundled demo model";
  auto file = gguf::File::open(demo);
  ASSERT_TRUE(file.ok()) << file.error().message;
  auto tok = Tokenizer::from_gguf(*file);
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  const Example ex;
  const TokenAnalysis a = analyze_tokens(ex.toks, 2, 0.25);
  const Json j = analysis_token_record(7, ex.toks, a, 1, ex.tokenized(), *tok, false);
  EXPECT_EQ(keys(j), (std::vector<std::string>{"doc", "pos", "id", "token", "offset", "logprob", "rank", "entropy",
                                               "varentropy", "max_prob", "margin", "typicality", "window_entropy",
                                               "hwe", "forking"}));
  EXPECT_EQ(j["doc"], 7);
  EXPECT_EQ(j["pos"], 2);
  EXPECT_EQ(j["token"], tok->token_text(4));
  EXPECT_EQ(j["offset"], 2);
  EXPECT_EQ(j["typicality"].get<double>(), 2.5);        // |−0.5 + 3|
  EXPECT_EQ(j["window_entropy"].get<double>(), 2.5);    // (2 + 3) / 2
  EXPECT_TRUE(j["forking"].get<bool>());                // the highest entropy of four, top 25 %

  const Json k = analysis_token_record(7, ex.toks, a, 0, ex.tokenized(), *tok, true);
  EXPECT_EQ(k["logprob"].get<double>(), -1.234568);
  ASSERT_TRUE(k.contains("top"));
  EXPECT_EQ(k["top"].dump(), Json::array({{{"id", 3}, {"token", tok->token_text(3)}, {"logprob", -1.234568}}}).dump());
}

TEST(AnalysisRecord, SummaryKeepsTheCallersFieldsFirstAndGivesTheSpanAndItsText) {
  const Example ex;
  const TokenAnalysis a = analyze_tokens(ex.toks, 2, 0.25);
  auto s = summarize_analysis(ex.toks, a, ex.tokenized());
  ASSERT_TRUE(s.ok()) << s.error().message;
  const Json j = analysis_summary_record(*s, Json{{"id", "x"}, {"tokens", 99}});
  EXPECT_EQ(keys(j), (std::vector<std::string>{"id", "tokens", "nll", "nll_sum", "ppl", "bytes", "bits_per_byte",
                                               "mean_entropy", "max_entropy", "mean_varentropy", "forking_tokens",
                                               "chow_quantiles", "highest_entropy_span"}));
  EXPECT_EQ(j["tokens"], 4);  // the caller's value is overwritten in place
  EXPECT_EQ(j["bytes"], 8);
  EXPECT_EQ(j["max_entropy"].get<double>(), 3.0);
  EXPECT_EQ(j["mean_varentropy"].get<double>(), 0.5);
  EXPECT_EQ(j["chow_quantiles"].size(), 11u);
  // Entropies 2, 3, 1, 0.5 with w = 2: positions 1..2 (toks 0..1) have the highest mean, 2.5.
  EXPECT_EQ(j["highest_entropy_span"].dump(), R"({"pos":[1,3],"mean_entropy":2.5,"text":"abcd"})");
}

TEST(AnalysisRecord, SummaryOfNoTokensHasNanReductionsAndNoSpan) {
  const std::string text;
  const std::vector<uint32_t> offsets = {0};
  const TokenAnalysis a = analyze_tokens({}, 8, 0.2);
  auto s = summarize_analysis({}, a, {text, offsets, 0});
  ASSERT_TRUE(s.ok()) << s.error().message;
  const Json j = analysis_summary_record(*s);
  EXPECT_EQ(j["tokens"], 0);
  EXPECT_TRUE(std::isnan(j["max_entropy"].get<double>()));
  EXPECT_TRUE(std::isnan(j["mean_varentropy"].get<double>()));
  EXPECT_EQ(j["forking_tokens"], 0);
  EXPECT_FALSE(j.contains("highest_entropy_span"));
}

TEST(AnalysisRecord, SpanTextRunsToTheEndAfterTheLastTokenAndClampsToTheText) {
  const Example ex;
  EXPECT_EQ(span_text(ex.tokenized(), 2, 4), "cdef");
  EXPECT_EQ(span_text(ex.tokenized(), 3, 5), "efgh");  // e past the last token: to the end
  EXPECT_EQ(span_text(ex.tokenized(), 5, 6), "");      // b past the last token
  const std::vector<uint32_t> far = {0, 20};           // an offset beyond the text
  EXPECT_EQ(span_text({ex.text, far, 8}, 0, 1), "abcdefgh");
  EXPECT_EQ(span_text({ex.text, far, 8}, 1, 2), "");
}

}  // namespace
}  // namespace ts
