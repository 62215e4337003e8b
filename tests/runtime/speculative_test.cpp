// Speculative decoding is lossless: the verification rules on hand-made distributions, greedy and seeded outputs
// identical to plain generation, and a χ² test (α = 0.001, 10⁵ samples) that the first three tokens of speculative
// generation with the demo model as target and its Q4_0 copy as draft are distributed as plain sampling.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <thread>

#include "demo_pair.h"
#include "model/requantize.h"
#include "runtime/engine.h"
#include "runtime/generate.h"
#include "runtime/generator.h"
#include "runtime/speculative.h"

namespace ts {
namespace {

using test::chi2;
using test::Chi2;
using test::dist;

using sampling::Candidates;


TEST(Speculative, GeneralRuleEmitsTheTargetDistribution) {
  // p = (.5 .3 .2), q = (.2 .5 .3): x ~ q, accept with min(1, p/q), else residual max(0, p − q) = (.3 0 0)/.3.
  // P(emit 0) = q0·1 + (q1·(1 − .6) + q2·(1 − 2/3))·1 = .2 + .2 + .1 = .5 = p0; P(emit 1) = q1·.6 = .3 = p1;
  // P(emit 2) = q2·(2/3) = .2 = p2.
  const Candidates p = dist({0.5f, 0.3f, 0.2f}), q = dist({0.2f, 0.5f, 0.3f});
  sampling::Rng rng(42);
  std::vector<float> scratch;
  std::map<std::vector<int32_t>, int64_t> obs;
  const int64_t n = 100000;
  int64_t accepted = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int32_t x = sampling::sample_inverse_cdf(q, rng);
    const Verdict v = verify_with_q(p, q, x, rng, scratch);
    accepted += v.accepted;
    EXPECT_EQ(v.accepted, v.token == x);
    ++obs[{v.token}];
  }
  const Chi2 c = chi2({{{0}, 0.5}, {{1}, 0.3}, {{2}, 0.2}}, obs, n);
  EXPECT_GT(c.p, 0.001) << "chi2 " << c.stat << " dof " << c.dof;
  // acceptance rate = Σ min(p, q) = .2 + .3 + .2 = .7
  EXPECT_NEAR(static_cast<double>(accepted) / n, 0.7, 0.01);
}

TEST(Speculative, RejectionNeverReturnsTheDraftAndIdenticalDistributionsAlwaysAccept) {
  const Candidates p = dist({0.6f, 0.4f}), q = dist({0.1f, 0.9f});
  sampling::Rng rng(1);
  std::vector<float> scratch;
  for (int i = 0; i < 1000; ++i) {
    const Verdict v = verify_with_q(p, q, 1, rng, scratch);  // p(1)/q(1) = 4/9
    if (!v.accepted) {
      EXPECT_EQ(v.token, 0);
    }
    EXPECT_TRUE(verify_with_q(p, p, 0, rng, scratch).accepted);
  }
}

TEST(Speculative, NgramDraftFollowsTheLatestEarlierOccurrenceOfTheLongestSuffix) {
  //            0  1  2  3  4  5  6  7  8
  const std::vector<int32_t> h = {5, 1, 2, 9, 7, 1, 2, 8, 1, 2};
  // suffix [8 1 2] never occurred; [1 2] last occurred at 5 → the tokens after it: 8 1 2
  EXPECT_EQ(ngram_draft(h, 1, 3, 8), (std::vector<int32_t>{8, 1, 2}));
  EXPECT_EQ(ngram_draft(h, 1, 3, 2), (std::vector<int32_t>{8, 1}));
  EXPECT_TRUE(ngram_draft(h, 3, 3, 4).empty());
  EXPECT_TRUE(ngram_draft({1, 2, 3}, 1, 2, 4).empty());
}

class SpeculativeModel : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (const test::DemoPair* p = test::demo_pair()) target_ = p->target.get(), draft_ = p->draft.get();
  }
  void SetUp() override {
    if (!target_) GTEST_SKIP() << "no bundled demo model at " << test::demo_model_path();
  }
  std::vector<int32_t> prompt(const std::string& text) const { return target_->tokenizer.encode(text).ids; }

  static Engine* target_;
  static Engine* draft_;
};
Engine* SpeculativeModel::target_ = nullptr;
Engine* SpeculativeModel::draft_ = nullptr;

std::vector<int32_t> run(const Engine& e, const std::vector<int32_t>& prompt, const std::string& chain_spec,
                         uint64_t seed, int64_t n, const SpeculativeOptions* spec, GenerateSummary* summary = nullptr) {
  auto chain = sampling::Chain::parse(chain_spec);
  EXPECT_TRUE(chain.ok());
  sampling::Rng rng(seed);
  ThreadPool pool(1);
  GenerateOptions go;
  go.n_new = n;
  go.top_k = 0;
  go.ignore_eos = true;
  std::vector<int32_t> out;
  auto sink = [&](const GenToken& t) { out.push_back(t.id); };
  auto s = spec ? generate_speculative(e, prompt, *chain, rng, go, *spec, pool, sink)
                : generate(e, prompt, *chain, rng, go, pool, sink);
  EXPECT_TRUE(s.ok()) << s.error().message;
  if (summary && s.ok()) *summary = *s;
  return out;
}

TEST_F(SpeculativeModel, GreedySpeculativeEqualsGreedyPlainTokenForToken) {
  for (const char* text : {"And it came to pass", "The Lord said unto Moses,", "hacker: n. A person who"}) {
    const auto ids = prompt(text);
    const auto plain = run(*target_, ids, "greedy", 0, 64, nullptr);
    ASSERT_EQ(plain.size(), 64u);
    // also equal to the older argmax loop
    ThreadPool pool(1);
    auto g = generate_greedy(*target_->model, ids, 64, pool);
    ASSERT_TRUE(g.ok());
    EXPECT_EQ(std::vector<int32_t>(g->begin() + static_cast<std::ptrdiff_t>(ids.size()), g->end()), plain) << text;
    SpeculativeOptions with_draft;
    with_draft.draft = draft_;
    with_draft.n_draft = 6;
    GenerateSummary s;
    EXPECT_EQ(run(*target_, ids, "greedy", 0, 64, &with_draft, &s), plain) << text;
    EXPECT_GT(s.accepted, 0) << text;
    EXPECT_LT(s.target_passes, 64) << text;
    SpeculativeOptions ngram;
    EXPECT_EQ(run(*target_, ids, "greedy", 0, 64, &ngram), plain) << text;
  }
}

TEST_F(SpeculativeModel, DeterministicDraftsReplayPlainSeededSampling) {
  // one-hot drafts consume the random stream exactly as plain generation does (speculative.h)
  const auto ids = prompt("And it came to pass");
  for (uint64_t seed : {1u, 2u, 3u}) {
    const auto plain = run(*target_, ids, "default", seed, 48, nullptr);
    SpeculativeOptions greedy_draft;
    greedy_draft.draft = draft_;
    greedy_draft.greedy_draft = true;
    EXPECT_EQ(run(*target_, ids, "default", seed, 48, &greedy_draft), plain) << seed;
    SpeculativeOptions ngram;
    EXPECT_EQ(run(*target_, ids, "default", seed, 48, &ngram), plain) << seed;
  }
}

// Logits by prefix, computed once: the forward is a function of the prefix, so caching it changes nothing but time.
class MemoOracle : public LogitOracle {
 public:
  MemoOracle(const Model& m, ThreadPool& pool) : inner_(m, m.config().n_ctx_train, pool), V_(m.config().n_vocab) {}
  Status logits_after(std::span<const int32_t> tokens, int64_t from, std::vector<float>& out) override {
    const int64_t n = static_cast<int64_t>(tokens.size());
    out.resize(static_cast<size_t>((n - from) * V_));
    for (int64_t j = from; j < n; ++j) {
      const std::vector<float>& row = get(std::vector<int32_t>(tokens.begin(), tokens.begin() + j + 1));
      std::copy(row.begin(), row.end(), out.begin() + (j - from) * V_);
    }
    return ok_status();
  }
  const std::vector<float>& row(const std::vector<int32_t>& prefix) { return get(prefix); }

 private:
  const std::vector<float>& get(const std::vector<int32_t>& prefix) {
    auto it = memo_.find(prefix);
    if (it != memo_.end()) return it->second;
    std::vector<float> z;
    EXPECT_TRUE(inner_.logits_after(prefix, static_cast<int64_t>(prefix.size()) - 1, z).ok());
    return memo_.emplace(prefix, std::move(z)).first->second;
  }
  ModelOracle inner_;
  int64_t V_;
  std::map<std::vector<int32_t>, std::vector<float>> memo_;
};

// Exact joint distribution of the first `depth` tokens under plain sampling from the chain.
void exact_joint(const Engine& e, MemoOracle& o, sampling::Chain& chain, std::vector<int32_t> prefix, double p,
                 int depth, std::vector<int32_t>& path, std::map<std::vector<int32_t>, double>& out) {
  if (depth == 0) {
    out[path] += p;
    return;
  }
  const auto& z = o.row(prefix);
  const Candidates c = chain.apply(z.data(), e.model->config().n_vocab, chain_context(e, prefix, nullptr));
  for (const auto& cand : c.data) {
    if (cand.p <= 0) continue;
    prefix.push_back(cand.id);
    path.push_back(cand.id);
    exact_joint(e, o, chain, prefix, p * cand.p, depth - 1, path, out);
    prefix.pop_back();
    path.pop_back();
  }
}

TEST_F(SpeculativeModel, FirstThreeTokensAreDistributedAsPlainSampling) {
  // a prompt with repeats, so that n-gram lookup drafts too
  const auto ids = prompt("the king of the land, and the king of the");
  const std::string chain_spec = "top_k=6;temp=1.3;dist";  // a flat chain: several likely paths per position
  auto chain = sampling::Chain::parse(chain_spec);
  ASSERT_TRUE(chain.ok());
  ThreadPool pool(1);
  MemoOracle t(*target_->model, pool), d(*draft_->model, pool);
  std::map<std::vector<int32_t>, double> exact;
  std::vector<int32_t> path;
  exact_joint(*target_, t, *chain, ids, 1.0, 3, path, exact);
  double total = 0;
  for (const auto& [k, v] : exact) total += v;
  ASSERT_NEAR(total, 1.0, 1e-4);

  struct Mode {
    const char* name;
    bool draft, greedy;
    uint64_t seed;
    Chi2 result;
    double acceptance = 0;
  };
  std::vector<Mode> modes = {{"general rule (draft samples q)", true, false, 11, {}},
                             {"greedy draft (sample and compare)", true, true, 22, {}},
                             {"n-gram", false, false, 33, {}}};
  // The modes are independent; each runs on its own thread with its own caches (the models are shared, read-only).
  auto run_mode = [&](Mode& m) {
    ThreadPool pool1(1);
    MemoOracle tm(*target_->model, pool1), dm(*draft_->model, pool1);
    const int64_t n = 100000;
    std::map<std::vector<int32_t>, int64_t> obs;
    sampling::Rng rng(m.seed);
    GenerateOptions go;
    go.n_new = 3;
    go.top_k = -1;
    go.ignore_eos = true;
    int64_t drafted = 0, accepted = 0;
    for (int64_t i = 0; i < n; ++i) {
      SpeculativeOptions spec;
      spec.draft = m.draft ? draft_ : nullptr;
      spec.greedy_draft = m.greedy;
      spec.n_draft = 3;
      spec.draft_seed = static_cast<uint64_t>(i) * 0x9E3779B97F4A7C15ull + m.seed;
      sampling::Chain c = *chain;
      std::vector<int32_t> out;
      auto s = speculative_loop(*target_, tm, m.draft ? &dm : nullptr, ids, c, rng, go, spec,
                                [&](const GenToken& g) { out.push_back(g.id); });
      if (!s.ok()) {
        ADD_FAILURE() << m.name << ": " << s.error().message;
        return;
      }
      drafted += s->drafted, accepted += s->accepted;
      ++obs[out];
    }
    m.result = chi2(exact, obs, n);
    m.acceptance = drafted ? static_cast<double>(accepted) / static_cast<double>(drafted) : 0.0;
  };
  std::thread other([&] { run_mode(modes[0]); });
  run_mode(modes[1]);
  run_mode(modes[2]);
  other.join();
  // Power: the draft's own samples (what a rule that accepted every draft unchecked would emit) fail the same test.
  {
    ThreadPool pool1(1);
    MemoOracle dm(*draft_->model, pool1);
    std::map<std::vector<int32_t>, int64_t> obs;
    sampling::Rng rng(44);
    const int64_t n = 20000;
    for (int64_t i = 0; i < n; ++i) {
      std::vector<int32_t> seq = ids;
      std::vector<float> z;
      for (int k = 0; k < 3; ++k) {
        ASSERT_TRUE(dm.logits_after(seq, static_cast<int64_t>(seq.size()) - 1, z).ok());
        sampling::Chain c = *chain;
        seq.push_back(c.sample(z.data(), draft_->model->config().n_vocab, chain_context(*draft_, seq, &rng), rng));
      }
      ++obs[std::vector<int32_t>(seq.end() - 3, seq.end())];
    }
    const Chi2 q = chi2(exact, obs, n);
    EXPECT_LT(q.p, 0.001) << "the test cannot tell the draft from the target: chi2 " << q.stat << " on " << q.dof;
    std::printf("draft's own samples (must fail): chi2 %.1f on %d dof (p = %.2g)\n", q.stat, q.dof, q.p);
  }
  for (const Mode& m : modes) {
    EXPECT_GT(m.result.p, 0.001) << m.name << ": chi2 " << m.result.stat << " on " << m.result.dof << " dof";
    EXPECT_GT(m.acceptance, 0) << m.name;
    std::printf("%s: chi2 %.1f on %d dof (p = %.3f), acceptance %.3f\n", m.name, m.result.stat, m.result.dof,
                m.result.p, m.acceptance);
  }
}

}  // namespace
}  // namespace ts
