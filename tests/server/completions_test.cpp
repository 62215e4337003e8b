// /v1/completions: OpenAI's legacy shape exactly, echo prompt logprobs against score_sequence, n > 1, stop strings,
// SSE streaming, parallel requests, and a client that disconnects mid-stream.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <thread>

#include "runtime/scorer.h"
#include "server_test_util.h"

namespace ts::server::test {
namespace {

const char* const kTexts[] = {
    "In the beginning God created the heaven and the earth.",
    "The hacker's ethic holds that information wants to be free, and so do the machines.",
    "A fortune: you will be hungry again in one hour.",
};

std::vector<ScoredToken> reference_scores(const Engine& e, const std::string& text) {
  const auto ids = e.tokenizer.encode(text).ids;
  std::vector<ScoredToken> out;
  ThreadPool pool(1);
  ScoreOptions so;
  so.top_k = 5;
  EXPECT_TRUE(score_sequence(*e.model, ids, so, pool, [&](const ScoredToken& t) { out.push_back(t); }).ok());
  return out;
}

void expect_legacy_shape(const Json& r, size_t n_choices) {
  for (const char* k : {"id", "object", "created", "model", "choices", "usage"}) ASSERT_TRUE(r.contains(k)) << k;
  EXPECT_EQ(r["object"], "text_completion");
  EXPECT_TRUE(r["id"].get<std::string>().rfind("cmpl-", 0) == 0);
  ASSERT_EQ(r["choices"].size(), n_choices);
  for (size_t i = 0; i < n_choices; ++i) {
    const Json& c = r["choices"][i];
    for (const char* k : {"text", "index", "logprobs", "finish_reason"}) ASSERT_TRUE(c.contains(k)) << k;
    EXPECT_EQ(c["index"], i);
    EXPECT_TRUE(c["finish_reason"] == "stop" || c["finish_reason"] == "length");
  }
  for (const char* k : {"prompt_tokens", "completion_tokens", "total_tokens"}) EXPECT_TRUE(r["usage"][k].is_number());
}

void expect_logprobs_shape(const Json& lp, int k) {
  ASSERT_TRUE(lp.is_object());
  const size_t n = lp["tokens"].size();
  EXPECT_EQ(lp["token_logprobs"].size(), n);
  EXPECT_EQ(lp["top_logprobs"].size(), n);
  EXPECT_EQ(lp["text_offset"].size(), n);
  int64_t prev = 0;
  for (size_t i = 0; i < n; ++i) {
    EXPECT_TRUE(lp["tokens"][i].is_string());
    const int64_t off = lp["text_offset"][i];
    EXPECT_GE(off, prev);
    prev = off;
    if (lp["token_logprobs"][i].is_null()) {
      EXPECT_TRUE(lp["top_logprobs"][i].is_null());
      continue;
    }
    const Json& top = lp["top_logprobs"][i];
    ASSERT_TRUE(top.is_object());
    EXPECT_LE(top.size(), static_cast<size_t>(k) + 1);
    EXPECT_TRUE(top.contains(lp["tokens"][i].get<std::string>())) << "the chosen token is always listed";
    EXPECT_LE(lp["token_logprobs"][i].get<double>(), 0.0);
  }
}

TEST(Completions, EchoPromptLogprobsEqualTheScorer) {
  auto& s = shared_server();
  for (const char* text : kTexts) {
    auto r = s.post("/v1/completions", Json{{"prompt", text}, {"max_tokens", 0}, {"echo", true}, {"logprobs", 5}});
    ASSERT_EQ(r.status, 200) << r.body;
    expect_legacy_shape(r.json, 1);
    const Json& c = r.json["choices"][0];
    EXPECT_EQ(c["text"], text);
    const Json& lp = c["logprobs"];
    expect_logprobs_shape(lp, 5);
    const auto ref = reference_scores(s.engine(), text);
    ASSERT_EQ(lp["token_logprobs"].size(), ref.size() + 1);
    EXPECT_TRUE(lp["token_logprobs"][0].is_null());
    for (size_t i = 0; i < ref.size(); ++i)
      EXPECT_NEAR(lp["token_logprobs"][i + 1].get<double>(), ref[i].stats.logprob, 1e-4) << text << " pos " << i + 1;
    EXPECT_EQ(r.json["usage"]["completion_tokens"], 0);
    EXPECT_EQ(r.json["usage"]["prompt_tokens"], ref.size() + 1);
  }
}

TEST(Completions, TokenIdPromptsAreScoredAsGiven) {
  auto& s = shared_server();
  const auto ids = s.engine().tokenizer.encode(kTexts[0], {false, false}).ids;
  auto r = s.post("/v1/completions",
                  Json{{"prompt", Json::array({ids, ids})}, {"max_tokens", 0}, {"echo", true}, {"logprobs", 0}});
  ASSERT_EQ(r.status, 200) << r.body;
  expect_legacy_shape(r.json, 2);
  const Json& lp = r.json["choices"][1]["logprobs"];
  EXPECT_EQ(lp["tokens"].size(), ids.size());
  EXPECT_EQ(r.json["choices"][1]["text"], kTexts[0]);
  EXPECT_EQ(r.json["usage"]["prompt_tokens"], 2 * ids.size());
}

TEST(Completions, GeneratedLogprobsHaveOpenAiShapeAndExtension) {
  auto& s = shared_server();
  auto r = s.post("/v1/completions", Json{{"prompt", "The"},
                                          {"max_tokens", 6},
                                          {"logprobs", 3},
                                          {"seed", 11},
                                          {"tokenscope", Json{{"entropy", true}, {"rank", true}, {"processed", true}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  expect_legacy_shape(r.json, 1);
  const Json& lp = r.json["choices"][0]["logprobs"];
  expect_logprobs_shape(lp, 3);
  const Json& ext = lp["tokenscope"];
  ASSERT_EQ(ext["ids"].size(), lp["tokens"].size());
  ASSERT_EQ(ext["rank"].size(), lp["tokens"].size());
  ASSERT_EQ(ext["entropy"].size(), lp["tokens"].size());
  ASSERT_EQ(ext["processed"].size(), lp["tokens"].size());
  for (const Json& p : ext["processed"])
    for (const char* k : {"p_logprob", "kept", "p_entropy", "changed", "p_top"}) EXPECT_TRUE(p.contains(k)) << k;
  std::string joined;
  for (const Json& t : lp["tokens"]) joined += t.get<std::string>();
  EXPECT_EQ(joined, r.json["choices"][0]["text"]);
}

TEST(Completions, SameSeedSameText) {
  auto& s = shared_server();
  Json body = {{"prompt", "And the earth"}, {"max_tokens", 12}, {"seed", 42}, {"temperature", 0.9}};
  auto a = s.post("/v1/completions", body);
  auto b = s.post("/v1/completions", body);
  ASSERT_EQ(a.status, 200);
  EXPECT_EQ(a.json["choices"][0]["text"], b.json["choices"][0]["text"]);
}

TEST(Completions, SeveralChoicesPerPrompt) {
  auto& s = shared_server();
  auto r = s.post("/v1/completions", Json{{"prompt", Json::array({"One", "Two"})},
                                          {"n", 3},
                                          {"max_tokens", 5},
                                          {"seed", 5},
                                          {"logprobs", 1},
                                          {"echo", true}});
  ASSERT_EQ(r.status, 200) << r.body;
  expect_legacy_shape(r.json, 6);
  for (int i = 0; i < 6; ++i) {
    const Json& c = r.json["choices"][i];
    const std::string prompt = i < 3 ? "One" : "Two";
    EXPECT_EQ(c["text"].get<std::string>().rfind(prompt, 0), 0u) << "echo puts the prompt first";
    EXPECT_TRUE(c["logprobs"]["token_logprobs"][0].is_null());
    EXPECT_FALSE(c["logprobs"]["token_logprobs"][1].is_null()) << "every choice gets the prompt's logprobs";
  }
  // distinct choices of one prompt draw from different streams
  EXPECT_FALSE(r.json["choices"][0]["text"] == r.json["choices"][1]["text"] &&
               r.json["choices"][1]["text"] == r.json["choices"][2]["text"]);
}

TEST(Completions, StopStringCutsTheText) {
  auto& s = shared_server();
  Json body = {{"prompt", "In the beginning"}, {"max_tokens", 24}, {"temperature", 0}, {"logprobs", 0}};
  auto full = s.post("/v1/completions", body);
  ASSERT_EQ(full.status, 200);
  const std::string text = full.json["choices"][0]["text"];
  ASSERT_GE(text.size(), 8u) << text;
  const std::string stop = text.substr(4, 3);
  const size_t cut = text.find(stop);
  body["stop"] = Json::array({stop, "never-appears"});
  auto r = s.post("/v1/completions", body);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.json["choices"][0]["text"], text.substr(0, cut));
  EXPECT_EQ(r.json["choices"][0]["finish_reason"], "stop");
  std::string joined;
  for (const Json& t : r.json["choices"][0]["logprobs"]["tokens"]) joined += t.get<std::string>();
  EXPECT_GE(joined.size(), cut);
  EXPECT_EQ(joined.substr(0, cut), text.substr(0, cut));
}

TEST(Completions, StreamIsServerSentEventsEndingWithDone) {
  auto& s = shared_server();
  Json body = {{"prompt", "In the beginning"}, {"max_tokens", 10}, {"temperature", 0}, {"logprobs", 2},
               {"echo", true}, {"stream_options", Json{{"include_usage", true}}}};
  auto whole = s.post("/v1/completions", body);
  body["stream"] = true;
  httplib::Client c("127.0.0.1", s.port());
  auto r = c.Post("/v1/completions", body.dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->get_header_value("Content-Type").find("text/event-stream"), std::string::npos);
  const auto events = sse_data(r->body);
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.back(), "[DONE]");
  std::string text;
  std::vector<double> lps;
  std::string finish;
  bool usage = false;
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    Json ch = Json::parse(events[i]);
    EXPECT_EQ(ch["object"], "text_completion");
    if (ch["choices"].empty()) {
      usage = ch.contains("usage");
      continue;
    }
    const Json& c0 = ch["choices"][0];
    text += c0["text"].get<std::string>();
    if (!c0["logprobs"].is_null())
      for (const Json& x : c0["logprobs"]["token_logprobs"]) lps.push_back(x.is_null() ? 1.0 : x.get<double>());
    if (!c0["finish_reason"].is_null()) finish = c0["finish_reason"];
  }
  EXPECT_TRUE(usage);
  EXPECT_EQ(text, whole.json["choices"][0]["text"]);
  EXPECT_EQ(finish, whole.json["choices"][0]["finish_reason"]);
  const Json& wl = whole.json["choices"][0]["logprobs"]["token_logprobs"];
  ASSERT_EQ(lps.size(), wl.size());
  for (size_t i = 1; i < lps.size(); ++i) EXPECT_NEAR(lps[i], wl[i].get<double>(), 1e-9);
}

TEST(Completions, ParallelRequestsGiveTheSameTextAsAlone) {
  auto& s = shared_server();
  const char* prompts[] = {"In the", "And God", "The hacker", "A fortune", "Love is", "When the"};
  std::vector<std::string> alone;
  for (const char* p : prompts) {
    auto r = s.post("/v1/completions", Json{{"prompt", p}, {"max_tokens", 12}, {"temperature", 0}});
    ASSERT_EQ(r.status, 200);
    alone.push_back(r.json["choices"][0]["text"]);
  }
  std::vector<std::string> together(std::size(prompts));
  std::vector<std::thread> threads;
  for (size_t i = 0; i < std::size(prompts); ++i)
    threads.emplace_back([&, i] {
      auto r = s.post("/v1/completions", Json{{"prompt", prompts[i]}, {"max_tokens", 12}, {"temperature", 0}});
      if (r.status == 200) together[i] = r.json["choices"][0]["text"];
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(together, alone);
}

// Sends a streaming request on a raw socket, reads until the first event arrives, and hangs up.
void stream_and_hang_up(int port, const std::string& body) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  const std::string req = "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  ASSERT_EQ(send(fd, req.data(), req.size(), 0), static_cast<ssize_t>(req.size()));
  char buf[4096];
  std::string got;
  while (got.find("data: ") == std::string::npos) {
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    ASSERT_GT(n, 0);
    got.append(buf, static_cast<size_t>(n));
  }
  close(fd);
}

// Polls /health until nothing is running or queued; returns the count of cancelled tasks.
int64_t cancelled_when_idle(const TestServer& s) {
  for (int i = 0; i < 100000; ++i) {
    auto h = s.get("/health");
    if (h.status != 200) return -1;
    if (h.json["active"].get<int>() + h.json["queued"].get<int>() == 0) return h.json["cancelled"].get<int64_t>();
    std::this_thread::yield();
  }
  return -1;
}

TEST(Completions, ClientThatHangsUpCancelsItsSequence) {
  TestServer s(nullptr, false);
  // 16 choices of 250 tokens: far more work than the moment it takes to notice the hang-up
  stream_and_hang_up(s.port(), R"({"prompt": "In the", "max_tokens": 250, "n": 16, "stream": true,
                                   "tokenscope": {"ignore_eos": true}})");
  EXPECT_EQ(cancelled_when_idle(s), 1);
  EXPECT_EQ(s.post("/v1/completions", Json{{"prompt", "x"}, {"max_tokens", 2}}).status, 200);
}

TEST(Completions, ClientThatHangsUpBeforeAWholeResponseCancelsIt) {
  TestServer s(nullptr, false);
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(s.port()));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  const std::string body = R"({"prompt": "In the", "max_tokens": 250, "n": 16, "tokenscope": {"ignore_eos": true}})";
  const std::string req = "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  ASSERT_EQ(send(fd, req.data(), req.size(), 0), static_cast<ssize_t>(req.size()));
  // wait until the server has the task, then hang up without reading
  for (int i = 0; i < 100000; ++i) {
    auto h = s.get("/health");
    if (h.json["active"].get<int>() > 0) break;
    std::this_thread::yield();
  }
  close(fd);
  EXPECT_EQ(cancelled_when_idle(s), 1);
}

}  // namespace
}  // namespace ts::server::test
