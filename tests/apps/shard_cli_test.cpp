// Sharding and resume of the corpus commands (apps/shard.h). Units: the --shard spec, the output file name, the
// resume scan (complete documents kept; a partial line, a document without its summary, dropped; files of another
// shard or input refused). End to end on the bundled demo model, one thread: the shards' union is the unsharded
// run, document for document; bad options exit 2 with one line; a resumed file equals an uninterrupted run's; a run
// killed with SIGKILL midway and resumed writes the same file, byte for byte, as one never interrupted.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <map>
#include <sstream>

#include "cli_run.h"

#include <nlohmann/json.hpp>

#include "shard.h"  // apps/shard.cpp is compiled into test_apps (CMakeLists.txt)

extern char** environ;

namespace ts::test {
namespace {

using cli::DocLayout;
using cli::ShardSpec;
using Args = std::vector<std::string>;

const std::string kDemo = std::string(TS_SOURCE_DIR) + "/models/tokenscope-demo.gguf";

// ---- units ----

TEST(ShardSpec, ParsesIndexAndCount) {
  auto s = cli::parse_shard_spec("3/16");
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->index, 3);
  EXPECT_EQ(s->count, 16);
  EXPECT_TRUE(s->contains(3));
  EXPECT_TRUE(s->contains(19));
  EXPECT_FALSE(s->contains(4));
  auto one = cli::parse_shard_spec("0/1");
  ASSERT_TRUE(one.ok());
  EXPECT_TRUE(one->contains(0) && one->contains(7));
}

TEST(ShardSpec, CountsTheDocumentsOfAShardRoundRobin) {
  const ShardSpec s{3, 4};  // documents 3, 7, 11, ...
  EXPECT_EQ(s.size_of(0), 0);
  EXPECT_EQ(s.size_of(3), 0);
  EXPECT_EQ(s.size_of(4), 1);
  EXPECT_EQ(s.size_of(8), 2);
  EXPECT_EQ(s.size_of(12), 3);
  EXPECT_EQ((ShardSpec{0, 3}).size_of(7), 3);  // 0, 3, 6
}

TEST(ShardSpec, RejectsBadSpecsNamingTheValue) {
  for (const std::string bad : {"3/2", "2/2", "a/b", "0/0", "1", "", "/2", "1/", "-1/2", " 1/2", "1/2/3", "1.0/2",
                                "99999999999999999999/100000000000000000000"}) {
    auto s = cli::parse_shard_spec(bad);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_NE(s.error().message.find("'" + bad + "'"), std::string::npos) << s.error().message;
    EXPECT_EQ(s.error().message.find('\n'), std::string::npos);
  }
}

TEST(ShardFileName, NamesCommandShardAndCount) {
  EXPECT_EQ(cli::shard_file_name("score", ShardSpec{3, 16}, true), "score.shard-3-of-16.jsonl");
  EXPECT_EQ(cli::shard_file_name("mia", ShardSpec{}, false), "mia.jsonl");
}

std::string token_line(int64_t doc, int64_t pos) {
  return "{\"doc\":" + std::to_string(doc) + ",\"pos\":" + std::to_string(pos) + ",\"logprob\":-1.5}\n";
}
std::string summary_line(int64_t doc) {
  return "{\"doc\":" + std::to_string(doc) + ",\"summary\":{\"tokens\":2,\"ppl\":4.5}}\n";
}
std::string scored_doc(int64_t doc) { return token_line(doc, 1) + token_line(doc, 2) + summary_line(doc); }

Expected<cli::ResumePoint> scan(const std::string& text, DocLayout layout, ShardSpec shard = {}) {
  std::istringstream in(text);
  return cli::scan_output(in, layout, shard, "out.jsonl");
}

TEST(ResumeScan, EmptyOutputHasNoDocuments) {
  auto r = scan("", DocLayout::kLinesThenSummary);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->keep_bytes, 0u);
  EXPECT_EQ(r->last_doc, -1);
  EXPECT_EQ(r->docs, 0);
}

TEST(ResumeScan, KeepsCompleteDocuments) {
  const std::string done = scored_doc(0) + scored_doc(1);
  auto r = scan(done, DocLayout::kLinesThenSummary);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->keep_bytes, done.size());
  EXPECT_EQ(r->last_doc, 1);
  EXPECT_EQ(r->docs, 2);
}

TEST(ResumeScan, DropsAPartialLastLine) {
  const std::string done = scored_doc(0) + scored_doc(1);
  const std::string partial_token = token_line(2, 1).substr(0, 15);
  auto r = scan(done + partial_token, DocLayout::kLinesThenSummary);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->keep_bytes, done.size());
  EXPECT_EQ(r->last_doc, 1);
  // a summary line without its newline is not complete either
  const std::string s = summary_line(2);
  auto r2 = scan(done + token_line(2, 1) + s.substr(0, s.size() - 1), DocLayout::kLinesThenSummary);
  ASSERT_TRUE(r2.ok()) << r2.error().message;
  EXPECT_EQ(r2->keep_bytes, done.size());
  EXPECT_EQ(r2->docs, 2);
}

TEST(ResumeScan, DropsADocumentWithoutItsSummary) {
  const std::string done = scored_doc(0);
  auto r = scan(done + token_line(1, 1) + token_line(1, 2), DocLayout::kLinesThenSummary);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->keep_bytes, done.size());
  EXPECT_EQ(r->last_doc, 0);
  EXPECT_EQ(r->docs, 1);
}

TEST(ResumeScan, OneLinePerDocumentEndsEachDocument) {
  const std::string done = "{\"doc\":1,\"tokens\":3}\n{\"doc\":4,\"tokens\":5}\n";
  auto r = scan(done + "{\"doc\":7,\"tok", DocLayout::kOneLine, ShardSpec{1, 3});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->keep_bytes, done.size());
  EXPECT_EQ(r->last_doc, 4);
  EXPECT_EQ(r->docs, 2);
}

TEST(ResumeScan, ShardedOutputResumesAfterTheShardsLastDocument) {
  const std::string done = scored_doc(2) + scored_doc(6);
  auto r = scan(done + token_line(10, 1), DocLayout::kLinesThenSummary, ShardSpec{2, 4});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->keep_bytes, done.size());
  EXPECT_EQ(r->last_doc, 6);
}

TEST(ResumeScan, RefusesOutputThatIsNotThisShardsRun) {
  struct Case {
    std::string text, message;
    ShardSpec shard;
  };
  const std::vector<Case> cases = {
      {"not json\n", "line 1: not a line of tokenscope jsonl output", {}},
      {"{\"pos\":1,\"doc\":0}\n", "line 1: not a line", {}},
      {"{\"doc\":\"a\"}\n", "line 1: not a line", {}},
      {scored_doc(1), "line 1: document 1 is not in shard 0/2", ShardSpec{0, 2}},
      {scored_doc(0) + scored_doc(2), "line 4: document 2 where document 1 was expected", {}},
      {scored_doc(1), "line 1: document 1 where document 0 was expected", {}},
      {token_line(0, 1) + summary_line(1), "line 2: document 1 where document 0 was expected", {}},
      {"{\"doc\":0,\"summary\":{\"tokens\":\n", "line 1: document 0: invalid JSON", {}},
  };
  for (const Case& c : cases) {
    auto r = scan(c.text, DocLayout::kLinesThenSummary, c.shard);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.error().message.find("out.jsonl: " + c.message), std::string::npos) << r.error().message;
  }
}

TEST(CountDocuments, CountsNonBlankLinesAsTheCommandsDo) {
  const std::string path = temp_dir() + "/d.jsonl";
  write_file(path, "{\"text\":\"a\"}\n   \n\t\r\n{\"text\":\"b\"}\n\n{\"text\":\"c\"}");  // no final newline
  auto n = cli::count_documents(path);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 3);
}

// ---- the CLI ----

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// doc index → that document's lines, in order; `dups` counts documents met again after another one.
std::map<int64_t, std::string> lines_by_doc(const std::string& out, int* dups = nullptr) {
  std::map<int64_t, std::string> m;
  std::istringstream in(out);
  int64_t prev = -1;
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.contains("doc") || !j["doc"].is_number_integer()) {
      ADD_FAILURE() << "not an output line: " << line;
      continue;
    }
    const int64_t doc = j["doc"].get<int64_t>();
    if (doc != prev && m.count(doc) && dups) ++*dups;
    prev = doc;
    m[doc] += line + "\n";
  }
  return m;
}

// Offsets just past each complete document of a command's jsonl output.
std::vector<size_t> document_ends(const std::string& out, DocLayout layout) {
  std::vector<size_t> ends;
  for (size_t pos = 0, nl; (nl = out.find('\n', pos)) != std::string::npos; pos = nl + 1) {
    const auto j = nlohmann::json::parse(out.substr(pos, nl - pos), nullptr, false);
    if (layout == DocLayout::kOneLine || (j.is_object() && j.contains("summary"))) ends.push_back(nl + 1);
  }
  return ends;
}

// n small documents of varied length (with a blank line now and then, which takes no index), one given as ids.
std::string corpus(int n) {
  static const char* words[] = {"And", "God", "said,", "Let", "there", "be", "light:", "and", "there", "was",
                                "light.", "And", "God", "saw", "the", "light,", "that", "it", "was", "good."};
  std::string s;
  for (int i = 0; i < n; ++i) {
    if (i % 9 == 4) s += "  \n";
    if (i == 5) {
      s += "{\"ids\": [1, 450, 1128, 2987], \"n\": 5}\n";
      continue;
    }
    std::string text;
    for (int k = 0; k < 3 + (i * 7) % 17; ++k) text += std::string(k ? " " : "") + words[(i + k) % 20];
    s += "{\"text\": \"" + text + "\", \"n\": " + std::to_string(i) + "}\n";
  }
  return s;
}

class ShardCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::ifstream(kDemo)) GTEST_SKIP() << "no bundled demo model at " << kDemo;
    dir_ = temp_dir();
  }
  CliResult run(const std::string& cmd, Args a, const std::string& threads = "1") {
    a.insert(a.begin(), {cmd, "-m", kDemo, "-t", threads});
    return run_cli(a);
  }
  std::string write(const std::string& name, const std::string& content) {
    const std::string path = dir_ + "/" + name;
    write_file(path, content);
    return path;
  }
  void expect_shards_union_is_the_whole(const std::string& cmd, const std::string& docs);
  void expect_resume_from_cut(const std::string& cmd, const Args& args, const std::string& file,
                              const std::string& whole, size_t cut);
  void kill_and_resume(const std::string& cmd, DocLayout layout);
  std::string dir_;
};

// Every document in exactly one shard, with the lines of the unsharded run; shard 0 to stdout, the others to
// files (one of them with two threads: the output does not depend on them).
void ShardCli::expect_shards_union_is_the_whole(const std::string& cmd, const std::string& docs) {
  const CliResult whole_run = run(cmd, {"--jsonl", docs});
  ASSERT_EQ(whole_run.exit_code, 0) << cmd << ": " << whole_run.err;
  const auto whole = lines_by_doc(whole_run.out);
  const std::string out_dir = dir_ + "/" + cmd;
  std::map<int64_t, int> seen;
  for (int i = 0; i < 3; ++i) {
    const std::string spec = std::to_string(i) + "/3";
    Args a = {"--jsonl", docs, "--shard", spec};
    if (i > 0) a.insert(a.end(), {"--out", out_dir});
    const CliResult r = run(cmd, a, i == 2 ? "2" : "1");
    ASSERT_EQ(r.exit_code, 0) << cmd << " " << spec << ": " << r.err;
    const std::string out =
        i == 0 ? r.out : slurp(out_dir + "/" + cmd + ".shard-" + std::to_string(i) + "-of-3.jsonl");
    if (i > 0) {
      EXPECT_EQ(r.out, "") << cmd << ": --out writes nothing to stdout";
    }
    int dups = 0;
    for (const auto& [doc, lines] : lines_by_doc(out, &dups)) {
      EXPECT_EQ(doc % 3, i) << cmd << ": document " << doc << " in shard " << spec;
      ++seen[doc];
      auto it = whole.find(doc);
      ASSERT_NE(it, whole.end()) << cmd << ": document " << doc << " not in the unsharded run";
      EXPECT_EQ(lines, it->second) << cmd << ": document " << doc;
    }
    EXPECT_EQ(dups, 0) << cmd << " " << spec;
  }
  EXPECT_EQ(seen.size(), whole.size()) << cmd;
  for (const auto& [doc, n] : seen) EXPECT_EQ(n, 1) << cmd << ": document " << doc;
}

TEST_F(ShardCli, UnionOfShardsIsTheUnshardedRunForEveryCommand) {
  const std::string docs = write("c.jsonl", corpus(14));
  for (const std::string cmd : {"score", "analyze", "detect", "mia"}) {
    expect_shards_union_is_the_whole(cmd, docs);
    const auto shard1 = lines_by_doc(slurp(dir_ + "/" + cmd + "/" + cmd + ".shard-1-of-3.jsonl"));
    EXPECT_EQ(shard1.size(), 5u) << cmd;  // documents 1, 4, 7, 10, 13 of 0..13
  }
}

TEST(ShardCliHelp, EveryCorpusCommandHelpDescribesShardingAndResume) {
  for (const std::string cmd : {"score", "analyze", "detect", "mia"}) {
    const CliResult r = run_cli({cmd, "--help"});
    EXPECT_EQ(r.exit_code, 0) << cmd;
    for (const std::string& opt : std::vector<std::string>{"--shard", "--out", "--resume", "--progress",
                                                           "Round-robin", cmd + ".shard-<i>-of-<n>.jsonl"})
      EXPECT_NE(r.out.find(opt), std::string::npos) << cmd << " --help lacks " << opt << ":\n" << r.out;
  }
}

TEST_F(ShardCli, BadOptionsExitTwoWithOneLineNamingTheValue) {
  const std::string docs = write("c.jsonl", corpus(3));
  const std::string out = dir_ + "/out";
  struct Case {
    std::string cmd;
    Args args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"score", {"--jsonl", docs, "--shard", "3/2"}, "--shard '3/2'"},
      {"analyze", {"--jsonl", docs, "--shard", "a/b"}, "--shard 'a/b'"},
      {"detect", {"--jsonl", docs, "--shard", "0/0"}, "--shard '0/0'"},
      {"mia", {"--jsonl", docs, "--shard", "1"}, "--shard '1'"},
      {"score", {"-p", "And God said", "--shard", "0/2"}, "needs the documents from --jsonl"},
      {"analyze", {"-p", "And God said", "--shard", "1/2", "--out", out}, "needs the documents from --jsonl"},
      {"mia", {"--jsonl", docs, "--resume"}, "--resume needs --out"},
      {"score", {"--jsonl", docs, "--out", out, "--format", "tsv"}, "--out writes jsonl"},
      {"analyze", {"--jsonl", docs, "--out", out, "--format", "tsv"}, "--out writes jsonl"},
  };
  for (const Case& c : cases) {
    const CliResult r = run(c.cmd, c.args);
    EXPECT_EQ(r.exit_code, 2) << c.cmd << ": " << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.cmd << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

TEST_F(ShardCli, ExistingOutputNeedsResumeAndMustBeThisShards) {
  const std::string docs = write("c.jsonl", corpus(6));
  const std::string out = dir_ + "/out";
  ASSERT_EQ(run("detect", {"--jsonl", docs, "--shard", "0/2", "--out", out}).exit_code, 0);
  const std::string file = out + "/detect.shard-0-of-2.jsonl";
  const std::string first = slurp(file);
  ASSERT_EQ(document_ends(first, DocLayout::kOneLine).size(), 3u);

  const CliResult again = run("detect", {"--jsonl", docs, "--shard", "0/2", "--out", out});
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find(file + " exists; pass --resume to continue or remove it"), std::string::npos) << again.err;
  EXPECT_EQ(slurp(file), first);  // untouched

  // shard 0's file under shard 1's name: refused, not continued
  write_file(out + "/detect.shard-1-of-2.jsonl", first);
  const CliResult other = run("detect", {"--jsonl", docs, "--shard", "1/2", "--out", out, "--resume"});
  EXPECT_EQ(other.exit_code, 2);
  EXPECT_NE(other.err.find("document 0 is not in shard 1/2"), std::string::npos) << other.err;

  // a finished run resumed: nothing to do, nothing changed
  const CliResult done = run("detect", {"--jsonl", docs, "--shard", "0/2", "--out", out, "--resume"});
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_EQ(slurp(file), first);
}

// Cuts an uninterrupted run's file at `cut` bytes, resumes, and expects the uninterrupted file again.
void ShardCli::expect_resume_from_cut(const std::string& cmd, const Args& args, const std::string& file,
                                      const std::string& whole, size_t cut) {
  write_file(file, whole.substr(0, cut));
  Args a = args;
  a.push_back("--resume");
  const CliResult r = run(cmd, a);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(slurp(file) == whole) << cmd << " resumed from byte " << cut << " differs from the uninterrupted file";
}

TEST_F(ShardCli, ResumeAfterAPartialDocumentEqualsTheUninterruptedFile) {
  const std::string docs = write("c.jsonl", corpus(12));
  for (const auto& [cmd, layout] : {std::pair{std::string("score"), DocLayout::kLinesThenSummary},
                                    std::pair{std::string("mia"), DocLayout::kOneLine}}) {
    const std::string out = dir_ + "/" + cmd;
    const Args args = {"--jsonl", docs, "--shard", "1/2", "--out", out};
    ASSERT_EQ(run(cmd, args).exit_code, 0);
    const std::string file = out + "/" + cmd + ".shard-1-of-2.jsonl";
    const std::string whole = slurp(file);
    const std::vector<size_t> ends = document_ends(whole, layout);
    ASSERT_EQ(ends.size(), 6u) << cmd;
    const size_t third = ends[1];  // where the third document begins
    expect_resume_from_cut(cmd, args, file, whole, third + 10);  // inside its first line
    if (layout == DocLayout::kLinesThenSummary)                 // two of its token lines, not its summary
      expect_resume_from_cut(cmd, args, file, whole, whole.find('\n', whole.find('\n', third) + 1) + 1);
    expect_resume_from_cut(cmd, args, file, whole, ends[2] - 1);  // all but the newline of its last line
    expect_resume_from_cut(cmd, args, file, whole, third);        // right after a document
    expect_resume_from_cut(cmd, args, file, whole, 0);
  }
}

TEST_F(ShardCli, ProgressFlagReportsDocumentsOfTheShardAndTheRate) {
  const std::string docs = write("c.jsonl", corpus(10));
  const CliResult r = run("score", {"--jsonl", docs, "--shard", "1/3", "--out", dir_ + "/o", "--progress"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("score: 3 / 3 documents (100%)"), std::string::npos) << r.err;  // documents 1, 4, 7
  EXPECT_NE(r.err.find("tokens/s"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\r'), std::string::npos) << "a log gets whole lines";
}

// ---- killed and resumed ----

struct Child {
  pid_t pid = -1;
  int stdin_fd = -1;
};

// Starts the CLI with its stdin on a pipe (the caller feeds it documents) and stdout, stderr to files in dir.
Child spawn_cli(const Args& args, const std::string& dir) {
  int p[2];
  if (pipe(p) != 0) return {};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, p[0], 0);
  posix_spawn_file_actions_addclose(&fa, p[0]);
  posix_spawn_file_actions_addclose(&fa, p[1]);
  posix_spawn_file_actions_addopen(&fa, 1, (dir + "/child.out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, (dir + "/child.err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> all = {TS_CLI_PATH};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  Child c;
  const int rc = posix_spawn(&c.pid, TS_CLI_PATH, &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(p[0]);
  if (rc != 0) {
    close(p[1]);
    return {};
  }
  c.stdin_fd = p[1];
  return c;
}

// Starts `cmd --jsonl - --shard 0/2 --out DIR` reading a pipe, feeds it the first half of the corpus and keeps the
// pipe open, so that it cannot finish before it is killed however fast it runs; waits (bounded) until its file
// holds at least 3 complete documents; kills it with SIGKILL; resumes from the whole corpus file; expects the file
// of an uninterrupted run, with every document of the shard once.
void ShardCli::kill_and_resume(const std::string& cmd, DocLayout layout) {
  const std::string text = corpus(40);
  const std::string docs = write("c.jsonl", text);
  const std::string out = dir_ + "/out", ref = dir_ + "/ref";
  const std::string file = out + "/" + cmd + ".shard-0-of-2.jsonl";

  Child c = spawn_cli({cmd, "-m", kDemo, "-t", "1", "--jsonl", "-", "--shard", "0/2", "--out", out}, dir_);
  ASSERT_GT(c.pid, 0) << "cannot start " << TS_CLI_PATH;
  const std::string fed = text.substr(0, text.find("{\"text\"", text.find("\"n\": 19}")));  // documents 0..19
  signal(SIGPIPE, SIG_IGN);  // a child that died early makes the write fail, not this test program
  ASSERT_EQ(::write(c.stdin_fd, fed.data(), fed.size()), static_cast<ssize_t>(fed.size()));

  int64_t done = 0;
  bool exited = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (done < 3 && std::chrono::steady_clock::now() < deadline) {
    std::istringstream in(slurp(file));
    auto rp = cli::scan_output(in, layout, ShardSpec{0, 2}, file);
    ASSERT_TRUE(rp.ok()) << rp.error().message;
    done = rp->docs;
    int status = 0;
    if (waitpid(c.pid, &status, WNOHANG) == c.pid) {
      exited = true;
      break;
    }
    const timespec poll_interval{0, 5'000'000};
    nanosleep(&poll_interval, nullptr);
  }
  if (!exited && done < 3) kill(c.pid, SIGKILL);
  ASSERT_FALSE(exited) << cmd << " ended before it was killed: " << slurp(dir_ + "/child.err");
  ASSERT_GE(done, 3) << cmd << ": not 3 documents in 120 s: " << slurp(dir_ + "/child.err");

  // while it runs, a second run of the same shard is refused (the file is locked)
  const CliResult twin = run(cmd, {"--jsonl", docs, "--shard", "0/2", "--out", out, "--resume"});
  EXPECT_EQ(twin.exit_code, 2);
  EXPECT_NE(twin.err.find("another tokenscope run is writing this file"), std::string::npos) << twin.err;

  ASSERT_EQ(kill(c.pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(c.pid, &status, 0), c.pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  close(c.stdin_fd);
  const std::string killed = slurp(file);
  std::istringstream killed_in(killed);
  auto kept = cli::scan_output(killed_in, layout, ShardSpec{0, 2}, file);
  ASSERT_TRUE(kept.ok()) << kept.error().message;
  EXPECT_GE(kept->docs, 3);
  EXPECT_LT(kept->docs, 20) << "the killed run cannot have done documents it was not given";

  const CliResult resumed = run(cmd, {"--jsonl", docs, "--shard", "0/2", "--out", out, "--resume"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("resuming " + file + " after " + std::to_string(kept->docs) + " complete documents"),
            std::string::npos)
      << resumed.err;
  const CliResult uninterrupted = run(cmd, {"--jsonl", docs, "--shard", "0/2", "--out", ref});
  ASSERT_EQ(uninterrupted.exit_code, 0) << uninterrupted.err;
  const std::string expected = slurp(ref + "/" + cmd + ".shard-0-of-2.jsonl");
  const std::string got = slurp(file);
  EXPECT_EQ(got.size(), expected.size());
  EXPECT_TRUE(got == expected) << cmd << ": the resumed file differs from an uninterrupted run's";
  EXPECT_EQ(expected.compare(0, kept->keep_bytes, killed, 0, kept->keep_bytes), 0)
      << "the killed run's complete documents are not the start of the uninterrupted file";
  int dups = 0;
  const auto by_doc = lines_by_doc(got, &dups);
  EXPECT_EQ(dups, 0);
  ASSERT_EQ(by_doc.size(), 20u);  // documents 0, 2, ..., 38
  int64_t want = 0;
  for (const auto& [doc, lines] : by_doc) {
    EXPECT_EQ(doc, want);
    want += 2;
  }
}

TEST_F(ShardCli, ScoreKilledMidwayAndResumedEqualsAnUninterruptedRun) {
  kill_and_resume("score", DocLayout::kLinesThenSummary);
}

TEST_F(ShardCli, AnalyzeKilledMidwayAndResumedEqualsAnUninterruptedRun) {
  kill_and_resume("analyze", DocLayout::kLinesThenSummary);
}

}  // namespace
}  // namespace ts::test
