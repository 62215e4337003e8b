// tokenscope generate / quantize from the command line: JSONL records, agreement with `score`, speculative runs,
// seeds, and one-line errors for bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_run.h"

namespace ts::test {
namespace {

const std::string kDemo = std::string(TS_SOURCE_DIR) + "/models/tokenscope-demo.gguf";

std::vector<nlohmann::json> lines(const std::string& out) {
  std::vector<nlohmann::json> v;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) v.push_back(nlohmann::json::parse(line));
  return v;
}

int count_lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

class GenerateCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kDemo)) GTEST_SKIP() << "no bundled demo model at " << kDemo;
    dir_ = temp_dir();
  }
  std::string dir_;
};

TEST_F(GenerateCli, JsonlRecordsAreValidAndTheRawLogprobEqualsScore) {
  for (const char* prompt : {"And it came to pass", "The Lord is my shepherd;", "hacker: n."}) {
    CliResult g = run_cli({"generate", "-m", kDemo, "-p", prompt, "-n", "24", "--seed", "5", "--format", "jsonl",
                           "--top", "3", "--ignore-eos", "-t", "1"});
    ASSERT_EQ(g.exit_code, 0) << g.err;
    auto recs = lines(g.out);
    ASSERT_EQ(recs.size(), 25u);
    const auto& sum = recs.back()["summary"];
    EXPECT_EQ(sum["tokens"], 24);
    EXPECT_EQ(sum["seed"], 5);
    EXPECT_EQ(sum["samplers"], "top_k=40;top_p=0.95;min_p=0.05;temp=0.8;dist");
    CliResult t = run_cli({"tokenize", "-m", kDemo, "-p", prompt});
    ASSERT_EQ(t.exit_code, 0) << t.err;
    std::vector<int32_t> ids;
    std::istringstream ts(t.out);
    for (int32_t id; ts >> id;) ids.push_back(id);
    const size_t n_prompt = ids.size();
    ASSERT_EQ(static_cast<int64_t>(n_prompt), sum["prompt_tokens"].get<int64_t>());
    for (size_t i = 0; i + 1 < recs.size(); ++i) {
      const auto& r = recs[i];
      EXPECT_EQ(r["i"], i);
      EXPECT_LE(r["p_logprob"].get<double>(), 0.0);
      EXPECT_GE(r["p_logprob"].get<double>(), std::log(1e-7));  // drawn from the processed set
      EXPECT_LE(r["kept"].get<int64_t>(), 40);                   // top_k=40
      EXPECT_EQ(r["top"].size(), 3u);
      EXPECT_EQ(r["changed"].get<bool>(), r["top"][0]["id"] != r["id"]);
      ids.push_back(r["id"].get<int32_t>());
    }
    write_file(dir_ + "/ids.jsonl", nlohmann::json{{"ids", ids}}.dump() + "\n");
    CliResult s = run_cli({"score", "-m", kDemo, "--jsonl", dir_ + "/ids.jsonl", "--top", "0", "-t", "1"});
    ASSERT_EQ(s.exit_code, 0) << s.err;
    auto scored = lines(s.out);
    ASSERT_EQ(scored.size(), ids.size());  // positions 1..n-1 and a summary
    for (size_t i = 0; i + 1 < recs.size(); ++i) {
      const auto& sc = scored[n_prompt - 1 + i];
      ASSERT_EQ(sc["pos"], n_prompt + i);
      EXPECT_EQ(sc["id"], recs[i]["id"]);
      EXPECT_NEAR(sc["logprob"].get<double>(), recs[i]["logprob"].get<double>(), 2e-5) << prompt << " token " << i;
      EXPECT_EQ(sc["rank"], recs[i]["rank"]);
      EXPECT_NEAR(sc["entropy"].get<double>(), recs[i]["entropy"].get<double>(), 2e-5);
    }
  }
}

TEST_F(GenerateCli, SameSeedSameTextAndSpeculativeSummariesReportAcceptance) {
  const std::vector<std::string> base = {"generate", "-m", kDemo, "-p", "And it came to pass", "-n", "40",
                                         "--seed", "9", "--ignore-eos", "-t", "1"};
  CliResult a = run_cli(base), b = run_cli(base);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
  EXPECT_NE(a.err.find("seed 9"), std::string::npos) << a.err;
  CliResult q = run_cli({"quantize", kDemo, "-o", dir_ + "/draft.gguf", "--type", "Q4_0"});
  ASSERT_EQ(q.exit_code, 0) << q.err;
  auto spec = base;
  spec.insert(spec.end(), {"--draft", dir_ + "/draft.gguf", "--greedy-draft", "--format", "jsonl"});
  CliResult s = run_cli(spec);
  ASSERT_EQ(s.exit_code, 0) << s.err;
  auto recs = lines(s.out);
  const auto& sum = recs.back()["summary"];
  EXPECT_EQ(sum["drafter"], "model");
  EXPECT_GT(sum["drafted"].get<int64_t>(), 0);
  EXPECT_GE(sum["drafted"].get<int64_t>(), sum["accepted"].get<int64_t>());
  int64_t accepted = 0;
  std::string text;
  for (size_t i = 0; i + 1 < recs.size(); ++i) {
    accepted += recs[i]["accepted"].get<bool>();
    text += recs[i]["text"].get<std::string>();
  }
  EXPECT_EQ(accepted, sum["accepted"].get<int64_t>());
  EXPECT_EQ(text + "\n", a.out);  // deterministic drafts replay plain sampling with the same seed
}

TEST_F(GenerateCli, BadInputIsExitTwoWithOneLine) {
  const std::vector<std::vector<std::string>> cases = {
      {"generate", "-m", kDemo, "-p", "x", "--samplers", "top_p=1.5"},
      {"generate", "-m", kDemo, "-p", "x", "--samplers", "nonsense=1"},
      {"generate", "-m", kDemo},
      {"generate", "-m", kDemo, "-p", "x", "--spec", "tree"},
      {"generate", "-m", kDemo, "-p", "x", "--draft", "/nonexistent/draft.gguf"},
      {"quantize", kDemo, "-o", dir_ + "/x.gguf", "--type", "Q9_9"},
  };
  for (const auto& args : cases) {
    CliResult r = run_cli(args);
    EXPECT_EQ(r.exit_code, 2) << args.back() << ": " << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
  }
}

TEST_F(GenerateCli, DraftWithAnotherVocabularyIsRefused) {
  CliResult m = run_cli({"make-model", "-o", dir_ + "/other.gguf", "--shape", "custom", "--embd", "64", "--layers",
                         "1", "--heads", "4", "--kv-heads", "2", "--ffn", "128", "--vocab", "300", "--ctx", "128"});
  ASSERT_EQ(m.exit_code, 0) << m.err;
  CliResult r = run_cli({"generate", "-m", kDemo, "-p", "x", "--draft", dir_ + "/other.gguf"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("vocabulary"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("other.gguf"), std::string::npos) << r.err;
}

TEST_F(GenerateCli, DecodersAndTreeSpeculationRunAndReportTheirFields) {
  CliResult q = run_cli({"quantize", kDemo, "-o", dir_ + "/small.gguf", "--type", "Q4_0"});
  ASSERT_EQ(q.exit_code, 0) << q.err;
  struct Case {
    std::vector<std::string> args;
    const char* token_field;    // a field every token record must have ("" for none)
    const char* summary_field;  // a field the summary must have
  };
  const std::vector<Case> cases = {
      {{"--decoder", "entropix"}, "state", "states"},
      {{"--decoder", "cntp"}, "", "rollouts"},
      {{"--decoder", "ead", "--small", dir_ + "/small.gguf", "--ead-threshold", "7"}, "model", "large_fraction"},
      {{"--spec", "tree", "--draft", dir_ + "/small.gguf"}, "accepted", "tokens_per_pass"},
      {{"--spec", "recycle"}, "accepted", "tokens_per_pass"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {"generate", "-m", kDemo, "-p", "And it came to pass", "-n", "16", "--seed",
                                     "4", "--ignore-eos", "-t", "1", "--format", "jsonl"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    CliResult r = run_cli(args);
    ASSERT_EQ(r.exit_code, 0) << c.args[1] << ": " << r.err;
    auto recs = lines(r.out);
    ASSERT_EQ(recs.size(), 17u) << c.args[1];
    EXPECT_TRUE(recs.back()["summary"].contains(c.summary_field)) << c.args[1] << ": " << recs.back().dump();
    for (size_t i = 0; i + 1 < recs.size(); ++i) {
      if (*c.token_field) {
        EXPECT_TRUE(recs[i].contains(c.token_field)) << c.args[1] << " token " << i;
      }
    }
  }
  // a decoder with a speculative option, EAD without a small model, tree speculation without a draft: bad input
  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"--decoder", "entropix", "--spec", "ngram"}, {"--decoder", "ead"}, {"--spec", "tree"}}) {
    std::vector<std::string> args = {"generate", "-m", kDemo, "-p", "x"};
    args.insert(args.end(), bad.begin(), bad.end());
    CliResult r = run_cli(args);
    EXPECT_EQ(r.exit_code, 2) << bad[1] << ": " << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
  }
}

TEST_F(GenerateCli, ViewMarksTheContinuation) {
  CliResult r = run_cli({"generate", "-m", kDemo, "-p", "And it came to pass", "-n", "20", "--seed", "3", "--view",
                         "--color=always", "--ignore-eos"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("And it came to pass", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("\x1b[30;48;5;"), std::string::npos);
  EXPECT_NE(r.out.find("tokens 20"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace ts::test
