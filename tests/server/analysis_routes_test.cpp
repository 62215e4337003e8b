// POST /v1/analyze and POST /v1/detect: the same records and values as `tokenscope analyze` / `tokenscope detect` on
// the demo model (the CLI binary is run for the reference; a text longer than the demo's 256-token context checks the
// sliding windows), the Binoculars roles with and without --compare-model, the request errors, and a client that
// hangs up mid-analysis.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "fixtures.h"
#include "server/analysis_requests.h"
#include "server_test_util.h"

namespace ts::server::test {
namespace {

const char* const kShort = "And God said, Let there be light: and there was light.";

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// models/sample.txt twice: about 440 demo tokens, more than the 256-token context.
std::string long_text() {
  const std::string s = read_file(std::string(TS_SOURCE_DIR) + "/models/sample.txt");
  return s + s;
}

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

using ts::test::TempDir;  // fixtures.h

// Runs the tokenscope CLI; its stdout as JSON lines. Skips (fails under CI=true) when the binary is not built.
bool run_cli(const std::vector<std::string>& args, std::vector<Json>& lines) {
  if (!std::filesystem::exists(TS_CLI_PATH)) return false;
  TempDir dir;
  std::string cmd = quote(TS_CLI_PATH);
  for (const auto& a : args) cmd += " " + quote(a);
  cmd += " > " + quote(dir.path() + "/out") + " 2> " + quote(dir.path() + "/err");
  const int status = std::system(cmd.c_str());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << cmd << "\n" << read_file(dir.path() + "/err");
  std::istringstream out(read_file(dir.path() + "/out"));
  for (std::string line; std::getline(out, line);)
    if (!line.empty()) lines.push_back(Json::parse(line));
  return true;
}

#define REQUIRE_CLI(ok)                                                               \
  if (!(ok)) {                                                                        \
    if (::ts::test::running_in_ci()) FAIL() << "tokenscope CLI not built under CI=true"; \
    GTEST_SKIP() << "tokenscope CLI not built: " << TS_CLI_PATH;                      \
  }

// Same keys, same strings and integers, numbers within 1e-6 (relative for large ones); null for NaN on both sides.
void expect_same(const Json& server, const Json& cli, const std::string& where) {
  if (cli.is_number() && server.is_number()) {
    const double a = server.get<double>(), b = cli.get<double>();
    EXPECT_NEAR(a, b, 1e-6 * std::max(1.0, std::fabs(b))) << where;
    return;
  }
  ASSERT_EQ(server.type(), cli.type()) << where << ": server " << server.dump() << ", cli " << cli.dump();
  if (cli.is_object()) {
    ASSERT_EQ(server.size(), cli.size()) << where << ": server " << server.dump() << ", cli " << cli.dump();
    for (auto it = cli.begin(); it != cli.end(); ++it) {
      ASSERT_TRUE(server.contains(it.key())) << where << ": missing " << it.key();
      expect_same(server[it.key()], it.value(), where + "." + it.key());
    }
  } else if (cli.is_array()) {
    ASSERT_EQ(server.size(), cli.size()) << where;
    for (size_t i = 0; i < cli.size(); ++i) expect_same(server[i], cli[i], where + "[" + std::to_string(i) + "]");
  } else {
    EXPECT_EQ(server, cli) << where;
  }
}

void expect_openai_error(const Reply& r, int status, const std::string& param, const std::string& needle = "") {
  EXPECT_EQ(r.status, status) << r.body;
  ASSERT_TRUE(r.json.is_object() && r.json.contains("error")) << r.body;
  const Json& e = r.json["error"];
  EXPECT_TRUE(e["message"].is_string());
  EXPECT_EQ(e["type"], "invalid_request_error");
  if (!param.empty()) {
    EXPECT_EQ(e["param"], param) << r.body;
  }
  if (!needle.empty()) {
    EXPECT_NE(e["message"].get<std::string>().find(needle), std::string::npos) << r.body;
  }
}

void expect_analyze_equals_cli(const TestServer& s, const std::string& text, const Json& options,
                               const std::vector<std::string>& cli_options) {
  TempDir dir;
  const std::string file = dir.path() + "/doc.txt";
  std::ofstream(file, std::ios::binary) << text;
  std::vector<Json> cli;
  std::vector<std::string> args = {"analyze", "-m", demo_model_path(), "-f", file};
  args.insert(args.end(), cli_options.begin(), cli_options.end());
  REQUIRE_CLI(run_cli(args, cli));
  Json body = options;
  body["text"] = text;
  auto r = s.post("/v1/analyze", body);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["object"], "analysis");
  EXPECT_EQ(r.json["model"], "demo");
  ASSERT_GE(cli.size(), 2u);
  const Json& toks = r.json["tokens"];
  ASSERT_EQ(toks.size(), cli.size() - 1);
  for (size_t i = 0; i + 1 < cli.size(); ++i) expect_same(toks[i], cli[i], "token " + std::to_string(i));
  expect_same(r.json["summary"], cli.back()["summary"], "summary");
}

TEST(AnalyzeRoute, RecordsAndSummaryEqualTheCli) {
  expect_analyze_equals_cli(shared_server(), kShort, Json{{"top", 3}}, {"--top", "3"});
}

TEST(AnalyzeRoute, LongTextSlidesItsWindowAsTheCliDoes) {
  const std::string text = long_text();
  ASSERT_GT(shared_server().engine().tokenizer.encode(text).ids.size(), 256u);
  expect_analyze_equals_cli(shared_server(), text, Json{{"window", 4}, {"top_fraction", 0.3}},
                            {"--window", "4", "--top-fraction", "0.3"});
}

TEST(AnalyzeRoute, IdsWithoutPerTokenGiveOnlyTheSummary) {
  auto& s = shared_server();
  const auto ids = s.engine().tokenizer.encode(kShort).ids;
  auto r = s.post("/v1/analyze", Json{{"ids", ids}, {"per_token", false}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(r.json.contains("tokens"));
  const Json& sum = r.json["summary"];
  EXPECT_EQ(sum["tokens"], ids.size() - 1);
  EXPECT_EQ(sum["chow_quantiles"].size(), 11u);
  // the same ids as text give the same numbers (the text's BOS is in ids)
  auto t = s.post("/v1/analyze", Json{{"text", kShort}, {"per_token", false}});
  ASSERT_EQ(t.status, 200);
  EXPECT_EQ(sum["nll_sum"], t.json["summary"]["nll_sum"]);
  EXPECT_EQ(sum["highest_entropy_span"], t.json["summary"]["highest_entropy_span"]);
}

TEST(AnalyzeRoute, BadRequestsAre400NamingTheField) {
  auto& s = shared_server();
  expect_openai_error(s.post("/v1/analyze", Json{{"text", "x"}, {"ids", {1, 2}}}), 400, "ids");
  expect_openai_error(s.post("/v1/analyze", Json::object()), 400, "text");
  expect_openai_error(s.post("/v1/analyze", Json{{"text", "x"}, {"window", 0}}), 400, "window");
  expect_openai_error(s.post("/v1/analyze", Json{{"text", "x"}, {"top_fraction", 2}}), 400, "top_fraction");
  expect_openai_error(s.post("/v1/analyze", Json{{"text", "x"}, {"per_token", "yes"}}), 400, "per_token");
  expect_openai_error(s.post("/v1/analyze", Json{{"ids", {1, 99999}}}), 400, "ids", "out of range");
}

TEST(AnalyzeRoute, ContextTooSmallIsAnOpenAiError) {
  TestServer s([](ServerOptions& o) { o.ctx = 1; }, false);
  expect_openai_error(s.post("/v1/analyze", Json{{"text", kShort}}), 400, "", "too small");
}

// Both servers' detect answers equal the CLI's for the same roles, all methods, with terms.
void expect_detect_equals_cli(const TestServer& s, const std::vector<std::string>& cli_roles) {
  const std::vector<std::string> texts = {kShort, long_text(), "A fortune: you will be hungry again in one hour."};
  TempDir dir;
  const std::string jsonl = dir.path() + "/docs.jsonl";
  {
    std::ofstream f(jsonl, std::ios::binary);
    for (const auto& t : texts) f << Json{{"text", t}}.dump() << "\n";
  }
  std::vector<std::string> args = {"detect", "-m", demo_model_path(), "--jsonl", jsonl, "--terms"};
  for (const std::string& r : cli_roles) args.push_back(r == "@copy" ? dir.path() + "/observer.gguf" : r);
  std::filesystem::copy_file(demo_model_path(), dir.path() + "/observer.gguf");
  std::vector<Json> cli;
  REQUIRE_CLI(run_cli(args, cli));
  auto r = s.post("/v1/detect", Json{{"texts", texts}, {"terms", true}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["object"], "detection");
  const Json& docs = r.json["documents"];
  ASSERT_EQ(docs.size(), cli.size());
  ASSERT_EQ(cli.size(), texts.size());
  for (size_t i = 0; i < cli.size(); ++i) expect_same(docs[i], cli[i], "document " + std::to_string(i));
}

TEST(DetectRoute, WithCompareModelTheObserverIsTheCompareModel) {
  auto& s = shared_server();
  // a copy of the demo file is a second model to the CLI, as demo-b is to the server
  expect_detect_equals_cli(s, {"--observer", "@copy"});
  auto r = s.post("/v1/detect", Json{{"text", kShort}, {"method", "binoculars"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["roles"], (Json{{"scoring", "demo"}, {"sampling", "demo"}, {"observer", "demo-b"},
                                   {"performer", "demo"}}));
}

TEST(DetectRoute, WithoutCompareModelBinocularsUsesTheOneModelAsTheCliDefault) {
  TestServer s(nullptr, false);
  expect_detect_equals_cli(s, {});
  auto r = s.post("/v1/detect", Json{{"text", kShort}, {"method", "binoculars"}, {"observer", "compare"}});
  expect_openai_error(r, 400, "observer", "--compare-model");
  EXPECT_NE(r.json["error"]["message"].get<std::string>().find("binoculars"), std::string::npos) << r.body;
  auto q = s.post("/v1/detect", Json{{"text", kShort}, {"sampler", "compare"}});
  expect_openai_error(q, 400, "sampler", "fast_detectgpt");
}

TEST(DetectRoute, SamplerRoleGivesTheReferenceAndWhiteBoxScores) {
  auto& s = shared_server();
  auto r = s.post("/v1/detect", Json{{"text", kShort}, {"method", "fast_detectgpt"}, {"sampler", "demo-b"}});
  ASSERT_EQ(r.status, 200) << r.body;
  const Json& d = r.json["documents"][0];
  ASSERT_TRUE(d.contains("fast_detectgpt_white_box"));
  // the sampling model is a copy of the scoring one: the two estimates agree
  EXPECT_NEAR(d["fast_detectgpt"].get<double>(), d["fast_detectgpt_white_box"].get<double>(), 1e-4);
  EXPECT_EQ(r.json["roles"]["sampling"], "demo-b");
}

TEST(DetectRoute, MethodListSelectsTheColumns) {
  auto& s = shared_server();
  auto a = s.post("/v1/detect", Json{{"text", kShort}, {"method", "lrr,entropy"}});
  ASSERT_EQ(a.status, 200) << a.body;
  const Json& d = a.json["documents"][0];
  EXPECT_TRUE(d.contains("lrr"));
  EXPECT_TRUE(d.contains("neg_entropy"));
  EXPECT_FALSE(d.contains("log_likelihood"));
  EXPECT_FALSE(d.contains("binoculars"));
  EXPECT_FALSE(d.contains("terms"));
  auto b = s.post("/v1/detect", Json{{"text", kShort}, {"method", {"entropy", "lrr"}}});
  ASSERT_EQ(b.status, 200);
  EXPECT_EQ(b.json["documents"], a.json["documents"]);
}

TEST(DetectRoute, BadRequestsAre400NamingTheField) {
  auto& s = shared_server();
  expect_openai_error(s.post("/v1/detect", Json{{"text", "x"}, {"method", "magic"}}), 400, "method", "magic");
  expect_openai_error(s.post("/v1/detect", Json{{"text", "x"}, {"method", ""}}), 400, "method");
  expect_openai_error(s.post("/v1/detect", Json{{"texts", Json::array()}}), 400, "texts");
  expect_openai_error(s.post("/v1/detect", Json{{"texts", {"a", 3}}}), 400, "texts");
  expect_openai_error(s.post("/v1/detect", Json{{"texts", {"a"}}, {"text", "b"}}), 400, "texts");
  expect_openai_error(s.post("/v1/detect", Json{{"text", "x"}, {"observer", "nobody"}}), 400, "observer", "nobody");
  expect_openai_error(s.post("/v1/detect", Json{{"ids", {-1}}}), 400, "ids");
}

TEST(AnalysisRequests, ParseDefaultsAndShapes) {
  auto a = parse_analyze(Json{{"text", "hi"}});
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->window, 8);
  EXPECT_DOUBLE_EQ(a->top_fraction, 0.2);
  EXPECT_TRUE(a->per_token);
  auto d = parse_detect(Json{{"texts", {"a", "b"}}, {"method", "all"}, {"observer", "x"}});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->docs.size(), 2u);
  EXPECT_EQ(d->methods, detect_methods());
  ASSERT_TRUE(d->observer.has_value());
  EXPECT_EQ(*d->observer, "x");
  EXPECT_FALSE(d->sampler.has_value());
}

// How many tasks the server dropped for a gone client, once it is idle (-1 if it never gets idle).
int64_t cancelled_when_idle(const TestServer& s) {
  for (int i = 0; i < 200000; ++i) {
    auto h = s.get("/health");
    if (h.status != 200) return -1;
    if (h.json["active"].get<int>() + h.json["queued"].get<int>() == 0) return h.json["cancelled"].get<int64_t>();
    std::this_thread::yield();
  }
  return -1;
}

TEST(DetectRoute, ClientThatHangsUpCancelsTheAnalysis) {
  TestServer s(nullptr, false);
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(s.port()));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  // 400 copies of a 440-token text: far more work than the moment it takes to notice the hang-up
  const std::string body = Json{{"texts", std::vector<std::string>(400, long_text())}}.dump();
  const std::string req = "POST /v1/detect HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  ASSERT_EQ(send(fd, req.data(), req.size(), 0), static_cast<ssize_t>(req.size()));
  for (int i = 0; i < 100000; ++i) {  // wait until the server has the task, then hang up without reading
    auto h = s.get("/health");
    if (h.json["active"].get<int>() > 0) break;
    std::this_thread::yield();
  }
  close(fd);
  EXPECT_EQ(cancelled_when_idle(s), 1);
  EXPECT_EQ(s.post("/v1/analyze", Json{{"text", "x y"}}).status, 200);
}

}  // namespace
}  // namespace ts::server::test
