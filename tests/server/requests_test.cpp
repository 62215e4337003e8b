// Request parsing and the text assembler: no model, no sockets.
#include <gtest/gtest.h>

#include "server/api.h"
#include "server/requests.h"
#include "server/text_stream.h"

namespace ts::server {
namespace {

Json j(const char* text) { return Json::parse(text); }

TEST(ParseBody, RejectsMalformedJsonWithPosition) {
  auto r = parse_body("{\"prompt\": ");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().status, 400);
  EXPECT_NE(r.error().message.find("not valid JSON"), std::string::npos) << r.error().message;
}

TEST(ParseBody, RejectsDeepNestingBeforeParsing) {
  std::string deep(10000, '[');
  auto r = parse_body("{\"a\":" + deep);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("nested deeper"), std::string::npos);
}

TEST(ParseBody, RejectsNonObjectsAndInvalidUtf8) {
  EXPECT_FALSE(parse_body("[1,2]").ok());
  EXPECT_FALSE(parse_body("{\"prompt\": \"\xff\xfe\"}").ok());
  EXPECT_TRUE(parse_body("{\"prompt\": \"caf\xc3\xa9\"}").ok());
}

TEST(ParseCompletion, AcceptsTheFourPromptShapes) {
  auto a = parse_completion(j(R"({"prompt": "hi"})"));
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->prompts[0].is_ids);
  auto b = parse_completion(j(R"({"prompt": ["a", "b"]})"));
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->prompts.size(), 2u);
  auto c = parse_completion(j(R"({"prompt": [1, 2, 3]})"));
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->prompts.size(), 1u);
  EXPECT_EQ(c->prompts[0].ids, (std::vector<int32_t>{1, 2, 3}));
  auto d = parse_completion(j(R"({"prompt": [[1, 2], [3]]})"));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->prompts.size(), 2u);
  EXPECT_TRUE(d->prompts[1].is_ids);
}

TEST(ParseCompletion, NamesTheFieldOfAWrongType) {
  auto r = parse_completion(j(R"({"prompt": "x", "max_tokens": "ten"})"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().param, "max_tokens");
  EXPECT_NE(r.error().message.find("expected an integer, got string"), std::string::npos) << r.error().message;
}

TEST(ParseCompletion, RejectsOutOfRangeValues) {
  for (const char* body : {R"({"prompt": "x", "max_tokens": -1})", R"({"prompt": "x", "temperature": 2.5})",
                           R"({"prompt": "x", "top_p": 1.5})", R"({"prompt": "x", "logprobs": 101})",
                           R"({"prompt": "x", "n": 0})", R"({"prompt": "x", "n": 17})",
                           R"({"prompt": "x", "max_tokens": 99999999999})", R"({"prompt": [-1]})",
                           R"({"prompt": []})", R"({"prompt": 5})", R"({"prompt": "x", "stop": ["a","b","c","d","e"]})",
                           R"({"prompt": "x", "logit_bias": {"abc": 1}})", R"({"max_tokens": 3})"}) {
    auto r = parse_completion(j(body));
    EXPECT_FALSE(r.ok()) << body;
    if (!r.ok()) {
      EXPECT_EQ(r.error().status, 400) << body;
    }
  }
}

TEST(ParseCompletion, ReadsLogprobsEchoStopAndExtension) {
  auto r = parse_completion(j(R"({"prompt": "x", "logprobs": 3, "echo": true, "stop": "\n", "seed": 7,
      "tokenscope": {"entropy": true, "rank": true, "samplers": "greedy"}})"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->logprobs, 3);
  EXPECT_TRUE(r->echo);
  EXPECT_EQ(r->s.stop, (std::vector<std::string>{"\n"}));
  EXPECT_EQ(*r->s.seed, 7u);
  EXPECT_TRUE(r->s.ext.entropy && r->s.ext.rank);
  EXPECT_EQ(r->s.ext.samplers, "greedy");
}

TEST(ParseChat, TopLogprobsNeedsLogprobs) {
  auto r = parse_chat(j(R"({"messages": [{"role": "user", "content": "hi"}], "top_logprobs": 2})"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().param, "top_logprobs");
  auto ok = parse_chat(j(R"({"messages": [{"role": "user", "content": [{"type": "text", "text": "a"},
      {"type": "text", "text": "b"}]}], "logprobs": true, "top_logprobs": 2})"));
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->messages[0]["content"], "ab");
  EXPECT_FALSE(parse_chat(j(R"({"messages": []})")).ok());
  EXPECT_FALSE(parse_chat(j(R"({"messages": [{"content": "no role"}]})")).ok());
}

TEST(BuildChain, MapsOpenAiFieldsInHuggingFaceOrder) {
  SamplingFields s;
  s.temperature = 0.5;
  s.top_p = 0.9;
  auto c = build_chain(s);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->spec(), "temp=0.5;top_p=0.9;dist");
  s.temperature = 0;
  EXPECT_EQ(build_chain(s)->spec(), "greedy");
  SamplingFields d;
  EXPECT_EQ(build_chain(d)->spec(), "dist");
}

TEST(BuildChain, SamplersExtensionExcludesOpenAiFields) {
  SamplingFields s;
  s.ext.samplers = "top_k=5;temp=0.7";
  ASSERT_TRUE(build_chain(s).ok());
  s.temperature = 0.3;
  EXPECT_FALSE(build_chain(s).ok());
  SamplingFields bad;
  bad.ext.samplers = "top_k=nope";
  auto r = build_chain(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().param, "tokenscope.samplers");
}

TEST(TextAssembler, CutsAtTheStopStringAndDropsTokensInsideIt) {
  TextAssembler t({"END"});
  EXPECT_FALSE(t.add("Hello"));
  EXPECT_FALSE(t.add(" wor"));
  EXPECT_FALSE(t.add("ldE"));
  EXPECT_TRUE(t.add("ND more"));
  EXPECT_EQ(t.text(), "Hello world");
  EXPECT_EQ(t.token_count(), 3u);  // "ND more" starts inside the stop string
}

TEST(TextAssembler, HoldsBackAPossibleStopPrefixWhileStreaming) {
  TextAssembler t({"###"});
  t.add("a");
  auto r1 = t.release(false);
  EXPECT_EQ(r1.text, "a");
  t.add("#");
  auto r2 = t.release(false);
  EXPECT_EQ(r2.text, "");  // might be the start of ###
  EXPECT_EQ(r2.end_token, 1u);
  t.add("b");
  auto r3 = t.release(false);
  EXPECT_EQ(r3.text, "#b");
  EXPECT_EQ(r3.first_token, 1u);
  EXPECT_EQ(r3.end_token, 3u);
}

TEST(TextAssembler, HoldsBackIncompleteUtf8) {
  TextAssembler t;
  t.add("caf\xc3");
  EXPECT_EQ(t.release(false).text, "");
  t.add("\xa9!");
  EXPECT_EQ(t.release(false).text, "caf\xc3\xa9!");
  t.add("\xe2\x82");
  EXPECT_EQ(t.release(false).text, "");
  EXPECT_EQ(t.release(true).text, "\xe2\x82");  // the end releases everything
}

TEST(Utf8, CompletePrefixAndCodePointOffsets) {
  EXPECT_EQ(complete_utf8_prefix("ab"), 2u);
  EXPECT_EQ(complete_utf8_prefix("a\xc3"), 1u);
  EXPECT_EQ(complete_utf8_prefix("a\xf0\x9f\x98"), 1u);
  EXPECT_EQ(complete_utf8_prefix("a\xf0\x9f\x98\x80"), 5u);
  EXPECT_EQ(char_offset("caf\xc3\xa9 x", 6), 5);
}

TEST(ApiError, HasOpenAiShape) {
  Json e = error_json(ApiError::bad("bad value", "n"));
  ASSERT_TRUE(e.contains("error"));
  EXPECT_EQ(e["error"]["message"], "bad value");
  EXPECT_EQ(e["error"]["type"], "invalid_request_error");
  EXPECT_EQ(e["error"]["param"], "n");
  EXPECT_TRUE(e["error"]["code"].is_null());
}

}  // namespace
}  // namespace ts::server
