// The analyzer's lockstep runs: the same numbers as `score` (windowing included), two models in step, pairs that share
// a model, the context-shift runs against scoring the concatenated text, and the vocabulary check.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "analysis/fast_detectgpt.h"
#include "fixtures.h"
#include "runtime/analyzer.h"
#include "runtime/engine.h"
#include "runtime/scorer.h"

namespace ts {
namespace {

const std::string kDemo = std::string(TS_SOURCE_DIR) + "/models/tokenscope-demo.gguf";
const char* kText =
    "And God said, Let there be light: and there was light. And God saw the light, that it was good: and God "
    "divided the light from the darkness. And God called the light Day, and the darkness he called Night.";

std::unique_ptr<Engine> load(const std::string& path) {
  auto e = Engine::load(path);
  EXPECT_TRUE(e.ok()) << (e.ok() ? "" : e.error().message);
  return e.ok() ? std::move(*e) : nullptr;
}

std::vector<AnalyzedPosition> analyze(std::span<const SignalPair> pairs, const std::vector<int32_t>& ids,
                                      AnalyzerOptions opt = {}) {
  ThreadPool pool(2);
  std::vector<AnalyzedPosition> out;
  auto s = analyze_sequence(pairs, ids, opt, pool, [&](const AnalyzedPosition& p) { out.push_back(p); });
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  return out;
}

std::vector<ScoredToken> score(const Model& m, const std::vector<int32_t>& ids, int64_t ctx, int64_t batch, int top) {
  ThreadPool pool(2);
  ScoreOptions o;
  o.ctx = ctx;
  o.batch = batch;
  o.top_k = top;
  std::vector<ScoredToken> out;
  auto s = score_sequence(m, ids, o, pool, [&](const ScoredToken& t) { out.push_back(t); });
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  return out;
}

class DemoAnalyzer : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::ifstream(kDemo)) GTEST_SKIP() << "no bundled demo model at " << kDemo;
    demo_ = load(kDemo);
    ASSERT_TRUE(demo_);
    ids_ = demo_->tokenizer.encode(kText).ids;
    ASSERT_GT(ids_.size(), 40u);
  }
  std::unique_ptr<Engine> demo_;
  std::vector<int32_t> ids_;
};

TEST_F(DemoAnalyzer, EqualsScoreSequenceExactlyWithSlidingWindowsAndSmallBatches) {
  for (const auto& [ctx, batch] : std::vector<std::pair<int64_t, int64_t>>{{0, 256}, {16, 5}, {9, 3}}) {
    AnalyzerOptions opt;
    opt.ctx = ctx;
    opt.batch = batch;
    opt.top_k = 3;
    const SignalPair pair{demo_->model.get(), nullptr};
    const auto got = analyze({&pair, 1}, ids_, opt);
    const auto want = score(*demo_->model, ids_, ctx, batch, 3);
    ASSERT_EQ(got.size(), ids_.size() - 1);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      SCOPED_TRACE("ctx " + std::to_string(ctx) + " position " + std::to_string(i + 1));
      EXPECT_EQ(got[i].pos, want[i].pos);
      const analysis::PositionSignals& s = got[i].signals.at(0);
      EXPECT_EQ(s.id, ids_[i + 1]);
      EXPECT_EQ(s.logprob, want[i].stats.logprob);  // same chunks, same kernels: bit-identical
      EXPECT_EQ(s.rank, want[i].stats.rank);
      EXPECT_EQ(s.entropy, want[i].stats.entropy);
      EXPECT_EQ(s.varentropy, want[i].stats.varentropy);
      EXPECT_FALSE(s.has_reference);
      ASSERT_EQ(got[i].stats.top.size(), 3u);
      EXPECT_EQ(got[i].stats.top[0].id, want[i].stats.top[0].id);
    }
  }
}

TEST_F(DemoAnalyzer, TwoCopiesOfOneModelInLockstepAgreeAndHaveNoDivergence) {
  auto copy = load(kDemo);  // a second Model object: a real second stream with its own cache
  ASSERT_TRUE(copy);
  AnalyzerOptions opt;
  opt.ctx = 20;  // windows, so both streams slide together
  opt.batch = 6;
  const SignalPair pair{demo_->model.get(), copy->model.get()};
  const auto got = analyze({&pair, 1}, ids_, opt);
  ASSERT_EQ(got.size(), ids_.size() - 1);
  std::vector<analysis::PositionSignals> sig;
  for (const auto& p : got) {
    const analysis::PositionSignals& s = p.signals.at(0);
    ASSERT_TRUE(s.has_reference);
    const analysis::ContrastStats& c = s.contrast;
    EXPECT_EQ(c.logprob_a, c.logprob_b);
    // contrast_stats sums in double with std::exp, token_stats with the SIMD exponential: 1e-6 relative
    EXPECT_NEAR(c.logprob_b, s.logprob, 1e-6 * std::max(1.0, std::fabs(s.logprob)));
    EXPECT_NEAR(c.kl_ab, 0.0, 1e-12);  // identical logits: exactly H(A,A) − H(A), clamped at 0
    EXPECT_NEAR(c.kl_ba, 0.0, 1e-12);
    EXPECT_NEAR(c.cross_ab, s.entropy, 1e-6 * std::max(1.0, s.entropy));
    EXPECT_NEAR(c.var_a_log_b, s.varentropy, 1e-6 * std::max(1.0, s.varentropy));
    EXPECT_TRUE(c.top1_agree);
    sig.push_back(s);
  }
  // q = p: Fast-DetectGPT with the "reference" model equals the white-box score
  auto ref = analysis::fast_detectgpt(sig, analysis::SamplingModel::kReference);
  auto wb = analysis::fast_detectgpt(sig, analysis::SamplingModel::kScoring);
  ASSERT_TRUE(ref.ok() && wb.ok());
  EXPECT_NEAR(ref->score, wb->score, 1e-4);
}

TEST_F(DemoAnalyzer, ContextShiftEqualsScoringTheTextWithAndWithoutTheContext) {
  const Tokenizer& tok = demo_->tokenizer;
  EncodeOptions no_special;
  no_special.add_special = false;
  const std::vector<int32_t> ctx = tok.encode("In the beginning God created the heaven and the earth.\n", no_special).ids;
  const std::vector<int32_t> answer = tok.encode("And the earth was without form, and void.", no_special).ids;
  std::vector<int32_t> plain, with;
  if (tok.bos_id() >= 0) plain.push_back(tok.bos_id());
  with = plain;
  with.insert(with.end(), ctx.begin(), ctx.end());
  ThreadPool pool(2);
  std::vector<ContextShiftPosition> got;
  auto s = analyze_context_shift(*demo_->model, with, plain, answer, {}, pool,
                                 [&](const ContextShiftPosition& p) { got.push_back(p); });
  ASSERT_TRUE(s.ok()) << s.error().message;
  const size_t first = plain.empty() ? 1 : 0;
  ASSERT_EQ(got.size(), answer.size() - first);

  std::vector<int32_t> full_with = with, full_plain = plain;
  full_with.insert(full_with.end(), answer.begin(), answer.end());
  full_plain.insert(full_plain.end(), answer.begin(), answer.end());
  const auto sw = score(*demo_->model, full_with, 0, 256, 0);
  const auto sp = score(*demo_->model, full_plain, 0, 256, 0);
  double shift = 0;
  for (size_t k = 0; k < got.size(); ++k) {
    const size_t j = first + k;
    EXPECT_EQ(got[k].index, static_cast<int64_t>(j));
    const TokenStats& w = sw[with.size() + j - 1].stats;  // position with.size()+j predicts answer[j]
    const TokenStats& p = sp[plain.size() + j - 1].stats;
    ASSERT_EQ(w.id, answer[j]);
    ASSERT_EQ(p.id, answer[j]);
    // the prefix goes through its own forward call here, so agreement is to fp32 rounding, not bitwise
    EXPECT_NEAR(got[k].contrast.logprob_a, w.logprob, 1e-4);
    EXPECT_NEAR(got[k].contrast.logprob_b, p.logprob, 1e-4);
    EXPECT_NEAR(got[k].contrast.entropy_a, w.entropy, 1e-4);
    EXPECT_NEAR(got[k].contrast.entropy_b, p.entropy, 1e-4);
    shift += std::fabs(got[k].contrast.logprob_diff);
  }
  EXPECT_GT(shift, 0.1);  // the context matters to a model trained on this text
}

TEST_F(DemoAnalyzer, ContextShiftWindowsEveryAnswerTokenOnceInOrder) {
  const Tokenizer& tok = demo_->tokenizer;
  EncodeOptions no_special;
  no_special.add_special = false;
  const std::vector<int32_t> answer = tok.encode(kText, no_special).ids;
  const std::vector<int32_t> with = tok.encode("Genesis 1\n", no_special).ids;
  ThreadPool pool(2);
  AnalyzerOptions opt;
  opt.ctx = static_cast<int64_t>(with.size()) + 10;  // answer windows of 10 tokens
  opt.batch = 4;
  std::vector<int64_t> seen;
  // no plain prefix: the first answer token has nothing to be predicted from without the context
  auto s = analyze_context_shift(*demo_->model, with, {}, answer, opt, pool,
                                 [&](const ContextShiftPosition& p) { seen.push_back(p.index); });
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(seen.size(), answer.size() - 1);
  for (size_t k = 0; k < seen.size(); ++k) EXPECT_EQ(seen[k], static_cast<int64_t>(k + 1));

  opt.ctx = static_cast<int64_t>(with.size()) + 1;  // no room for the answer
  s = analyze_context_shift(*demo_->model, with, {}, answer, opt, pool, [](const ContextShiftPosition&) {});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("too small"), std::string::npos) << s.error().message;
}

TEST_F(DemoAnalyzer, BadTokenIdIsAnInputError) {
  std::vector<int32_t> ids = ids_;
  ids[3] = 1 << 20;
  const SignalPair pair{demo_->model.get(), nullptr};
  ThreadPool pool(1);
  auto s = analyze_sequence({&pair, 1}, ids, {}, pool, [](const AnalyzedPosition&) {});
  EXPECT_FALSE(s.ok());
}

TEST(Analyzer, PairsSharingAModelEqualSeparateRuns) {
  TS_REQUIRE_FIXTURE(f16_path, "models/tiny-llama-spm-F16.gguf");
  TS_REQUIRE_FIXTURE(q8_path, "models/tiny-llama-spm-Q8_0.gguf");
  TS_REQUIRE_FIXTURE(ref_path, "reference/tiny-llama-spm.json");
  auto f16 = load(f16_path);
  auto q8 = load(q8_path);
  ASSERT_TRUE(f16 && q8);
  std::ifstream in(ref_path);
  std::vector<int32_t> ids = nlohmann::json::parse(in)["docs"][1]["ids"].get<std::vector<int32_t>>();
  ids.resize(48);
  const std::vector<SignalPair> both = {{f16->model.get(), nullptr}, {f16->model.get(), q8->model.get()},
                                        {q8->model.get(), f16->model.get()}};
  const auto all = analyze(both, ids);
  for (size_t p = 0; p < both.size(); ++p) {
    const auto alone = analyze({&both[p], 1}, ids);
    ASSERT_EQ(alone.size(), all.size());
    for (size_t i = 0; i < all.size(); ++i) {
      const auto& a = all[i].signals.at(p);
      const auto& b = alone[i].signals.at(0);
      EXPECT_EQ(a.logprob, b.logprob);
      EXPECT_EQ(a.entropy, b.entropy);
      EXPECT_EQ(a.has_reference, b.has_reference);
      EXPECT_EQ(a.contrast.cross_ab, b.contrast.cross_ab);
      EXPECT_EQ(a.contrast.kl_ba, b.contrast.kl_ba);
    }
  }
  // the contrast is of two different models: not zero, and not symmetric
  double kl_ab = 0, kl_ba = 0;
  for (const auto& a : all) {
    EXPECT_EQ(a.signals[1].contrast.kl_ab, a.signals[2].contrast.kl_ba);
    kl_ab += a.signals[1].contrast.kl_ab;
    kl_ba += a.signals[1].contrast.kl_ba;
  }
  EXPECT_GT(kl_ab, 0);
  EXPECT_NE(kl_ab, kl_ba);
}

TEST(Analyzer, SharedVocabularyCheckNamesBothFiles) {
  TS_REQUIRE_FIXTURE(f16_path, "models/tiny-llama-spm-F16.gguf");
  TS_REQUIRE_FIXTURE(q8_path, "models/tiny-llama-spm-Q8_0.gguf");
  if (!std::ifstream(kDemo)) GTEST_SKIP() << "no bundled demo model";
  auto f16 = load(f16_path);
  auto q8 = load(q8_path);
  auto demo = load(kDemo);
  ASSERT_TRUE(f16 && q8 && demo);
  EXPECT_TRUE(check_shared_vocabulary(*f16, f16_path, *q8, q8_path).ok());
  auto s = check_shared_vocabulary(*f16, f16_path, *demo, kDemo);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, Error::Kind::kInput);
  EXPECT_NE(s.error().message.find(f16_path), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find(kDemo), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("32000"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("8192"), std::string::npos) << s.error().message;
}

}  // namespace
}  // namespace ts
