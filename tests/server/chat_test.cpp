// /v1/chat/completions: messages through a chat template (ChatML given as --chat-template-file would give it),
// OpenAI's chat shapes with logprobs and top_logprobs, streaming, and the errors for a missing or raising template.
#include <gtest/gtest.h>

#include "server_test_util.h"

namespace ts::server::test {
namespace {

const char* const kChatML =
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + "
    "'\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

TestServer& chat_server() {
  static TestServer* s = new TestServer([](ServerOptions& o) { o.chat_template = kChatML; }, false);
  return *s;
}

Json hello() { return Json::array({Json{{"role", "user"}, {"content", "Say something."}}}); }

TEST(Chat, ResponseHasOpenAiShapeWithLogprobs) {
  auto& s = chat_server();
  auto r = s.post("/v1/chat/completions",
                  Json{{"messages", hello()}, {"max_tokens", 6}, {"logprobs", true}, {"top_logprobs", 3}, {"seed", 4}});
  ASSERT_EQ(r.status, 200) << r.body;
  for (const char* k : {"id", "object", "created", "model", "choices", "usage"}) ASSERT_TRUE(r.json.contains(k)) << k;
  EXPECT_EQ(r.json["object"], "chat.completion");
  EXPECT_EQ(r.json["id"].get<std::string>().rfind("chatcmpl-", 0), 0u);
  const Json& c = r.json["choices"][0];
  EXPECT_EQ(c["index"], 0);
  EXPECT_EQ(c["message"]["role"], "assistant");
  EXPECT_TRUE(c["finish_reason"] == "stop" || c["finish_reason"] == "length");
  const Json& content = c["logprobs"]["content"];
  ASSERT_TRUE(content.is_array());
  EXPECT_TRUE(c["logprobs"].contains("refusal"));
  std::string joined;
  for (const Json& e : content) {
    for (const char* k : {"token", "logprob", "bytes", "top_logprobs"}) ASSERT_TRUE(e.contains(k)) << k;
    EXPECT_LE(e["logprob"].get<double>(), 0.0);
    std::string bytes;
    for (const Json& b : e["bytes"]) bytes += static_cast<char>(b.get<int>());
    EXPECT_EQ(bytes, e["token"].get<std::string>());
    ASSERT_EQ(e["top_logprobs"].size(), 3u);
    for (const Json& t : e["top_logprobs"])
      for (const char* k : {"token", "logprob", "bytes"}) EXPECT_TRUE(t.contains(k)) << k;
    joined += e["token"].get<std::string>();
  }
  EXPECT_EQ(joined, c["message"]["content"]);
  // the prompt is the rendered template, tokenized with special tokens parsed
  const std::string rendered = "<|im_start|>user\nSay something.<|im_end|>\n<|im_start|>assistant\n";
  EXPECT_EQ(r.json["usage"]["prompt_tokens"], s.engine().tokenizer.encode(rendered, {false, true}).ids.size());
}

TEST(Chat, LogprobsOffGivesNull) {
  auto& s = chat_server();
  auto r = s.post("/v1/chat/completions", Json{{"messages", hello()}, {"max_tokens", 3}, {"n", 2}});
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(r.json["choices"].size(), 2u);
  EXPECT_TRUE(r.json["choices"][1]["logprobs"].is_null());
  EXPECT_EQ(r.json["choices"][1]["index"], 1);
}

TEST(Chat, StreamSendsRoleThenContentThenFinish) {
  auto& s = chat_server();
  Json body = {{"messages", hello()}, {"max_tokens", 8}, {"temperature", 0}, {"logprobs", true}, {"top_logprobs", 1}};
  auto whole = s.post("/v1/chat/completions", body);
  ASSERT_EQ(whole.status, 200);
  body["stream"] = true;
  auto r = s.post("/v1/chat/completions", body);
  ASSERT_EQ(r.status, 200);
  const auto events = sse_data(r.body);
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.back(), "[DONE]");
  Json first = Json::parse(events[0]);
  EXPECT_EQ(first["object"], "chat.completion.chunk");
  EXPECT_EQ(first["choices"][0]["delta"]["role"], "assistant");
  std::string text, finish;
  size_t n_lp = 0;
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    Json ch = Json::parse(events[i]);
    const Json& c = ch["choices"][0];
    if (c["delta"].contains("content")) text += c["delta"]["content"].get<std::string>();
    if (!c["logprobs"].is_null()) n_lp += c["logprobs"]["content"].size();
    if (!c["finish_reason"].is_null()) finish = c["finish_reason"];
  }
  EXPECT_EQ(text, whole.json["choices"][0]["message"]["content"]);
  EXPECT_EQ(n_lp, whole.json["choices"][0]["logprobs"]["content"].size());
  EXPECT_EQ(finish, whole.json["choices"][0]["finish_reason"]);
}

TEST(Chat, ModelWithoutTemplateIs400NamingTheKey) {
  auto& s = shared_server();  // the demo model carries no tokenizer.chat_template
  auto r = s.post("/v1/chat/completions", Json{{"messages", hello()}});
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.json["error"]["message"].get<std::string>().find("tokenizer.chat_template"), std::string::npos);
}

TEST(Chat, TemplateThatRaisesIs400WithItsMessage) {
  TestServer s([](ServerOptions& o) {
    o.chat_template = "{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}"
                      "{% endif %}{% for m in messages %}{{ m['content'] }}{% endfor %}";
  }, false);
  auto r = s.post("/v1/chat/completions",
                  Json{{"messages", Json::array({Json{{"role", "system"}, {"content", "be brief"}}})}});
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.json["error"]["message"].get<std::string>().find("System role not supported"), std::string::npos);
}

}  // namespace
}  // namespace ts::server::test
