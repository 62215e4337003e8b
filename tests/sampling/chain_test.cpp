// Chain: spec parsing and printing, presets, order, statelessness of apply() and forking.
#include "sampling/chain.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "sampling/samplers.h"
#include "test_util.h"

namespace ts::sampling {
namespace {

using test::ids_in_order;
using Ids = std::vector<int32_t>;

std::vector<std::string> names(const Chain& c) {
  std::vector<std::string> n;
  for (const auto& s : c.shapers()) n.push_back(s->name());
  n.push_back(c.selector().name());
  return n;
}

std::string spec_of(std::string_view s) {
  auto c = Chain::parse(s);
  EXPECT_TRUE(c.ok()) << s << ": " << (c.ok() ? "" : c.error().message);
  return c.ok() ? c->spec() : "";
}

Ids sorted_ids(Candidates c) {
  Ids ids = ids_in_order(c);
  std::sort(ids.begin(), ids.end());
  return ids;
}

TEST(ChainSpec, RoundTripsEverySampler) {
  const std::string spec =
      "logit_bias,3=-inf,7=2.5;penalties,repeat=1.1,freq=0.25,present=-0.5,last_n=-1;"
      "dry=0.8,base=2,allowed_length=3,last_n=128,breakers=\\n|\\||\\s|a\\;b;top_n_sigma=1.5;top_k=40;"
      "typical=0.95,min_keep=2;top_p=0.9;min_p=0.05;epsilon=0.0003;eta=0.002;top_h=0.4,top_n=50;"
      "xtc=0.5,threshold=0.2;temp=0.7,range=0.3,exponent=1.5;mirostat=5,eta=0.2,m=50";
  const std::string once = spec_of(spec);
  EXPECT_EQ(once, spec) << "already canonical, so printing gives it back";
  EXPECT_EQ(spec_of(once), once);
  for (std::string s : {"mirostat_v2=3", "greedy", "temp=0.8;dist", "dry", "penalties"}) {
    const std::string printed = spec_of(s);
    EXPECT_EQ(spec_of(printed), printed) << s;
  }
}

TEST(ChainSpec, BareNamesTakeDefaultsAndAliasesPrintCanonically) {
  EXPECT_EQ(spec_of("top_k;top_p;min_p;temp"), "top_k=40;top_p=0.95;min_p=0.05;temp=0.8;dist");
  EXPECT_EQ(spec_of("temperature=0.5;typ_p=0.9;mirostat_v1"), "temp=0.5;typical=0.9;mirostat=5");
  EXPECT_EQ(spec_of(" top_k = 5 ; min_p=0.1 ; "), "top_k=5;min_p=0.1;dist");
}

TEST(ChainSpec, DryBreakersSurviveEscaping) {
  auto c = Chain::parse("dry=0.8,breakers=\\n|:|\\x41\\||\\s;greedy");
  ASSERT_TRUE(c.ok()) << c.error().message;
  // breakers: "\n", ":", "A|", " "
  EXPECT_EQ(c->spec(), "dry=0.8,breakers=\\n|:|A\\||\\s;greedy");
}

TEST(ChainSpec, BadSpecsAreOneLineInputErrorsNamingTheItem) {
  struct Case {
    const char* spec;
    const char* names;  // must appear in the message
  };
  const Case cases[] = {
      {"top_k=abc", "top_k=abc"},
      {"top_p=1.5", "out of range"},
      {"min_p=0.05;foo=1", "unknown sampler 'foo'"},
      {"temp=0.8,bogus=1", "unknown parameter 'bogus'"},
      {"dist;top_k=4", "must be the last item"},
      {"top_k=4;mirostat;min_p", "must be the last item"},
      {"top_k=4;default", "must be the first item"},
      {"", "empty"},
      {"  ;  ", "empty"},
      {"dry=0.8,breakers=\\q", "unknown escape"},
      {"logit_bias,x=1", "not a token id"},
      {"logit_bias,5=inf", "+inf"},
      {"top_k=4,5", "not key=value"},
      {"penalties=1.1", "takes no value"},
      {"temp=nan", "not a number"},
      {"top_h=0", "(0, 1]"},
      {"default=1", "takes no parameters"},
      {"top_k=4,top_k=5", "unknown parameter 'top_k'"},
      {"temp=1,range=0.1,range=0.2", "given twice"},
  };
  for (const Case& k : cases) {
    auto c = Chain::parse(k.spec);
    ASSERT_FALSE(c.ok()) << k.spec;
    EXPECT_EQ(c.error().kind, Error::Kind::kInput) << k.spec;
    EXPECT_NE(c.error().message.find(k.names), std::string::npos) << k.spec << " → " << c.error().message;
    EXPECT_EQ(c.error().message.find('\n'), std::string::npos) << k.spec;
  }
}

TEST(ChainPreset, DefaultIsLlamaCppOrderWithTemperatureLast) {
  EXPECT_EQ(spec_of("default"), "top_k=40;top_p=0.95;min_p=0.05;temp=0.8;dist");
  // everything added lands at llama.cpp's position:
  // logit_bias → penalties → dry → top_n_sigma → top_k → typical → top_p → min_p → (eps, eta, top_h) → xtc → temp
  auto c = Chain::parse("default;xtc;top_h;eta;typical;dry;top_n_sigma;penalties,repeat=1.1;logit_bias,3=1;epsilon");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(names(*c), (std::vector<std::string>{"logit_bias", "penalties", "dry", "top_n_sigma", "top_k", "typical",
                                                 "top_p", "min_p", "epsilon", "eta", "top_h", "xtc", "temp", "dist"}));
}

TEST(ChainPreset, ItemsAfterAPresetReplaceInPlace) {
  EXPECT_EQ(spec_of("default;temp=0.5;top_k=20"), "top_k=20;top_p=0.95;min_p=0.05;temp=0.5;dist");
  EXPECT_EQ(spec_of("default;greedy"), "top_k=40;top_p=0.95;min_p=0.05;temp=0.8;greedy");
  EXPECT_EQ(spec_of("hf"), "temp=1;top_k=50;dist");
  EXPECT_EQ(spec_of("hf;min_p=0.1;temp=0.7"), "temp=0.7;top_k=50;min_p=0.1;dist");
  EXPECT_EQ(spec_of("greedy"), "greedy");
  EXPECT_EQ(spec_of("greedy;penalties,repeat=1.2"), "penalties,repeat=1.2;greedy");
}

TEST(ChainPreset, MirostatKeepsOnlyLogitBiasAndTemperatureOfThePreset) {
  // As llama.cpp's common_sampler with mirostat = 2: logit_bias → temp → mirostat_v2
  EXPECT_EQ(spec_of("default;logit_bias,1=2;mirostat_v2"), "logit_bias,1=2;temp=0.8;mirostat_v2=5");
  // truncations the user names explicitly stay
  EXPECT_EQ(spec_of("default;min_p=0.1;mirostat"), "min_p=0.1;temp=0.8;mirostat=5");
}

TEST(ChainOrder, TemperatureLastAndHfOrderKeepDifferentSets) {
  // p = (0.1, 0.4, 0.05, 0.3, 0.15) for ids 0..4, min_p = 0.6, T = 3.
  // Temperature last (llama.cpp): min_p sees T = 1, floor 0.6 · 0.4 = 0.24 → {1, 3}.
  // Temperature first (HF): p ∝ p^{1/3}; relative to the max, (p/0.4)^{1/3} = 1, 0.909 (3), 0.721 (4), 0.630 (0),
  // 0.5 (2) → the floor 0.6 keeps {1, 3, 4, 0}.
  const std::vector<float> z = test::p5_logits();
  auto llama = Chain::parse("default;top_k=0;top_p=1;min_p=0.6;temp=3");
  auto hf = Chain::parse("hf;top_k=0;min_p=0.6;temp=3");
  ASSERT_TRUE(llama.ok() && hf.ok());
  EXPECT_EQ(sorted_ids(llama->apply(z.data(), 5, {})), (Ids{1, 3}));
  EXPECT_EQ(sorted_ids(hf->apply(z.data(), 5, {})), (Ids{0, 1, 3, 4}));
}

TEST(ChainApply, OutputIsNormalisedAndDropsBannedTokens) {
  const std::vector<float> z = test::p5_logits();
  auto c = Chain::parse("logit_bias,1=-inf;temp=1");
  ASSERT_TRUE(c.ok());
  Candidates out = c->apply(z.data(), 5, {});
  // token 1 banned: the rest renormalised over 0.6
  EXPECT_EQ(sorted_ids(out), (Ids{0, 2, 3, 4}));
  double sum = 0;
  for (const Candidate& x : out.data) sum += x.p;
  EXPECT_NEAR(sum, 1.0, 1e-6);
  EXPECT_NEAR(prob_of(out, 3), 0.5, 1e-5);
}

TEST(ChainApply, IsStatelessAndAcceptMovesMirostatMu) {
  const std::vector<float> z = test::p5_logits();
  auto c = Chain::parse("temp=1;mirostat_v2=1");
  ASSERT_TRUE(c.ok());
  auto& miro = static_cast<MirostatV2&>(c->selector());
  Candidates a = c->apply(z.data(), 5, {});
  Candidates b = c->apply(z.data(), 5, {});
  EXPECT_EQ(ids_in_order(a), ids_in_order(b));
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a.data[i].p, b.data[i].p);
  EXPECT_FLOAT_EQ(miro.mu(), 2.0f) << "apply() must not move mu";
  // μ = 2 keeps {1, 3} with p 4/7, 3/7; accept(3): μ = 2 − 0.1 · (log2(7/3) − 1) = 1.977761
  c->accept(3);
  EXPECT_NEAR(miro.mu(), 1.977761, 1e-5);
}

TEST(ChainApply, CopiesForkTheState) {
  const std::vector<float> z = test::p5_logits();
  auto c = Chain::parse("mirostat_v2=1");
  ASSERT_TRUE(c.ok());
  c->apply(z.data(), 5, {});
  Chain fork = *c;  // carries the remembered distribution too
  fork.accept(1);
  EXPECT_NEAR(static_cast<MirostatV2&>(fork.selector()).mu(), 2.019265, 1e-5);
  EXPECT_FLOAT_EQ(static_cast<MirostatV2&>(c->selector()).mu(), 2.0f) << "the original is untouched";
  c->accept(3);
  EXPECT_NEAR(static_cast<MirostatV2&>(c->selector()).mu(), 1.977761, 1e-5);
  Chain assigned;
  assigned = fork;
  EXPECT_EQ(assigned.spec(), "mirostat_v2=1");
  c->reset();
  EXPECT_FLOAT_EQ(static_cast<MirostatV2&>(c->selector()).mu(), 2.0f);
}

TEST(ChainApply, EmptyVocabularyGivesAnEmptySetAndNoToken) {
  auto c = Chain::parse("default;penalties,repeat=1.1;dry;xtc=1;typical;top_h;mirostat");
  ASSERT_TRUE(c.ok());
  Candidates out = c->apply(nullptr, 0, {});
  EXPECT_TRUE(out.empty());
  Rng rng(0);
  EXPECT_EQ(c->select(out, rng), -1);
}

TEST(ChainApply, EverySamplerTogetherOnALargeVocabularyLeavesAValidDistribution) {
  // Not a value test: every stage on 50 000 pseudo-random logits must leave a non-empty set of distinct ids whose p
  // sum to 1, and the draw must come from it.
  const int64_t n = 50000;
  std::vector<float> z(n);
  Rng gen(11);
  for (float& v : z) v = static_cast<float>(8.0 * gen.uniform() - 4.0);
  std::vector<int32_t> history;
  for (int i = 0; i < 100; ++i) history.push_back(static_cast<int32_t>(gen.next_u64() % 50));
  Rng rng(3);
  Context ctx;
  ctx.history = history;
  ctx.rng = &rng;
  ctx.token_text = [](int32_t id) { return id % 97 == 0 ? std::string("\n") : std::string("t"); };
  for (const char* spec : {"logit_bias,5=-inf;penalties,repeat=1.3,freq=0.1,present=0.1;dry;top_n_sigma=3;"
                           "typical=0.99;top_p=0.99;min_p=0.01;epsilon=1e-6;eta=1e-5;top_h=0.9;xtc=1;temp=0.7",
                           "default", "hf;top_p=0.9", "mirostat", "mirostat_v2", "top_h", "typical=0.5;greedy"}) {
    auto c = Chain::parse(spec);
    ASSERT_TRUE(c.ok()) << spec;
    Candidates out = c->apply(z.data(), n, ctx);
    ASSERT_FALSE(out.empty()) << spec;
    double sum = 0;
    Ids ids = ids_in_order(out);
    std::sort(ids.begin(), ids.end());
    EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end()) << spec;
    for (const Candidate& x : out.data) sum += x.p;
    EXPECT_NEAR(sum, 1.0, 1e-4) << spec;
    EXPECT_GT(prob_of(out, c->select(out, rng)), 0.0f) << spec;
    if (std::string_view(spec).starts_with("logit_bias")) {
      EXPECT_EQ(prob_of(out, 5), 0.0f) << "banned token 5";
    }
  }
}

TEST(ChainApply, SampleIsApplyThenSelectAndDefaultChainIsDist) {
  const std::vector<float> z = test::p5_logits();
  Chain c;
  EXPECT_EQ(c.spec(), "dist");
  Rng r1(9), r2(9);
  const int32_t t = c.sample(z.data(), 5, {}, r1);
  EXPECT_EQ(t, c.select(c.apply(z.data(), 5, {}), r2));
}

}  // namespace
}  // namespace ts::sampling
