// The CLI's contract: exit codes, one-line errors naming the file, and score's JSONL output.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_run.h"
#include "fixtures.h"

namespace ts::test {
namespace {

std::vector<nlohmann::json> json_lines(const std::string& out) {
  std::vector<nlohmann::json> v;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) v.push_back(nlohmann::json::parse(line));
  return v;
}

int count_lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

TEST(Cli, HelpForEveryCommand) {
  for (const char* cmd : {"info", "tokenize", "score", "generate"}) {
    CliResult r = run_cli({cmd, "--help"});
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_NE(r.out.find("--model"), std::string::npos) << cmd;
  }
}

TEST(Cli, MissingFileIsExitTwoWithOneLineNamingIt) {
  CliResult r = run_cli({"info", "-m", "/nonexistent/model.gguf"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("/nonexistent/model.gguf"), std::string::npos) << r.err;
}

TEST(Cli, GarbageFileIsExitTwo) {
  const std::string dir = temp_dir();
  write_file(dir + "/bad.gguf", "GGUF\x03\x00\x00\x00garbage");
  for (const char* cmd : {"info", "score"}) {
    std::vector<std::string> args = {cmd, "-m", dir + "/bad.gguf"};
    if (std::string(cmd) == "score") args.insert(args.end(), {"-p", "hello"});
    CliResult r = run_cli(args);
    EXPECT_EQ(r.exit_code, 2) << cmd << ": " << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find("bad.gguf"), std::string::npos) << r.err;
  }
}

TEST(Cli, WithoutModelEveryCommandUsesTheDemoModelAndSaysSo) {
  const std::string demo = std::string(TS_SOURCE_DIR) + "/models/tokenscope-demo.gguf";
  if (!std::ifstream(demo)) GTEST_SKIP() << "no bundled demo model at " << demo;
  ScopedEnv models("TOKENSCOPE_MODELS", temp_dir());  // no fetched real model here
  for (std::vector<std::string> args : {std::vector<std::string>{"info"}, {"tokenize", "-p", "Hello"},
                                        {"score", "-p", "Hello there", "--top", "0"}}) {
    CliResult r = run_cli(args);
    EXPECT_EQ(r.exit_code, 0) << args[0] << ": " << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find("bundled demo model"), std::string::npos) << r.err;
    EXPECT_FALSE(r.out.empty());
  }
}

TEST(Cli, KnownModelNamesResolveInTheModelCacheAndTheRealModelBecomesTheDefault) {
  const std::string demo = std::string(TS_SOURCE_DIR) + "/models/tokenscope-demo.gguf";
  if (!std::ifstream(demo)) GTEST_SKIP() << "no bundled demo model at " << demo;
  const std::string dir = temp_dir();
  ScopedEnv models("TOKENSCOPE_MODELS", dir);
  CliResult missing = run_cli({"info", "-m", "smollm2-135m"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(count_lines(missing.err), 1) << missing.err;
  EXPECT_NE(missing.err.find("scripts/fetch-models.sh"), std::string::npos) << missing.err;
  // A file under the real model's name in the cache (here a copy of the demo model) is found by name and is the
  // default when -m is left out; `-m demo` still names the bundled one.
  std::filesystem::copy_file(demo, dir + "/SmolLM2-135M-Instruct.Q4_1.gguf");
  CliResult named = run_cli({"info", "-m", "smollm2-135m"});
  EXPECT_EQ(named.exit_code, 0) << named.err;
  CliResult dflt = run_cli({"tokenize", "-p", "Hello"});
  EXPECT_EQ(dflt.exit_code, 0) << dflt.err;
  EXPECT_NE(dflt.err.find("using smollm2-135m"), std::string::npos) << dflt.err;
  CliResult bundled = run_cli({"info", "-m", "demo"});
  EXPECT_EQ(bundled.exit_code, 0) << bundled.err;
  EXPECT_TRUE(bundled.err.empty()) << bundled.err;
}

TEST(Cli, EmptyPromptScoresNothingAndStillSummarises) {
  TS_REQUIRE_FIXTURE(model, "models/tiny-llama-spm-Q8_0.gguf");
  CliResult r = run_cli({"score", "-m", model, "-p", ""});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["summary"]["tokens"], 0);
  CliResult none = run_cli({"score", "-m", model});
  EXPECT_EQ(none.exit_code, 2);
}

TEST(Cli, UnknownOptionIsExitTwo) {
  CliResult r = run_cli({"score", "--no-such-option"});
  EXPECT_EQ(r.exit_code, 2);
}

TEST(Cli, ScoreJsonlIdsAreScoredAsGivenWithFieldsCarried) {
  TS_REQUIRE_FIXTURE(model, "models/tiny-llama-spm-Q8_0.gguf");
  const std::string dir = temp_dir();
  write_file(dir + "/docs.jsonl",
             "{\"ids\": [1, 450, 3186, 310], \"label\": \"human\", \"key\": 7}\n\n{\"text\": \"Hello world\"}\n");
  CliResult r = run_cli({"score", "-m", model, "--jsonl", dir + "/docs.jsonl", "--top", "2", "-t", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = json_lines(r.out);
  // doc 0: 3 tokens + summary; doc 1: BOS + tokens of "Hello world", then summary
  ASSERT_GE(lines.size(), 6u);
  EXPECT_EQ(lines[0]["doc"], 0);
  EXPECT_EQ(lines[0]["pos"], 1);
  EXPECT_EQ(lines[0]["id"], 450);
  EXPECT_EQ(lines[0]["top"].size(), 2u);
  EXPECT_LE(lines[0]["logprob"].get<double>(), 0.0);
  EXPECT_GE(lines[0]["rank"].get<int>(), 1);
  EXPECT_EQ(lines[2]["id"], 310);
  const auto& s = lines[3]["summary"];
  EXPECT_EQ(s["tokens"], 3);
  EXPECT_EQ(s["label"], "human");
  EXPECT_EQ(s["key"], 7);
  const double nll = -(lines[0]["logprob"].get<double>() + lines[1]["logprob"].get<double>() +
                       lines[2]["logprob"].get<double>()) / 3;
  EXPECT_NEAR(s["nll"].get<double>(), nll, 1e-5);
  EXPECT_NEAR(s["ppl"].get<double>(), std::exp(nll), 1e-3 * std::exp(nll));
  EXPECT_EQ(lines.back()["doc"], 1);
  EXPECT_TRUE(lines.back().contains("summary"));
}

TEST(Cli, ScoreTextOffsetsPointIntoTheInput) {
  TS_REQUIRE_FIXTURE(model, "models/tiny-llama-spm-Q8_0.gguf");
  const std::string text = "The quick brown fox jumps over the lazy dog.";
  CliResult r = run_cli({"score", "-m", model, "-p", text, "--top", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = json_lines(r.out);
  ASSERT_GE(lines.size(), 3u);
  size_t prev = 0;
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    const size_t off = lines[i]["offset"].get<size_t>();
    EXPECT_LE(off, text.size());
    EXPECT_GE(off, prev);
    prev = off;
    EXPECT_FALSE(lines[i].contains("top"));
  }
  const auto& s = lines.back()["summary"];
  EXPECT_EQ(s["bytes"], text.size());
  EXPECT_NEAR(s["bits_per_byte"].get<double>(),
              s["nll_sum"].get<double>() / std::log(2.0) / static_cast<double>(text.size()), 1e-5);
}

TEST(Cli, ScoreTsvHasHeaderAndOneRowPerToken) {
  TS_REQUIRE_FIXTURE(model, "models/tiny-llama-spm-Q8_0.gguf");
  CliResult r = run_cli({"score", "-m", model, "-p", "Hello\tworld\n", "--format", "tsv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream in(r.out);
  std::string header;
  std::getline(in, header);
  EXPECT_EQ(header, "doc\tpos\tid\ttoken\toffset\tlogprob\trank\tentropy");
  std::string row;
  int rows = 0;
  while (std::getline(in, row)) {
    int tabs = 0;
    for (char c : row) tabs += c == '\t';
    EXPECT_EQ(tabs, 7) << row;
    ++rows;
  }
  EXPECT_GE(rows, 3);
  EXPECT_NE(r.err.find("ppl"), std::string::npos);
}

TEST(Cli, BadJsonlLineNamesFileAndLine) {
  TS_REQUIRE_FIXTURE(model, "models/tiny-llama-spm-Q8_0.gguf");
  const std::string dir = temp_dir();
  write_file(dir + "/d.jsonl", "{\"ids\": [1, 2]}\n{\"ids\": [1, 99999999]}\n");
  CliResult r = run_cli({"score", "-m", model, "--jsonl", dir + "/d.jsonl"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("d.jsonl:2"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("99999999"), std::string::npos) << r.err;
}

TEST(Cli, TokenizeNoSpecialGivesPlainIds) {
  TS_REQUIRE_FIXTURE(vocab, "tokenizer/ggml-vocab-llama-spm.gguf");
  CliResult a = run_cli({"tokenize", "-m", vocab, "-p", "Hello world"});
  CliResult b = run_cli({"tokenize", "-m", vocab, "-p", "Hello world", "--no-special"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_EQ(a.out.rfind("1 ", 0), 0u) << "BOS first: " << a.out;
  EXPECT_EQ(a.out.substr(2), b.out);
}

}  // namespace
}  // namespace ts::test
