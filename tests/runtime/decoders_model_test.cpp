// The entropy-gated decoders on the bundled demo model (EAD: the demo model as the large model, its Q4_0 copy as the
// small one): valid records, seeded runs that replay, and the cases where a decoder must reduce to plain sampling —
// CNTP with one trial, EAD with a threshold it never crosses.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "demo_pair.h"
#include "model/requantize.h"
#include "runtime/cntp.h"
#include "runtime/ead.h"
#include "runtime/engine.h"
#include "runtime/entropix.h"
#include "runtime/generator.h"

namespace ts {
namespace {


class DecodersOnDemo : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (const test::DemoPair* p = test::demo_pair()) large_ = p->target.get(), small_ = p->draft.get();
  }
  void SetUp() override {
    if (!large_) GTEST_SKIP() << "no bundled demo model at " << test::demo_model_path();
  }
  std::vector<int32_t> prompt(const std::string& text) const { return large_->tokenizer.encode(text).ids; }

  static Engine* large_;
  static Engine* small_;
};
Engine* DecodersOnDemo::large_ = nullptr;
Engine* DecodersOnDemo::small_ = nullptr;

sampling::Chain chain_of(const std::string& spec) {
  auto c = sampling::Chain::parse(spec);
  EXPECT_TRUE(c.ok());
  return c.ok() ? *c : sampling::Chain();
}

GenerateOptions gen_options(int64_t n) {
  GenerateOptions go;
  go.n_new = n;
  go.top_k = 3;
  go.ignore_eos = true;
  return go;
}

// The checks every record must pass, whatever the decoder.
void expect_valid(const std::vector<GenToken>& toks, int64_t n_vocab) {
  for (size_t i = 0; i < toks.size(); ++i) {
    const GenToken& t = toks[i];
    EXPECT_EQ(t.index, static_cast<int64_t>(i));
    EXPECT_TRUE(t.id >= 0 && t.id < n_vocab) << i;
    EXPECT_TRUE(std::isfinite(t.processed_logprob) && t.processed_logprob <= 1e-6) << i;
    EXPECT_GE(t.kept, 1) << i;
    EXPECT_TRUE(std::isfinite(t.raw.logprob) && t.raw.logprob <= 1e-6) << i;
    EXPECT_GE(t.raw.rank, 1) << i;
    EXPECT_GE(t.raw.entropy, 0) << i;
    EXPECT_EQ(t.raw.id, t.id) << i;
    EXPECT_LE(t.processed_top.size(), 3u) << i;
  }
}

std::vector<int32_t> ids_of(const std::vector<GenToken>& toks) {
  std::vector<int32_t> v;
  for (const auto& t : toks) v.push_back(t.id);
  return v;
}

std::vector<GenToken> plain(const Engine& e, const std::vector<int32_t>& p, const std::string& spec, uint64_t seed,
                            int64_t n) {
  sampling::Chain chain = chain_of(spec);
  sampling::Rng rng(seed);
  ThreadPool pool(1);
  std::vector<GenToken> out;
  auto s = generate(e, p, chain, rng, gen_options(n), pool, [&](const GenToken& t) { out.push_back(t); });
  EXPECT_TRUE(s.ok()) << s.error().message;
  return out;
}

TEST_F(DecodersOnDemo, EntropixRecordsAreValidAndSeededRunsReplay) {
  const auto p = prompt("And it came to pass");
  auto run = [&](uint64_t seed, EntropixSummary* sum) {
    sampling::Chain chain;
    sampling::Rng rng(seed);
    ThreadPool pool(1);
    std::vector<GenToken> out;
    auto s = generate_entropix(*large_, p, chain, rng, gen_options(40), EntropixOptions{}, pool,
                               [&](const GenToken& t) { out.push_back(t); });
    EXPECT_TRUE(s.ok()) << s.error().message;
    if (s.ok()) *sum = *s;
    return out;
  };
  EntropixSummary a, b;
  const auto x = run(7, &a), y = run(7, &b);
  ASSERT_EQ(x.size(), 40u);
  expect_valid(x, large_->model->config().n_vocab);
  EXPECT_EQ(ids_of(x), ids_of(y));
  int64_t total = 0;
  for (int64_t c : a.per_state) total += c;
  EXPECT_EQ(total, 40);
  std::printf("entropix states on the demo model: flowing %lld treading %lld forks %lld mist %lld adaptive %lld\n",
              (long long)a.per_state[0], (long long)a.per_state[1], (long long)a.per_state[2],
              (long long)a.per_state[3], (long long)a.per_state[4]);
}

TEST_F(DecodersOnDemo, CntpWithOneTrialIsPlainSamplingTokenForToken) {
  const auto p = prompt("The Lord said unto Moses,");
  for (uint64_t seed : {1u, 2u}) {
    const auto want = plain(*large_, p, "default", seed, 32);
    sampling::Chain chain = chain_of("default");
    sampling::Rng rng(seed);
    ThreadPool pool(1);
    CntpOptions co;
    co.max_trials = 1;
    std::vector<GenToken> out;
    auto s = generate_cntp(*large_, p, chain, rng, gen_options(32), co, pool, [&](const GenToken& t) { out.push_back(t); });
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_EQ(ids_of(out), ids_of(want)) << seed;
    EXPECT_EQ(s->rollouts, 0);
  }
}

TEST_F(DecodersOnDemo, CntpCommitsChosenSegmentsAndSeededRunsReplay) {
  const auto p = prompt("And it came to pass");
  auto run = [&](std::vector<CntpStep>* steps, CntpSummary* sum) {
    sampling::Chain chain = chain_of("default");
    sampling::Rng rng(11);
    ThreadPool pool(1);
    CntpOptions co;
    co.max_segment = 8;  // keeps the test short; the rule is the same
    std::vector<GenToken> out;
    auto s = generate_cntp(*large_, p, chain, rng, gen_options(32), co, pool,
                           [&](const GenToken& t) { out.push_back(t); },
                           [&](const CntpStep& st) { steps->push_back(st); });
    EXPECT_TRUE(s.ok()) << s.error().message;
    if (s.ok()) *sum = *s;
    return out;
  };
  std::vector<CntpStep> steps, steps2;
  CntpSummary sum, sum2;
  const auto x = run(&steps, &sum), y = run(&steps2, &sum2);
  ASSERT_EQ(x.size(), 32u);
  expect_valid(x, large_->model->config().n_vocab);
  EXPECT_EQ(ids_of(x), ids_of(y));
  EXPECT_GT(sum.branched_steps, 0);
  // the emitted text is the chosen segments, in order, and each chosen one has the lowest perplexity
  std::vector<int32_t> committed;
  for (const CntpStep& s : steps) {
    EXPECT_EQ(s.index, static_cast<int64_t>(committed.size()));
    const double best = *std::min_element(s.perplexities.begin(), s.perplexities.end());
    EXPECT_EQ(s.perplexities[s.chosen], best);
    committed.insert(committed.end(), s.segments[s.chosen].begin(), s.segments[s.chosen].end());
  }
  committed.resize(std::min(committed.size(), x.size()));
  EXPECT_EQ(committed, ids_of(x));
  // a rollout of L tokens runs L − 1 forwards (its first token comes from the step's own logits)
  EXPECT_GE(sum.positions_evaluated, sum.rollout_tokens - sum.rollouts);
  std::printf("cntp on the demo model: %lld branched steps, %lld rollouts, %lld rollout tokens, %lld positions\n",
              (long long)sum.branched_steps, (long long)sum.rollouts, (long long)sum.rollout_tokens,
              (long long)sum.positions_evaluated);
}

TEST_F(DecodersOnDemo, EadThatNeverSwitchesIsPlainSmallModelGeneration) {
  const auto p = prompt("hacker: n. A person who");
  for (uint64_t seed : {3u, 4u}) {
    const auto want = plain(*small_, p, "default", seed, 40);
    sampling::Chain chain = chain_of("default");
    sampling::Rng rng(seed);
    ThreadPool pool(1);
    EadOptions eo;
    eo.threshold = INFINITY;
    std::vector<GenToken> out;
    auto s = generate_ead(*large_, *small_, p, chain, rng, gen_options(40), eo, pool,
                          [&](const GenToken& t) { out.push_back(t); });
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_EQ(ids_of(out), ids_of(want)) << seed;
    for (size_t i = 0; i < out.size() && i < want.size(); ++i)
      EXPECT_DOUBLE_EQ(out[i].raw.logprob, want[i].raw.logprob) << i;
    EXPECT_EQ(s->large_tokens, 0);
    EXPECT_EQ(s->large_positions, 0);
  }
}

TEST_F(DecodersOnDemo, EadSwitchesBetweenTheModelsAndEachCatchesUpOnlyOnce) {
  const auto p = prompt("And it came to pass");
  const int64_t n = 48;
  auto run = [&](const EadOptions& eo, std::vector<EadStep>* steps, std::vector<GenToken>* out) {
    sampling::Chain chain = chain_of("default");
    sampling::Rng rng(5);
    ThreadPool pool(1);
    auto s = generate_ead(*large_, *small_, p, chain, rng, gen_options(n), eo, pool,
                          [&](const GenToken& t) { out->push_back(t); },
                          [&](const EadStep& st) { steps->push_back(st); });
    EXPECT_TRUE(s.ok()) << s.error().message;
    return s.ok() ? *s : EadSummary{};
  };
  // a threshold at the median of the small model's own window means, so that both models get tokens
  EadOptions never;
  never.threshold = INFINITY;
  std::vector<EadStep> probe;
  std::vector<GenToken> ignored;
  run(never, &probe, &ignored);
  ASSERT_EQ(probe.size(), static_cast<size_t>(n));
  std::vector<double> means;
  for (const auto& s : probe) means.push_back(s.mean_bits);
  std::nth_element(means.begin(), means.begin() + n / 2, means.end());
  EadOptions eo;
  eo.threshold = means[n / 2];
  std::vector<EadStep> steps, steps2;
  std::vector<GenToken> out, out2;
  const EadSummary s = run(eo, &steps, &out);
  const EadSummary s2 = run(eo, &steps2, &out2);
  ASSERT_EQ(out.size(), static_cast<size_t>(n));
  expect_valid(out, large_->model->config().n_vocab);
  EXPECT_EQ(ids_of(out), ids_of(out2));
  EXPECT_GT(s.large_tokens, 0);
  EXPECT_LT(s.large_tokens, n);
  EXPECT_GE(s.switches, 1);
  // the steps replay the switching rule
  EadSwitch sw(eo);
  int64_t large = 0;
  for (const EadStep& st : steps) {
    EXPECT_EQ(st.model, sw.current());
    EXPECT_EQ(sw.observe(st.entropy_bits), st.next);
    large += st.model == EadModel::kLarge;
  }
  EXPECT_EQ(large, s.large_tokens);
  // the history only grows, so each model evaluates each position at most once, catch-ups included
  const int64_t total = static_cast<int64_t>(p.size()) + n - 1;
  EXPECT_LE(s.large_positions, total);
  EXPECT_LE(s.small_positions, total);
  EXPECT_GT(s.large_positions, s.large_tokens);  // its first turn prefilled the prompt and the small model's tokens
  std::printf("ead on the demo model: tau %.3f bits, large fraction %.3f, %lld switches\n", eo.threshold,
              s.large_fraction(), (long long)s.switches);
}

TEST_F(DecodersOnDemo, DecodersRejectBadRequestsWithOneLineErrors) {
  ThreadPool pool(1);
  sampling::Chain chain;
  sampling::Rng rng(1);
  auto e = generate_entropix(*large_, {}, chain, rng, gen_options(4), EntropixOptions{}, pool, nullptr);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("empty prompt"), std::string::npos);
  EntropixOptions bad;
  bad.clarify_token = 1 << 20;
  auto e2 = generate_entropix(*large_, prompt("a"), chain, rng, gen_options(4), bad, pool, nullptr);
  ASSERT_FALSE(e2.ok());
  EXPECT_NE(e2.error().message.find("clarify token"), std::string::npos);
  CntpOptions co;
  co.max_trials = 0;
  auto c = generate_cntp(*large_, prompt("a"), chain, rng, gen_options(4), co, pool, nullptr);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("max trials"), std::string::npos);
  EadOptions eo;
  eo.window = 0;
  auto d = generate_ead(*large_, *small_, prompt("a"), chain, rng, gen_options(4), eo, pool, nullptr);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().message.find("window"), std::string::npos);
}

}  // namespace
}  // namespace ts
