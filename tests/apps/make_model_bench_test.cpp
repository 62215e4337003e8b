// The CLI end to end: `make-model` writes a tiny random llama GGUF that `info`, `score` and `bench` accept, with the
// metadata and vocabulary llama.cpp expects and weights that depend only on the seed.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_run.h"
#include "gguf/gguf.h"
#include "tensor/quant.h"

namespace {

namespace fs = std::filesystem;

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> v;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) v.push_back(l);
  return v;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

using ts::test::run_cli;
using Args = std::vector<std::string>;

// Tiny shape: every matrix row a multiple of 32 (Q8_0's block), vocab just above the 259 fixed tokens.
Args tiny(const std::string& out, Args extra) {
  Args a = {"make-model", "-o", out, "--shape", "custom", "--embd", "64", "--layers", "2", "--heads", "4",
            "--kv-heads", "2", "--ffn", "128", "--vocab", "300", "--ctx", "128"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

class CliModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ts::test::temp_dir();
    ASSERT_NE(dir_, "/tmp") << "mkdtemp failed";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);  // now rather than when the program exits
  }
  // Writes a tiny model and returns its path (empty on failure, with the output in the test log).
  std::string make(const std::string& name, const Args& extra) {
    const std::string path = dir_ + "/" + name;
    const auto r = run_cli(tiny(path, extra));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? path : std::string();
  }
  std::string dir_;
};

TEST_F(CliModelTest, tiny_model_is_accepted_by_info_and_score) {
  const std::string m = make("tiny.gguf", {"--type", "F16", "--seed", "1"});
  ASSERT_FALSE(m.empty());
  const auto info = run_cli({"info", "-m", m});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  EXPECT_NE(info.out.find("vocab 300, embd 64, layers 2, heads 4 (kv 2, dim 16), ffn 128"), std::string::npos)
      << info.out;
  EXPECT_NE(info.out.find("tokenizer    llama"), std::string::npos) << info.out;

  const auto score = run_cli({"score", "-m", m, "-p", "hello world", "-t", "1"});
  ASSERT_EQ(score.exit_code, 0) << score.err;
  const auto ls = lines(score.out);
  ASSERT_GE(ls.size(), 2u);
  int64_t tokens = 0;
  for (size_t i = 0; i + 1 < ls.size(); ++i) {
    const auto j = nlohmann::json::parse(ls[i], nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << ls[i];
    ASSERT_TRUE(j.contains("logprob")) << ls[i];
    const double lp = j["logprob"].get<double>();
    EXPECT_TRUE(std::isfinite(lp) && lp <= 0.0) << ls[i];
    EXPECT_EQ(j["top"].size(), 5u) << ls[i];
    ++tokens;
  }
  const auto summary = nlohmann::json::parse(ls.back(), nullptr, false);
  ASSERT_FALSE(summary.is_discarded()) << ls.back();
  ASSERT_TRUE(summary.contains("summary")) << ls.back();
  EXPECT_EQ(summary["summary"]["tokens"].get<int64_t>(), tokens);
  // a random model over 300 tokens is close to uniform: perplexity near 300, far from 1
  EXPECT_GT(summary["summary"]["ppl"].get<double>(), 100.0);
}

TEST_F(CliModelTest, make_model_writes_llama_metadata_and_a_spm_vocabulary) {
  const std::string m = make("q8.gguf", {"--type", "Q8_0"});
  ASSERT_FALSE(m.empty());
  auto f = ts::gguf::File::open(m);
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->get_string_or("general.architecture", ""), "llama");
  EXPECT_EQ(f->get_int_or("general.file_type", -1), 7);  // LLAMA_FTYPE_MOSTLY_Q8_0
  EXPECT_EQ(f->get_int_or("llama.rope.dimension_count", -1), 16);
  EXPECT_EQ(f->get_int_or("llama.attention.head_count_kv", -1), 2);
  EXPECT_EQ(f->get_int_or("llama.context_length", -1), 128);
  EXPECT_NEAR(f->get_float_or("llama.attention.layer_norm_rms_epsilon", 0), 1e-5, 1e-9);
  EXPECT_EQ(f->get_string_or("tokenizer.ggml.model", ""), "llama");
  auto tokens = f->get_string_array("tokenizer.ggml.tokens");
  auto kinds = f->get_int_array("tokenizer.ggml.token_type");
  auto scores = f->get_float_array("tokenizer.ggml.scores");
  ASSERT_TRUE(tokens && kinds && scores);
  const auto& t = **tokens;
  ASSERT_EQ(t.size(), 300u);
  ASSERT_EQ((*kinds)->size(), 300u);
  ASSERT_EQ((*scores)->size(), 300u);
  EXPECT_EQ(t[0], "<unk>");
  EXPECT_EQ(t[1], "<s>");
  EXPECT_EQ(t[2], "</s>");
  EXPECT_EQ(t[3 + 0x0A], "<0x0A>");  // llama.cpp's SPM loader looks up the newline byte token
  for (int b = 0; b < 256; ++b) EXPECT_EQ((**kinds)[3 + b], 6) << b;
  EXPECT_EQ((**kinds)[259], 1);
  EXPECT_EQ(std::set<std::string>(t.begin(), t.end()).size(), t.size()) << "token pieces must be unique";
  EXPECT_EQ(f->get_int_or("tokenizer.ggml.bos_token_id", -1), 1);
  EXPECT_EQ(f->get_int_or("tokenizer.ggml.eos_token_id", -1), 2);
  // every matrix in the chosen type, token_embd and output included; norms F32
  for (const auto& ti : f->tensors())
    EXPECT_EQ(ti.type, ti.dims.size() == 2 ? ts::DType::Q8_0 : ts::DType::F32) << ti.name;
  ASSERT_NE(f->tensor("output.weight"), nullptr);
  EXPECT_EQ(f->tensors().size(), 2u * 9 + 3);
}

TEST_F(CliModelTest, weights_depend_only_on_the_seed_and_share_values_across_types) {
  const std::string a = make("a.gguf", {"--type", "F16", "--seed", "7", "-t", "1"});
  const std::string b = make("b.gguf", {"--type", "F16", "--seed", "7", "-t", "2"});
  const std::string c = make("c.gguf", {"--type", "F16", "--seed", "8"});
  const std::string q = make("q.gguf", {"--type", "Q8_0", "--seed", "7"});
  ASSERT_FALSE(a.empty() || b.empty() || c.empty() || q.empty());
  EXPECT_EQ(read_all(a), read_all(b)) << "same seed, different thread count: identical files";
  EXPECT_NE(read_all(a), read_all(c));

  auto fa = ts::gguf::File::open(a);
  auto fq = ts::gguf::File::open(q);
  ASSERT_TRUE(fa && fq);
  const ts::gguf::TensorInfo* ta = fa->tensor("blk.1.ffn_up.weight");
  const ts::gguf::TensorInfo* tq = fq->tensor("blk.1.ffn_up.weight");
  ASSERT_TRUE(ta && tq);
  const int64_t n = static_cast<int64_t>(ta->n_elements);
  std::vector<float> wa(static_cast<size_t>(n)), wq(static_cast<size_t>(n));
  ts::dequantize_row(ta->type, ta->data, wa.data(), n);
  ts::dequantize_row(tq->type, tq->data, wq.data(), n);
  double sum = 0, sq = 0, max_diff = 0;
  for (int64_t i = 0; i < n; ++i) {
    sum += wa[i];
    sq += static_cast<double>(wa[i]) * wa[i];
    max_diff = std::max(max_diff, static_cast<double>(std::fabs(wa[i] - wq[i])));
  }
  const double mean = sum / static_cast<double>(n), sd = std::sqrt(sq / static_cast<double>(n) - mean * mean);
  EXPECT_NEAR(sd, 0.02, 0.002);    // 8192 samples of N(0, 0.02²): sd within 10%
  EXPECT_NEAR(mean, 0.0, 0.001);
  EXPECT_LT(max_diff, 0.02 * 5 / 127.0);  // Q8_0 error ≤ half a step of max|block|/127, blocks within ~5 sd
  EXPECT_GT(max_diff, 0.0);
}

TEST_F(CliModelTest, make_model_refuses_a_row_length_that_is_not_a_multiple_of_the_block) {
  const auto r = run_cli(tiny(dir_ + "/bad.gguf", {"--type", "Q4_K"}));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--embd: value 64 is not a multiple of 256"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir_ + "/bad.gguf"));
}

TEST_F(CliModelTest, bench_json_reports_medians_on_its_last_line) {
  const std::string m = make("bench.gguf", {"--type", "Q8_0"});
  ASSERT_FALSE(m.empty());
  const auto r = run_cli({"bench", "-m", m, "-p", "16", "-n", "4", "-r", "2", "-t", "1", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto ls = lines(r.out);
  ASSERT_FALSE(ls.empty());
  const auto j = nlohmann::json::parse(ls.back(), nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << ls.back();
  for (const char* k : {"prompt_tokens_per_s", "gen_tokens_per_s", "ttft_ms", "rss_mb"}) {
    ASSERT_TRUE(j.contains(k) && j[k].is_number()) << k << " in " << ls.back();
    EXPECT_GT(j[k].get<double>(), 0.0) << k;
  }
  EXPECT_LE(j["prompt_tokens_per_s_min"].get<double>(), j["prompt_tokens_per_s"].get<double>());
  EXPECT_GE(j["prompt_tokens_per_s_max"].get<double>(), j["prompt_tokens_per_s"].get<double>());
  EXPECT_EQ(j["prompt_tokens"].get<int64_t>(), 16);
  EXPECT_EQ(j["gen_tokens"].get<int64_t>(), 4);

  // The bandwidth figures: the bytes a token streams are the file's matrices but the embedding table (looked up by
  // row) where an output.weight is the classifier; tg's GB/s is those bytes times its tokens/s.
  auto f = ts::gguf::File::open(m);
  ASSERT_TRUE(f) << f.error().message;
  const bool tied = f->tensor("output.weight") == nullptr;
  uint64_t want = 0;
  for (const auto& t : f->tensors())
    if (t.dims.size() >= 2 && (tied || t.name != "token_embd.weight")) want += t.n_bytes / 8 * 8;
  ASSERT_GT(want, 0u);
  EXPECT_EQ(j["streamed_bytes_per_token"].get<uint64_t>(), want);
  EXPECT_NEAR(j["gen_gb_per_s"].get<double>(), want * j["gen_tokens_per_s"].get<double>() / 1e9,
              1e-5 * j["gen_gb_per_s"].get<double>() + 2e-6);
  EXPECT_GT(j["read_gb_per_s"].get<double>(), 0.0);
  EXPECT_LE(j["read_gb_per_s_min"].get<double>(), j["read_gb_per_s"].get<double>());
  EXPECT_GT(j["gen_of_read"].get<double>(), 0.0);
}

TEST_F(CliModelTest, bench_skips_the_prompt_part_with_p_0) {
  const std::string m = make("bench0.gguf", {"--type", "F16"});
  ASSERT_FALSE(m.empty());
  const auto r = run_cli({"bench", "-m", m, "-p", "0", "-n", "2", "-r", "1", "-t", "1", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(lines(r.out).back(), nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_TRUE(j["prompt_tokens_per_s"].is_null()) << r.out;
  EXPECT_GT(j["read_gb_per_s"].get<double>(), 0.0);
  EXPECT_GT(j["gen_tokens_per_s"].get<double>(), 0.0);
  EXPECT_EQ(run_cli({"bench", "-m", m, "-p", "0", "-n", "0"}).exit_code, 2);
}

}  // namespace
