// Model layer: config validation and the forward pass on the fixture model (logprobs via a plain log-softmax).
#include "model/model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "fixtures.h"

namespace ts {
namespace {

std::shared_ptr<const gguf::File> open_file(const std::string& path) {
  auto f = gguf::File::open(path);
  EXPECT_TRUE(f.ok()) << (f.ok() ? "" : f.error().message);
  if (!f.ok()) return nullptr;
  return std::make_shared<const gguf::File>(std::move(*f));
}

double log_softmax_at(const float* z, int64_t n, int32_t t) {
  double m = -INFINITY, s = 0;
  for (int64_t i = 0; i < n; ++i) m = std::max(m, double(z[i]));
  for (int64_t i = 0; i < n; ++i) s += std::exp(double(z[i]) - m);
  return double(z[t]) - m - std::log(s);
}

TEST(Model, ReadsFixtureConfig) {
  TS_REQUIRE_FIXTURE(path, "models/tiny-llama-spm-F16.gguf");
  auto f = open_file(path);
  ASSERT_TRUE(f);
  auto c = read_config(*f);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->arch, "llama");
  EXPECT_EQ(c->n_embd, 256);
  EXPECT_EQ(c->n_layer, 4);
  EXPECT_EQ(c->n_head, 4);
  EXPECT_EQ(c->n_head_kv, 2);
  EXPECT_EQ(c->head_dim, 64);
  EXPECT_EQ(c->n_ff, 768);
  EXPECT_EQ(c->n_vocab, 32000);
  EXPECT_EQ(c->rope, RopeKind::kNorm);
  EXPECT_FALSE(c->tied_output);
}

TEST(Model, UnknownArchitectureIsRefusedWithTheSupportedList) {
  gguf::Writer w;
  w.add_string("general.architecture", "mamba");
  auto f = gguf::File::from_bytes(w.to_bytes(), "m.gguf");
  ASSERT_TRUE(f.ok()) << f.error().message;
  auto c = read_config(*f);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("mamba"), std::string::npos);
  EXPECT_NE(c.error().message.find("llama, qwen2, qwen3"), std::string::npos);
}

TEST(Model, F16ForwardMatchesReferenceOnFirstDocument) {
  TS_REQUIRE_FIXTURE(path, "models/tiny-llama-spm-F16.gguf");
  TS_REQUIRE_FIXTURE(ref_path, "reference/tiny-llama-spm.json");
  auto f = open_file(path);
  ASSERT_TRUE(f);
  auto m = Model::load(f);
  ASSERT_TRUE(m.ok()) << m.error().message;
  std::ifstream in(ref_path);
  auto doc = nlohmann::json::parse(in)["docs"][0];
  auto ids = doc["ids"].get<std::vector<int32_t>>();
  auto want = doc["reference"]["logprob"].get<std::vector<double>>();
  const int64_t V = (*m)->config().n_vocab, n = static_cast<int64_t>(ids.size());
  KVCache cache((*m)->config(), n);
  ThreadPool pool(2);
  std::vector<float> logits(static_cast<size_t>(n * V));
  ASSERT_TRUE((*m)->forward(ids.data(), n, cache, logits.data(), pool).ok());
  double worst = 0;
  for (int64_t i = 0; i + 1 < n; ++i)
    worst = std::max(worst, std::fabs(log_softmax_at(&logits[i * V], V, ids[i + 1]) - want[i]));
  EXPECT_LT(worst, 0.02);
}

TEST(Model, ContextOverflowIsAnErrorNotACrash) {
  TS_REQUIRE_FIXTURE(path, "models/tiny-llama-spm-Q8_0.gguf");
  auto f = open_file(path);
  ASSERT_TRUE(f);
  auto m = Model::load(f);
  ASSERT_TRUE(m.ok()) << m.error().message;
  KVCache cache((*m)->config(), 4);
  ThreadPool pool(1);
  std::vector<int32_t> ids = {1, 2, 3, 4, 5};
  std::vector<float> logits(5 * 32000);
  auto s = (*m)->forward(ids.data(), 5, cache, logits.data(), pool);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("context"), std::string::npos);
}

}  // namespace
}  // namespace ts
