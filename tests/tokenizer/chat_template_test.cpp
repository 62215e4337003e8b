// Chat templates, golden: the ten real templates in ../shared/fixtures/chat-templates/ rendered over four
// conversations, with and without the generation prompt, must equal Jinja2's rendering (expected.json, made the way
// HF's apply_chat_template renders) byte for byte; where Jinja2 raised, we must raise with the template's message.
// Also: the template a GGUF carries is found and rendered with its own BOS/EOS texts.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "fixtures.h"
#include "gguf/gguf.h"
#include "tokenizer/chat_template/chat_template.h"

namespace ts {
namespace {

using Json = nlohmann::ordered_json;

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The clock expected.json was rendered with: strftime_now() fixed at 2026-01-15 12:00 (a Thursday).
ChatRenderOptions fixture_clock() {
  std::tm t{};
  t.tm_year = 2026 - 1900;
  t.tm_mon = 0;
  t.tm_mday = 15;
  t.tm_hour = 12;
  t.tm_wday = 4;
  t.tm_yday = 14;
  ChatRenderOptions o;
  o.now = t;
  return o;
}

// First differing byte, with some context, for a readable failure.
std::string first_difference(const std::string& want, const std::string& got) {
  size_t i = 0;
  while (i < want.size() && i < got.size() && want[i] == got[i]) ++i;
  const size_t from = i > 40 ? i - 40 : 0;
  return "first difference at byte " + std::to_string(i) + "\n  want: " + Json(want.substr(from, 120)).dump() +
         "\n  got:  " + Json(got.substr(from, 120)).dump();
}

TEST(ChatTemplateGolden, AllTenTemplatesRenderEveryCaseExactlyAsJinja2) {
  TS_REQUIRE_FIXTURE(expected_path, "chat-templates/expected.json");
  const std::string dir = expected_path.substr(0, expected_path.rfind('/') + 1);
  const Json expected = Json::parse(read_all(expected_path));
  const Json& cases = expected["cases"];
  ASSERT_EQ(cases.size(), 80u);

  std::map<std::string, ChatTemplate> templates;
  int matched = 0, raised = 0;
  for (const Json& c : cases) {
    const std::string name = c["template"];
    SCOPED_TRACE(name + " conversation " + c["conversation"].dump() + " add_generation_prompt=" +
                 c["add_generation_prompt"].dump());
    if (!templates.count(name)) {
      auto t = ChatTemplate::parse(read_all(dir + name));
      ASSERT_TRUE(t.ok()) << t.error().message;
      templates.emplace(name, std::move(*t));
    }
    const Json ctx = chat_context(c["messages"], c["add_generation_prompt"].get<bool>(), c["bos_token"],
                                  c["eos_token"]);
    auto out = templates.at(name).render(ctx, fixture_clock());
    if (c.contains("expected")) {
      ASSERT_TRUE(out.ok()) << out.error().message;
      const std::string want = c["expected"];
      EXPECT_EQ(*out, want) << first_difference(want, *out);
      matched += *out == want;
    } else {
      ASSERT_FALSE(out.ok()) << "rendered instead of raising: " << *out;
      std::string msg = c["error"];
      if (msg.rfind("Raised: ", 0) == 0) msg = msg.substr(8);  // the fixture's prefix for raise_exception()
      EXPECT_NE(out.error().message.find(msg), std::string::npos) << out.error().message;
      EXPECT_EQ(out.error().kind, Error::Kind::kInput);
      matched += out.error().message.find(msg) != std::string::npos;
      ++raised;
    }
  }
  EXPECT_EQ(templates.size(), 10u);
  EXPECT_EQ(raised, 4);  // Gemma-2 refuses the system message in two conversations, with and without the prompt
  EXPECT_EQ(matched, 80);
  std::printf("[ chat-templates ] %d of %zu renderings match expected.json\n", matched, cases.size());
}

std::string smollm2_like_template() {
  return "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
         "{{ '<|im_start|>system\nYou are helpful<|im_end|>\n' }}{% endif %}"
         "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}{% endfor %}"
         "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}{{ bos_token }}|{{ eos_token }}";
}

gguf::Writer vocab_with_template(bool with_template) {
  gguf::Writer w;
  w.add_string("general.architecture", "llama");
  w.add_string("tokenizer.ggml.model", "gpt2");
  w.add_string_array("tokenizer.ggml.tokens", {"<|endoftext|>", "<|im_start|>", "<|im_end|>", "a"});
  w.add_u32("tokenizer.ggml.bos_token_id", 1);
  w.add_u32("tokenizer.ggml.eos_token_id", 2);
  if (with_template) w.add_string("tokenizer.chat_template", smollm2_like_template());
  return w;
}

TEST(ChatTemplateGguf, RendersTheFilesOwnTemplateWithItsBosAndEosTexts) {
  auto f = gguf::File::from_bytes(vocab_with_template(true).to_bytes(), "chat.gguf");
  ASSERT_TRUE(f.ok()) << f.error().message;
  auto src = chat_template_from_gguf(*f);
  ASSERT_TRUE(src.ok()) << src.error().message;
  EXPECT_EQ(src->bos_token, "<|im_start|>");
  EXPECT_EQ(src->eos_token, "<|im_end|>");
  const Json messages = Json::parse(R"([{"role": "user", "content": "Hi"}])");
  auto out = render_chat(*f, messages, true);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(*out,
            "<|im_start|>system\nYou are helpful<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
            "<|im_start|>assistant\n<|im_start|>|<|im_end|>");
}

TEST(ChatTemplateGguf, AModelWithoutATemplateIsAnErrorNamingTheKey) {
  auto f = gguf::File::from_bytes(vocab_with_template(false).to_bytes(), "plain.gguf");
  ASSERT_TRUE(f.ok()) << f.error().message;
  auto out = render_chat(*f, Json::array(), false);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().message.find("plain.gguf"), std::string::npos) << out.error().message;
  EXPECT_NE(out.error().message.find("tokenizer.chat_template"), std::string::npos) << out.error().message;
}

TEST(ChatTemplateGguf, ContextCarriesHfVariablesAndExtras) {
  const Json ctx = chat_context(Json::array(), true, "<s>", "", Json::parse(R"({"enable_thinking": false})"));
  EXPECT_TRUE(ctx["tools"].is_null());
  EXPECT_TRUE(ctx["documents"].is_null());
  EXPECT_EQ(ctx["add_generation_prompt"], true);
  EXPECT_EQ(ctx["bos_token"], "<s>");
  EXPECT_FALSE(ctx.contains("eos_token"));  // an absent special token is undefined, as in HF
  EXPECT_EQ(ctx["enable_thinking"], false);
}

}  // namespace
}  // namespace ts
