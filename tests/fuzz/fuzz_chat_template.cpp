// libFuzzer target: the chat-template interpreter (src/tokenizer/chat_template/) on arbitrary template text.
// ChatTemplate::parse, then — when it parses — render over a fixed conversation (system, user, assistant, user; a
// tool list for templates that read one) with and without the generation prompt, under limits small enough that one
// input takes milliseconds. The contract (chat_template.h): any input gives a value or an Error naming the template
// line, never a crash, a hang, a sanitizer report or an escaping exception. The output must respect the limit.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <string_view>

#include "tokenizer/chat_template/chat_template.h"

namespace {

using ojson = nlohmann::ordered_json;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_chat_template: invariant broken: %s\n", what);
  std::abort();
}

const ojson& conversation() {
  static const ojson m = ojson::array({
      {{"role", "system"}, {"content", "You are terse."}},
      {{"role", "user"}, {"content", "Hello \xC3\xA9 <b>\n  there"}},
      {{"role", "assistant"}, {"content", "Hi."}},
      {{"role", "user"}, {"content", ""}},
  });
  return m;
}

const ojson& extra() {
  static const ojson x = {
      {"tools", ojson::array({{{"type", "function"},
                               {"function", {{"name", "add"}, {"parameters", {{"a", 1}, {"b", nullptr}}}}}}})},
      {"enable_thinking", false}};
  return x;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;  // real templates are a few KB; longer inputs only slow the search
  const std::string_view source(reinterpret_cast<const char*>(data), size);
  auto tpl = ts::ChatTemplate::parse(source);
  if (!tpl) {
    if (tpl.error().message.empty()) fail("a parse error without a message");
    return 0;
  }
  ts::ChatRenderOptions opt;
  std::tm now{};
  now.tm_year = 124;
  now.tm_mon = 6;
  now.tm_mday = 26;
  opt.now = now;
  opt.limits.max_output_bytes = 1 << 16;
  opt.limits.max_steps = 20000;
  for (bool gen : {false, true}) {
    auto out = tpl->render(ts::chat_context(conversation(), gen, "<s>", "</s>", gen ? extra() : ojson::object()), opt);
    if (out && out->size() > opt.limits.max_output_bytes) fail("output over the limit");
    if (!out && out.error().message.empty()) fail("a render error without a message");
  }
  return 0;
}
