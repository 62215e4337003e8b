// The analysis subcommands end to end (analyze, compare, detect, mia, freq, eval): help, exit codes and one-line
// errors, the vocabulary check, input fields carried through, and eval's metrics on a hand-made scores file.
// All runs use the bundled demo model on short texts with one thread.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_run.h"

namespace ts::test {
namespace {

using Json = nlohmann::json;
using Args = std::vector<std::string>;

const std::string kDemo = std::string(TS_SOURCE_DIR) + "/models/tokenscope-demo.gguf";
const std::string kText = "And God said, Let there be light: and there was light. And God saw the light, that it was good.";

std::vector<Json> json_lines(const std::string& out) {
  std::vector<Json> v;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) v.push_back(Json::parse(line, nullptr, false));
  return v;
}

int count_lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

class AnalysisCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::ifstream(kDemo)) GTEST_SKIP() << "no bundled demo model at " << kDemo;
    dir_ = temp_dir();
  }
  CliResult run(Args a) {
    a.push_back("-t");
    a.push_back("1");
    return run_cli(a);
  }
  // A random llama model from make-model with a synthetic SentencePiece vocabulary of `vocab` tokens.
  std::string make_model(const std::string& name, int vocab) {
    const std::string path = dir_ + "/" + name;
    const auto r = run_cli({"make-model", "-o", path, "--shape", "custom", "--embd", "32", "--layers", "1", "--heads",
                            "2", "--kv-heads", "1", "--ffn", "64", "--vocab", std::to_string(vocab), "--ctx", "64",
                            "--type", "F16"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return path;
  }
  std::string write(const std::string& name, const std::string& content) {
    const std::string path = dir_ + "/" + name;
    write_file(path, content);
    return path;
  }
  std::string dir_;
};

TEST(AnalysisCliHelp, EveryAnalysisCommandHasHelpNamingItsOptions) {
  const std::vector<std::pair<std::string, std::string>> cmds = {
      {"analyze", "--window"},      {"compare", "--context"}, {"detect", "--sampler-model"},
      {"mia", "--ref-freq"},        {"freq", "--output"},     {"eval", "--label-field"}};
  for (const auto& [cmd, opt] : cmds) {
    const CliResult r = run_cli({cmd, "--help"});
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_NE(r.out.find(opt), std::string::npos) << cmd << ":\n" << r.out;
  }
}

TEST_F(AnalysisCli, AnalyzeMatchesScoreAndSummarizesTheDocument) {
  const CliResult a = run({"analyze", "-m", kDemo, "-p", kText, "--window", "4"});
  const CliResult s = run({"score", "-m", kDemo, "-p", kText, "--top", "0"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(s.exit_code, 0) << s.err;
  const auto al = json_lines(a.out), sl = json_lines(s.out);
  ASSERT_EQ(al.size(), sl.size());
  int64_t forks = 0;
  for (size_t i = 0; i + 1 < al.size(); ++i) {
    EXPECT_EQ(al[i]["pos"], sl[i]["pos"]);
    EXPECT_EQ(al[i]["logprob"], sl[i]["logprob"]);
    EXPECT_EQ(al[i]["entropy"], sl[i]["entropy"]);
    const double typ = std::fabs(al[i]["logprob"].get<double>() + al[i]["entropy"].get<double>());
    EXPECT_NEAR(al[i]["typicality"].get<double>(), typ, 2e-6);
    EXPECT_GE(al[i]["margin"].get<double>(), 0.0);
    EXPECT_LE(al[i]["margin"].get<double>(), al[i]["max_prob"].get<double>());
    forks += al[i]["forking"].get<bool>();
  }
  const Json& sum = al.back()["summary"];
  EXPECT_EQ(sum["tokens"], sl.back()["summary"]["tokens"]);
  EXPECT_EQ(sum["ppl"], sl.back()["summary"]["ppl"]);
  EXPECT_EQ(sum["forking_tokens"].get<int64_t>(), forks);
  EXPECT_GE(forks, 1);
  ASSERT_EQ(sum["chow_quantiles"].size(), 11u);
  EXPECT_LE(sum["chow_quantiles"][0].get<double>(), sum["chow_quantiles"][10].get<double>());
  const Json& span = sum["highest_entropy_span"];
  EXPECT_EQ(span["pos"][1].get<int64_t>() - span["pos"][0].get<int64_t>(), 4);
  EXPECT_NE(kText.find(span["text"].get<std::string>()), std::string::npos) << span;
  EXPECT_LE(span["mean_entropy"].get<double>(), sum["max_entropy"].get<double>());
}

TEST_F(AnalysisCli, AnalyzeTsvHasAHeaderAndOneRowPerToken) {
  const CliResult t = run({"analyze", "-m", kDemo, "-p", kText, "--format", "tsv"});
  const CliResult j = run({"analyze", "-m", kDemo, "-p", kText, "--summary-only"});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  ASSERT_EQ(j.exit_code, 0) << j.err;
  EXPECT_EQ(t.out.rfind("doc\tpos\tid\ttoken\toffset\tlogprob\trank\tentropy\tvarentropy", 0), 0u) << t.out;
  const auto summary = json_lines(j.out);
  ASSERT_EQ(summary.size(), 1u);  // --summary-only
  EXPECT_EQ(count_lines(t.out), summary[0]["summary"]["tokens"].get<int>() + 1);
  EXPECT_NE(t.err.find("doc 0: tokens"), std::string::npos) << t.err;
}

TEST_F(AnalysisCli, BadInputExitsTwoWithOneLine) {
  const std::string docs = write("d.jsonl", "{\"text\": \"a\"}\n");
  const std::vector<Args> bad = {
      {"analyze", "-m", kDemo},                                           // no document
      {"analyze", "-m", kDemo, "-p", "x", "--jsonl", docs},               // two sources
      {"analyze", "-m", kDemo, "-p", "x", "--window", "0"},               // out of range
      {"detect", "-m", kDemo, "--jsonl", docs, "--method", "bogus"},      // unknown method
      {"mia", "-m", kDemo, "--jsonl", docs, "--method", "dc_pdd"},        // DC-PDD without a table
      {"mia", "-m", kDemo, "--jsonl", docs, "--ref-freq", dir_ + "/none"},  // missing table
      {"detect", "-m", kDemo, "--jsonl", write("bad.jsonl", "{\"txt\": 1}\n")},  // no text field
      {"compare", "-m", kDemo, "-p", "x"},                                // one model, no context
      {"eval", dir_ + "/missing.jsonl"},
  };
  for (const Args& a : bad) {
    const CliResult r = run(a);
    std::string cmd;
    for (const auto& x : a) cmd += x + " ";
    EXPECT_EQ(r.exit_code, 2) << cmd << "\n" << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << cmd << "\n" << r.err;
  }
  const CliResult r = run({"detect", "-m", kDemo, "--jsonl", docs, "--method", "lrr,bogus"});
  EXPECT_NE(r.err.find("'bogus'"), std::string::npos) << r.err;
  const CliResult f = run({"detect", "-m", kDemo, "--jsonl", write("bad2.jsonl", "\n{\"txt\": 1}\n")});
  EXPECT_NE(f.err.find("bad2.jsonl:2"), std::string::npos) << f.err;  // file and line
}

TEST_F(AnalysisCli, ModelsWithDifferentVocabulariesAreRefusedNamingBothFiles) {
  const std::string small = make_model("v300.gguf", 300);   // another size
  const std::string same = make_model("v8192.gguf", 8192);  // the demo's size, other token texts
  ASSERT_FALSE(small.empty() || same.empty());
  const CliResult a = run({"compare", "-m", kDemo, "-m", small, "-p", kText});
  EXPECT_EQ(a.exit_code, 2);
  EXPECT_EQ(count_lines(a.err), 1) << a.err;
  EXPECT_NE(a.err.find(kDemo), std::string::npos) << a.err;
  EXPECT_NE(a.err.find(small), std::string::npos) << a.err;
  EXPECT_NE(a.err.find("8192 tokens"), std::string::npos) << a.err;
  EXPECT_NE(a.err.find("300 tokens"), std::string::npos) << a.err;

  const CliResult b = run({"compare", "-m", kDemo, "-m", same, "-p", kText});
  EXPECT_EQ(b.exit_code, 2);
  EXPECT_NE(b.err.find(same), std::string::npos) << b.err;
  EXPECT_NE(b.err.find("token "), std::string::npos) << b.err;  // the first differing id

  const std::string docs = write("d.jsonl", "{\"text\": \"And God said\"}\n");
  for (const char* role : {"--sampler-model", "--observer", "--performer"}) {
    const CliResult d = run({"detect", "-m", kDemo, role, small, "--jsonl", docs});
    EXPECT_EQ(d.exit_code, 2) << role;
    EXPECT_NE(d.err.find("do not share a vocabulary"), std::string::npos) << role << ": " << d.err;
  }
}

TEST_F(AnalysisCli, CompareOfAModelWithItsCopyHasNoDivergence) {
  const std::string copy = dir_ + "/copy.gguf";
  std::filesystem::copy_file(kDemo, copy);
  const CliResult r = run({"compare", "-m", kDemo, "-m", copy, "-p", kText});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto ls = json_lines(r.out);
  ASSERT_GE(ls.size(), 2u);
  for (size_t i = 0; i + 1 < ls.size(); ++i) {
    EXPECT_EQ(ls[i]["logprob_a"], ls[i]["logprob_b"]);
    EXPECT_EQ(ls[i]["kl_ab"].get<double>(), 0.0);
    EXPECT_TRUE(ls[i]["top1_agree"].get<bool>());
  }
  EXPECT_EQ(ls.back()["summary"]["top1_agreement"].get<double>(), 1.0);
  EXPECT_EQ(ls.back()["summary"]["mean_logprob_diff"].get<double>(), 0.0);
}

TEST_F(AnalysisCli, CompareWithContextGivesShiftsPerAnswerToken) {
  const std::string ctx = write("ctx.txt", "In the beginning God created the heaven and the earth.\n");
  const CliResult r = run({"compare", "-m", kDemo, "--context", ctx, "-p", "And the earth was without form."});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto ls = json_lines(r.out);
  ASSERT_GE(ls.size(), 3u);
  EXPECT_EQ(ls[0]["pos"].get<int>(), 0);  // the first answer token, predicted from BOS alone without context
  int64_t conflicts = 0;
  for (size_t i = 0; i + 1 < ls.size(); ++i) {
    const Json& t = ls[i];
    EXPECT_NEAR(t["logprob_shift"].get<double>(), t["logprob_ctx"].get<double>() - t["logprob_plain"].get<double>(),
                2e-6);
    EXPECT_NEAR(t["entropy_shift"].get<double>(), t["entropy_plain"].get<double>() - t["entropy_ctx"].get<double>(),
                2e-6);
    EXPECT_EQ(t["conflict"].get<bool>(), t["entropy_shift"].get<double>() < 0);
    conflicts += t["conflict"].get<bool>();
  }
  const Json& s = ls.back()["summary"];
  EXPECT_EQ(s["tokens"].get<size_t>(), ls.size() - 1);
  EXPECT_EQ(s["conflict_tokens"].get<int64_t>(), conflicts);
  EXPECT_GT(s["context_tokens"].get<int>(), 5);

  // per-document context from a JSONL field, not carried into the output
  const std::string docs = write("c.jsonl", "{\"text\": \"And the earth\", \"context\": \"Genesis 1\", \"id\": 7}\n");
  const CliResult j = run({"compare", "-m", kDemo, "--jsonl", docs});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  const Json last = json_lines(j.out).back()["summary"];
  EXPECT_EQ(last["id"], 7);
  EXPECT_FALSE(last.contains("context"));
}

TEST_F(AnalysisCli, DetectCarriesInputFieldsAndComputesTheChosenMethods) {
  const std::string docs = write(
      "d.jsonl", "{\"text\": \"" + kText + "\", \"label\": 1, \"source\": \"kjv\", \"meta\": {\"k\": [1, 2]}}\n"
                 "\n"
                 "{\"ids\": [1, 2, 3, 4, 5, 6], \"label\": 0}\n");
  const CliResult r = run({"detect", "-m", kDemo, "--jsonl", docs, "--method", "all", "--terms"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto ls = json_lines(r.out);
  ASSERT_EQ(ls.size(), 2u);
  EXPECT_EQ(ls[0]["doc"], 0);
  EXPECT_EQ(ls[0]["label"], 1);
  EXPECT_EQ(ls[0]["source"], "kjv");
  EXPECT_EQ(ls[0]["meta"]["k"][1], 2);
  EXPECT_FALSE(ls[0].contains("text"));
  EXPECT_FALSE(ls[1].contains("ids"));
  EXPECT_EQ(ls[1]["tokens"], 5);  // ids as given: six ids, five predictions
  for (const char* k : {"log_likelihood", "log_rank", "lrr", "neg_entropy", "fast_detectgpt", "binoculars"})
    EXPECT_TRUE(ls[0][k].is_number()) << k << ": " << ls[0];
  // white-box Fast-DetectGPT from its terms; one-model Binoculars is NLL / mean entropy
  const Json& t = ls[0]["terms"]["fast_detectgpt"];
  EXPECT_NEAR(ls[0]["fast_detectgpt"].get<double>(),
              (t["log_likelihood_sum"].get<double>() - t["mean_sum"].get<double>()) /
                  std::sqrt(t["variance_sum"].get<double>()),
              1e-6);
  EXPECT_NEAR(ls[0]["binoculars"].get<double>(),
              -ls[0]["log_likelihood"].get<double>() / -ls[0]["neg_entropy"].get<double>(), 1e-8);

  const CliResult some = run({"detect", "-m", kDemo, "--jsonl", docs, "--method", "lrr,fast_detectgpt"});
  ASSERT_EQ(some.exit_code, 0) << some.err;
  const Json one = json_lines(some.out)[0];
  EXPECT_TRUE(one.contains("lrr") && one.contains("fast_detectgpt"));
  EXPECT_FALSE(one.contains("log_likelihood") || one.contains("binoculars") || one.contains("terms"));
  EXPECT_EQ(one["fast_detectgpt"], ls[0]["fast_detectgpt"]);
}

TEST_F(AnalysisCli, MiaUsesAFrequencyTableFromFreqOfTheSameVocabulary) {
  const std::string corpus = write("corpus.jsonl", "{\"text\": \"" + kText + "\"}\n{\"text\": \"And the earth\"}\n");
  const std::string freq = dir_ + "/freq.bin";
  const CliResult f = run({"freq", "-m", kDemo, "--jsonl", corpus, "-o", freq});
  ASSERT_EQ(f.exit_code, 0) << f.err;
  EXPECT_NE(f.err.find("2 documents"), std::string::npos) << f.err;
  EXPECT_EQ(std::filesystem::file_size(freq), 40u + 8u * 8192u);

  const std::string docs = write("d.jsonl", "{\"text\": \"" + kText + "\", \"member\": true}\n");
  const CliResult m = run({"mia", "-m", kDemo, "--jsonl", docs, "--ref-freq", freq});
  ASSERT_EQ(m.exit_code, 0) << m.err;
  const Json j = json_lines(m.out).at(0);
  EXPECT_EQ(j["member"], true);
  for (const char* k : {"loss", "zlib_ratio", "min_k", "min_k_plus_plus", "dc_pdd"})
    EXPECT_TRUE(j[k].is_number()) << k << ": " << j;
  EXPECT_GT(j["dc_pdd"].get<double>(), 0.0);
  EXPECT_LE(j["dc_pdd"].get<double>(), 0.01);  // every term is clipped at a = 0.01
  EXPECT_LE(j["min_k"].get<double>(), j["loss"].get<double>());  // the lowest 20% are below the mean
  EXPECT_GT(j["zlib_ratio"].get<double>(), 0.0);

  // a table counted with another tokenizer is refused
  const std::string other = make_model("v300.gguf", 300);
  const std::string freq2 = dir_ + "/freq2.bin";
  ASSERT_EQ(run({"freq", "-m", other, "--jsonl", corpus, "-o", freq2}).exit_code, 0);
  const CliResult bad = run({"mia", "-m", kDemo, "--jsonl", docs, "--ref-freq", freq2});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("another vocabulary"), std::string::npos) << bad.err;
}

// Positives 0.9 0.8 0.7 0.3 against negatives 0.6 0.4 0.2 0.1: of the 16 pairs the positive wins 4+4+4+2 = 14, so
// AUROC = 14/16 = 0.875. Best threshold 0.7: 3 true positives, no false positive, accuracy (3 + 4)/8 = 0.875. With 4
// negatives no false positive fits under 5% FPR: TPR = #{positives > 0.6}/4 = 0.75. `binoculars` holds −score, and
// lower means positive for it by default, so it evaluates the same; `flipped` holds −score too, ranked as given.
TEST(AnalysisCliEval, HandMadeScoresGiveTheKnownAuroc) {
  const std::string dir = temp_dir();
  const double pos[] = {0.9, 0.8, 0.7, 0.3}, neg[] = {0.6, 0.4, 0.2, 0.1};
  std::string lines;
  int doc = 0;
  for (int c = 0; c < 2; ++c)
    for (double s : c ? neg : pos) {
      nlohmann::ordered_json j = {{"doc", doc++}, {"label", c ? "human" : "machine"}, {"score", s}, {"binoculars", -s},
                {"flipped", -s}, {"note", "x"}, {"flag", true}};
      lines += j.dump() + "\n";
    }
  lines += "{\"doc\": 99, \"score\": 5}\n";  // no label: skipped
  const std::string path = dir + "/scores.jsonl";
  write_file(path, lines);
  const CliResult r = run_cli({"eval", path, "--positive", "machine", "--resamples", "200"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("1 lines without field 'label'"), std::string::npos) << r.err;
  const auto ls = json_lines(r.out);
  ASSERT_EQ(ls.size(), 3u) << r.out;  // score, binoculars, flipped: not doc, label, note, flag
  EXPECT_EQ(ls[0]["score"], "score");
  EXPECT_EQ(ls[0]["positives"], 4);
  EXPECT_EQ(ls[0]["negatives"], 4);
  EXPECT_DOUBLE_EQ(ls[0]["auroc"].get<double>(), 0.875);
  EXPECT_DOUBLE_EQ(ls[0]["best_accuracy"].get<double>(), 0.875);
  EXPECT_DOUBLE_EQ(ls[0]["best_threshold"].get<double>(), 0.7);
  EXPECT_DOUBLE_EQ(ls[0]["tpr_at_5pct_fpr"].get<double>(), 0.75);
  EXPECT_LE(ls[0]["auroc_ci"][0].get<double>(), 0.875);
  EXPECT_GE(ls[0]["auroc_ci"][1].get<double>(), 0.875);
  EXPECT_EQ(ls[1]["score"], "binoculars");
  EXPECT_EQ(ls[1]["direction"], "lower");
  EXPECT_DOUBLE_EQ(ls[1]["auroc"].get<double>(), 0.875);
  EXPECT_DOUBLE_EQ(ls[1]["best_threshold"].get<double>(), -0.7);  // positive iff binoculars ≤ −0.7
  EXPECT_EQ(ls[2]["direction"], "higher");
  EXPECT_DOUBLE_EQ(ls[2]["auroc"].get<double>(), 0.125);

  const CliResult lower = run_cli({"eval", path, "--positive", "machine", "--lower", "flipped", "--columns",
                                   "flipped", "--format", "table", "--resamples", "50"});
  ASSERT_EQ(lower.exit_code, 0) << lower.err;
  EXPECT_NE(lower.out.find("flipped"), std::string::npos);
  EXPECT_NE(lower.out.find("0.8750"), std::string::npos) << lower.out;

  // string labels need --positive; one class only is an error
  EXPECT_EQ(run_cli({"eval", path}).exit_code, 2);
  write_file(dir + "/one.jsonl", "{\"label\": 1, \"s\": 1}\n{\"label\": 1, \"s\": 2}\n");
  const CliResult one = run_cli({"eval", dir + "/one.jsonl"});
  EXPECT_EQ(one.exit_code, 2);
  EXPECT_NE(one.err.find("both classes"), std::string::npos) << one.err;
}

}  // namespace
}  // namespace ts::test
