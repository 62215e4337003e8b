// The bundled demo model (models/) and what the README's first command shows with it: the perplexity written in
// the model card, a model that prefers its own greedy text to human text, the --view output, and `convert`.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "cli_run.h"
#include "runtime/engine.h"
#include "runtime/generate.h"
#include "runtime/scorer.h"

namespace ts::test {
namespace {

const std::string kModels = std::string(TS_SOURCE_DIR) + "/models";
const std::string kModel = kModels + "/tokenscope-demo.gguf";

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The "summary" object of score's last JSONL line.
nlohmann::json last_summary(const std::string& out) {
  std::istringstream in(out);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return nlohmann::json::parse(last).at("summary");
}

TEST(DemoModel, score_on_eval_text_reproduces_the_model_card_perplexity_to_4_digits) {
  const std::string card = slurp(kModels + "/MODEL_CARD.md");
  // the card's table row: | perplexity on `models/eval.txt`, as `tokenscope score` reports it | 12.3456 |
  std::smatch m;
  ASSERT_TRUE(std::regex_search(card, m, std::regex(R"(as `tokenscope score` reports it \| \*?\*?([0-9.]+))")))
      << "no perplexity row in MODEL_CARD.md";
  const double card_ppl = std::stod(m[1].str());
  CliResult r = run_cli({"score", "-m", kModel, "-f", kModels + "/eval.txt", "--top", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const double ppl = last_summary(r.out).at("ppl").get<double>();
  // 4 significant digits: within half a unit of the 4th digit of the card's value
  const double unit = std::pow(10.0, std::floor(std::log10(card_ppl)) - 3);
  EXPECT_NEAR(ppl, card_ppl, 0.5 * unit) << "score reports " << ppl << ", the card says " << card_ppl;
}

// Mean −log p of ids[from..) given everything before, as `score` computes it.
double continuation_ppl(const Engine& e, const std::vector<int32_t>& ids, size_t from, ThreadPool& pool) {
  double nll = 0;
  int64_t n = 0;
  ScoreOptions so;
  so.top_k = 0;
  auto s = score_sequence(*e.model, ids, so, pool, [&](const ScoredToken& t) {
    if (static_cast<size_t>(t.pos) >= from) nll -= t.stats.logprob, ++n;
  });
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  return n ? std::exp(nll / static_cast<double>(n)) : 0.0;
}

TEST(DemoModel, greedy_continuation_of_5_prompts_is_less_perplexing_than_the_human_text) {
  auto eng = Engine::load(kModel);
  ASSERT_TRUE(eng.ok()) << eng.error().message;
  const Engine& e = **eng;
  EncodeOptions eo;
  eo.add_special = false;
  const std::vector<int32_t> text = e.tokenizer.encode(slurp(kModels + "/eval.txt"), eo).ids;
  constexpr size_t kPrompt = 32, kCont = 48;
  ASSERT_GT(text.size(), 6 * (kPrompt + kCont));
  ThreadPool pool(2);
  for (int k = 1; k <= 5; ++k) {
    const size_t at = text.size() * static_cast<size_t>(k) / 6;
    std::vector<int32_t> prompt = {e.tokenizer.bos_id()};
    prompt.insert(prompt.end(), text.begin() + at, text.begin() + at + kPrompt);
    std::vector<int32_t> human = prompt;
    human.insert(human.end(), text.begin() + at + kPrompt, text.begin() + at + kPrompt + kCont);
    auto greedy = generate_greedy(*e.model, prompt, kCont, pool);
    ASSERT_TRUE(greedy.ok()) << greedy.error().message;
    ASSERT_EQ(greedy->size(), human.size());
    const double p_greedy = continuation_ppl(e, *greedy, prompt.size(), pool);
    const double p_human = continuation_ppl(e, human, prompt.size(), pool);
    std::printf("prompt %d: perplexity of the greedy continuation %.2f, of the human text %.2f\n", k, p_greedy,
                p_human);
    EXPECT_LT(p_greedy, p_human) << "prompt " << k << ": \"" << e.tokenizer.decode(prompt) << "\" greedy \""
                                 << e.tokenizer.decode({greedy->begin() + kPrompt + 1, greedy->end()}) << "\"";
  }
}

TEST(DemoModel, generate_greedy_stops_at_the_context) {
  auto eng = Engine::load(kModel);
  ASSERT_TRUE(eng.ok()) << eng.error().message;
  const Model& m = *(*eng)->model;
  ThreadPool pool(2);
  const int64_t ctx = m.config().n_ctx_train;
  std::vector<int32_t> prompt(static_cast<size_t>(ctx - 2), (*eng)->tokenizer.bos_id());
  auto out = generate_greedy(m, prompt, 10, pool);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(static_cast<int64_t>(out->size()), ctx);
  EXPECT_FALSE(generate_greedy(m, {}, 3, pool).ok());
}

TEST(DemoModel, view_with_color_always_has_ansi_colours_legend_and_summary) {
  CliResult r = run_cli({"score", "--view", "--color=always", "-m", kModel, "-f", kModels + "/sample.txt"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\x1b[30;48;5;"), std::string::npos);
  EXPECT_NE(r.out.find("surprisal (bits):"), std::string::npos);
  EXPECT_NE(r.out.find("perplexity"), std::string::npos);
  EXPECT_NE(r.out.find("bits per byte"), std::string::npos);
  EXPECT_NE(r.out.find("most surprising tokens:\n  1. "), std::string::npos);
  EXPECT_NE(r.out.find("\n  5. "), std::string::npos);
}

TEST(DemoModel, view_with_color_never_or_piped_auto_is_the_plain_text_and_summary) {
  const std::string sample = slurp(kModels + "/sample.txt");
  for (const char* mode : {"--color=never", "--color=auto"}) {  // run_cli's stdout is a file: auto means plain
    CliResult r = run_cli({"score", "--view", mode, "-m", kModel, "-f", kModels + "/sample.txt"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << mode;
    EXPECT_NE(r.out.find(sample), std::string::npos) << mode << ": the text is not shown unchanged";
    EXPECT_NE(r.out.find("perplexity"), std::string::npos) << mode;
  }
}

TEST(DemoModel, view_summary_matches_the_jsonl_summary) {
  CliResult v = run_cli({"score", "--view", "--color=never", "-m", kModel, "-f", kModels + "/sample.txt"});
  CliResult j = run_cli({"score", "-m", kModel, "-f", kModels + "/sample.txt", "--top", "0"});
  ASSERT_EQ(v.exit_code, 0) << v.err;
  ASSERT_EQ(j.exit_code, 0) << j.err;
  const nlohmann::json s = last_summary(j.out);
  char want[128];
  std::snprintf(want, sizeof want, "tokens %lld   perplexity %.3f", static_cast<long long>(s.at("tokens").get<int64_t>()),
                s.at("ppl").get<double>());
  EXPECT_NE(v.out.find(want), std::string::npos) << want << "\n" << v.out;
}

// A dump as training/train.py writes it, for a tiny model: byte vocabulary plus one merge and the special token.
void write_dump(const std::string& dir, int64_t embd, int64_t rows_of_q) {
  const int64_t vocab = 258, ff = 64, heads = 2, hd = embd / heads;
  nlohmann::json tok = {{"tokens", nlohmann::json::array()}, {"token_types", nlohmann::json::array()},
                        {"merges", {"a b"}}};
  int extra = 0;
  for (int b = 0; b < 256; ++b) {  // GPT-2's byte-to-unicode table
    const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    const uint32_t cp = printable ? uint32_t(b) : uint32_t(256 + extra++);
    std::string s;
    if (cp < 0x80) s += static_cast<char>(cp);
    else s += static_cast<char>(0xC0 | (cp >> 6)), s += static_cast<char>(0x80 | (cp & 0x3F));
    tok["tokens"].push_back(s);
    tok["token_types"].push_back(1);
  }
  tok["tokens"].push_back("ab");
  tok["token_types"].push_back(1);
  tok["tokens"].push_back("<|endoftext|>");
  tok["token_types"].push_back(3);
  write_file(dir + "/tokenizer.json", tok.dump());
  nlohmann::json cfg = {{"arch", "llama"}, {"name", "tiny test"}, {"n_vocab", vocab}, {"n_embd", embd},
                        {"n_layer", 1},    {"n_head", heads},       {"n_head_kv", 1},    {"head_dim", hd},
                        {"n_ff", ff},      {"n_ctx", 64},           {"rms_eps", 1e-5},   {"rope_base", 10000.0},
                        {"tied", true},    {"bos_token_id", 257},   {"eos_token_id", 257}, {"add_bos_token", true}};
  write_file(dir + "/config.json", cfg.dump());
  const std::vector<std::tuple<std::string, int64_t, int64_t>> shapes = {
      {"token_embd.weight", vocab, embd},        {"blk.0.attn_norm.weight", 1, embd},
      {"blk.0.attn_q.weight", rows_of_q, embd},  {"blk.0.attn_k.weight", hd, embd},
      {"blk.0.attn_v.weight", hd, embd},         {"blk.0.attn_output.weight", embd, embd},
      {"blk.0.ffn_norm.weight", 1, embd},        {"blk.0.ffn_gate.weight", ff, embd},
      {"blk.0.ffn_down.weight", embd, ff},       {"blk.0.ffn_up.weight", ff, embd},
      {"output_norm.weight", 1, embd}};
  nlohmann::json index = nlohmann::json::array();
  std::string bin;
  for (const auto& [name, rows, cols] : shapes) {
    index.push_back({{"name", name}, {"rows", rows}, {"cols", cols}, {"offset", bin.size()}});
    for (int64_t i = 0; i < rows * cols; ++i) {
      const float v = rows == 1 ? 1.0f : 0.02f * static_cast<float>((i * 7919) % 13 - 6);
      bin.append(reinterpret_cast<const char*>(&v), sizeof v);
    }
  }
  write_file(dir + "/tensors.json", index.dump());
  write_file(dir + "/weights.bin", bin);
}

TEST(Convert, falls_back_to_q8_0_for_rows_shorter_than_a_k_block_and_scores) {
  const std::string dir = temp_dir();
  write_dump(dir, 64, 64);  // rows of 64: not a multiple of Q4_K's 256, a multiple of Q8_0's 32
  CliResult c = run_cli({"convert", dir, "-o", dir + "/m.gguf", "--type", "Q4_K"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  CliResult i = run_cli({"info", "-m", dir + "/m.gguf", "--tensors"});
  ASSERT_EQ(i.exit_code, 0) << i.err;
  EXPECT_NE(i.out.find("Q8_0"), std::string::npos) << i.out;
  EXPECT_NE(i.out.find("gpt2"), std::string::npos) << i.out;
  CliResult s = run_cli({"score", "-m", dir + "/m.gguf", "-p", "ab ab", "--top", "0"});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(last_summary(s.out).at("tokens").get<int64_t>(), 3);  // "ab", " ", "ab" after BOS
}

TEST(Convert, rejects_a_tensor_of_the_wrong_shape_naming_it) {
  const std::string dir = temp_dir();
  write_dump(dir, 64, 32);  // attn_q has 32 rows where n_head * head_dim = 64
  CliResult c = run_cli({"convert", dir, "-o", dir + "/m.gguf"});
  EXPECT_EQ(c.exit_code, 2);
  EXPECT_NE(c.err.find("blk.0.attn_q.weight"), std::string::npos) << c.err;
}

}  // namespace
}  // namespace ts::test
