// The non-generating routes and the error contract: health, models, tokenize/detokenize, score, compare, 404, 401,
// 413, 400 for malformed or out-of-range requests, the request log, CORS.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <thread>

#include "runtime/scorer.h"
#include "server_test_util.h"

namespace ts::server::test {
namespace {

void expect_openai_error(const Reply& r, int status) {
  EXPECT_EQ(r.status, status) << r.body;
  ASSERT_TRUE(r.json.is_object()) << r.body;
  ASSERT_TRUE(r.json.contains("error")) << r.body;
  const Json& e = r.json["error"];
  EXPECT_TRUE(e["message"].is_string());
  EXPECT_FALSE(e["message"].get<std::string>().empty());
  EXPECT_TRUE(e["type"].is_string());
  EXPECT_TRUE(e.contains("param"));
  EXPECT_TRUE(e.contains("code"));
}

TEST(Routes, HealthAndModels) {
  auto& s = shared_server();
  auto h = s.get("/health");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.json["status"], "ok");
  EXPECT_EQ(h.json["model"], "demo");
  EXPECT_EQ(h.json["compare_model"], "demo-b");
  auto m = s.get("/v1/models");
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.json["object"], "list");
  ASSERT_EQ(m.json["data"].size(), 2u);
  EXPECT_EQ(m.json["data"][0]["id"], "demo");
  EXPECT_EQ(m.json["data"][0]["object"], "model");
}

TEST(Routes, ViewerIsServedAtRoot) {
  auto& s = shared_server();
  httplib::Client c("127.0.0.1", s.port());
  auto r = c.Get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->get_header_value("Content-Type").find("text/html"), std::string::npos);
  EXPECT_NE(r->body.find("<html"), std::string::npos);
}

TEST(Routes, UnknownRouteIs404InOpenAiShape) {
  auto& s = shared_server();
  expect_openai_error(s.post("/v1/nothing", Json::object()), 404);
  expect_openai_error(s.get("/no-such-file.js"), 404);
}

TEST(Routes, MalformedAndWrongTypedBodiesAre400) {
  auto& s = shared_server();
  expect_openai_error(s.post_raw("/v1/completions", "{\"prompt\": "), 400);
  expect_openai_error(s.post_raw("/v1/completions", "not json"), 400);
  expect_openai_error(s.post_raw("/v1/completions", "{\"prompt\": \"\xff\"}"), 400);
  expect_openai_error(s.post("/v1/completions", Json{{"prompt", 3}}), 400);
  expect_openai_error(s.post("/v1/completions", Json{{"prompt", "x"}, {"max_tokens", -5}}), 400);
  expect_openai_error(s.post("/v1/completions", Json{{"prompt", "x"}, {"logprobs", 500}}), 400);
  expect_openai_error(s.post("/v1/completions", Json{{"prompt", Json::array({1, 99999})}}), 400);
  expect_openai_error(s.post("/v1/score", Json{{"text", 1}}), 400);
  expect_openai_error(s.post("/tokenize", Json{{"content", Json::array()}}), 400);
  expect_openai_error(s.post("/detokenize", Json{{"tokens", Json::array({-3})}}), 400);
}

TEST(Routes, PromptLongerThanContextNamesTheLimit) {
  auto& s = shared_server();
  std::string text;
  for (int i = 0; i < 400; ++i) text += " word";
  auto r = s.post("/v1/completions", Json{{"prompt", text}, {"max_tokens", 1}});
  expect_openai_error(r, 400);
  const std::string msg = r.json["error"]["message"];
  EXPECT_NE(msg.find("context of 256 tokens"), std::string::npos) << msg;
  auto big = s.post("/v1/completions", Json{{"prompt", "x"}, {"max_tokens", 100000}});
  expect_openai_error(big, 400);
  EXPECT_EQ(big.json["error"]["param"], "max_tokens");
}

TEST(Routes, BodyOverTheLimitIs413) {
  auto& s = shared_server();
  std::string body = "{\"prompt\": \"" + std::string((size_t(8) << 20) + 100, 'a') + "\"}";
  auto r = s.post_raw("/v1/completions", body);
  expect_openai_error(r, 413);
  EXPECT_EQ(s.get("/health").status, 200);  // still serving
}

TEST(Routes, ApiKeyIsRequiredWhenSet) {
  TestServer s([](ServerOptions& o) { o.api_key = "sekrit"; }, false);
  expect_openai_error(s.post("/v1/completions", Json{{"prompt", "a"}, {"max_tokens", 1}}), 401);
  expect_openai_error(s.post("/v1/completions", Json{{"prompt", "a"}, {"max_tokens", 1}},
                             {{"Authorization", "Bearer wrong"}}),
                      401);
  auto ok = s.post("/v1/completions", Json{{"prompt", "a"}, {"max_tokens", 1}}, {{"Authorization", "Bearer sekrit"}});
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(s.get("/health").status, 200);  // public
  EXPECT_EQ(s.get("/").status, 200);
  EXPECT_EQ(s.get("/v1/models").status, 401);
}

TEST(Routes, CorsOnlyWhenAsked) {
  auto& s = shared_server();
  httplib::Client c("127.0.0.1", s.port());
  auto r = c.Get("/health", {{"Origin", "http://example.test"}});
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_header("Access-Control-Allow-Origin"));
  TestServer cs([](ServerOptions& o) { o.cors_origin = "http://example.test"; }, false);
  httplib::Client c2("127.0.0.1", cs.port());
  auto r2 = c2.Get("/health");
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->get_header_value("Access-Control-Allow-Origin"), "http://example.test");
  auto pre = c2.Options("/v1/completions");
  ASSERT_TRUE(pre);
  EXPECT_EQ(pre->status, 204);
}

TEST(Routes, TokenizeAndDetokenizeRoundTrip) {
  auto& s = shared_server();
  auto t = s.post("/tokenize", Json{{"content", "In the beginning"}, {"add_special", false}});
  ASSERT_EQ(t.status, 200) << t.body;
  const auto ids = t.json["tokens"].get<std::vector<int32_t>>();
  EXPECT_EQ(ids, s.engine().tokenizer.encode("In the beginning", {false, true}).ids);
  auto d = s.post("/detokenize", Json{{"tokens", ids}});
  ASSERT_EQ(d.status, 200);
  EXPECT_EQ(d.json["content"], "In the beginning");
  auto p = s.post("/tokenize", Json{{"content", "In the"}, {"with_pieces", true}});
  ASSERT_EQ(p.status, 200);
  ASSERT_TRUE(p.json["tokens"][0].is_object());
  EXPECT_TRUE(p.json["tokens"][1].contains("piece"));
  EXPECT_TRUE(p.json["tokens"][1].contains("offset"));
}

TEST(Routes, ScoreHasTheCliFieldsAndScorerValues) {
  auto& s = shared_server();
  const std::string text = "And God said, Let there be light: and there was light.";
  auto r = s.post("/v1/score", Json{{"text", text}, {"top", 3}});
  ASSERT_EQ(r.status, 200) << r.body;
  const Json& toks = r.json["tokens"];
  const auto ids = s.engine().tokenizer.encode(text, {true, false}).ids;
  ASSERT_EQ(toks.size(), ids.size() - 1);
  std::vector<ScoredToken> ref;
  ThreadPool pool(1);
  ScoreOptions so;
  so.top_k = 3;
  ASSERT_TRUE(score_sequence(*s.engine().model, ids, so, pool, [&](const ScoredToken& t) { ref.push_back(t); }).ok());
  for (size_t i = 0; i < toks.size(); ++i) {
    const Json& t = toks[i];
    for (const char* k : {"doc", "pos", "id", "token", "offset", "logprob", "rank", "entropy", "top"})
      EXPECT_TRUE(t.contains(k)) << k;
    EXPECT_EQ(t["pos"], ref[i].pos);
    EXPECT_NEAR(t["logprob"].get<double>(), ref[i].stats.logprob, 1e-6);
    EXPECT_EQ(t["rank"], ref[i].stats.rank);
    EXPECT_EQ(t["top"].size(), 3u);
  }
  const Json& sum = r.json["summary"];
  for (const char* k : {"tokens", "nll", "nll_sum", "ppl", "bytes", "bits_per_byte"}) EXPECT_TRUE(sum.contains(k)) << k;
  EXPECT_EQ(sum["tokens"], toks.size());
  EXPECT_EQ(sum["bytes"], text.size());
}

TEST(Routes, CompareOfAModelWithItselfHasZeroDivergence) {
  auto& s = shared_server();
  auto r = s.post("/v1/compare", Json{{"text", "The quick brown fox"}});
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_FALSE(r.json["tokens"].empty());
  for (const Json& t : r.json["tokens"]) {
    EXPECT_NEAR(t["kl"].get<double>(), 0.0, 1e-6);
    EXPECT_NEAR(t["log_ratio"].get<double>(), 0.0, 1e-6);
  }
  EXPECT_EQ(r.json["summary"]["ppl_a"], r.json["summary"]["ppl_b"]);
}

// The log line is written after the response has gone out, so the client can see the reply first: wait (bounded)
// until the server has logged that many lines.
std::vector<std::string> wait_for_log_lines(TestServer& s, size_t n) {
  for (int i = 0; i < 2000 && s.log_lines().size() < n; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  return s.log_lines();
}

TEST(Routes, LogLineHasMethodRouteStatusAndNoPromptText) {
  TestServer s(nullptr, false);
  s.post("/v1/completions", Json{{"prompt", "secret words"}, {"max_tokens", 2}});
  auto lines = wait_for_log_lines(s, 1);
  ASSERT_FALSE(lines.empty());
  const std::string& l = lines.back();
  EXPECT_NE(l.find("POST /v1/completions 200"), std::string::npos) << l;
  EXPECT_NE(l.find("tokens="), std::string::npos) << l;
  EXPECT_NE(l.find("ms="), std::string::npos) << l;
  EXPECT_EQ(l.find("secret"), std::string::npos) << l;
  TestServer lp([](ServerOptions& o) { o.log_prompts = true; }, false);
  lp.post("/v1/completions", Json{{"prompt", "secret words"}, {"max_tokens", 2}});
  auto lp_lines = wait_for_log_lines(lp, 1);
  ASSERT_FALSE(lp_lines.empty());
  EXPECT_NE(lp_lines.back().find("secret words"), std::string::npos);
}

TEST(Routes, PortInUseIsAnErrorNotASharedPort) {
  auto& s = shared_server();
  ServerModels m;
  m.main = &s.engine();
  m.main_name = "other";
  ServerOptions o;
  o.port = s.port();
  Server second(m, o);
  auto p = second.bind();
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find(std::to_string(s.port())), std::string::npos);
}

}  // namespace
}  // namespace ts::server::test
