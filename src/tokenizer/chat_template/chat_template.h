// Chat templates: the Jinja2 programs GGUF files carry in `tokenizer.chat_template`, rendered exactly as HF
// transformers' apply_chat_template renders them (Jinja2 in an ImmutableSandboxedEnvironment with
// trim_blocks=True, lstrip_blocks=True, loopcontrols; globals raise_exception(msg) and strftime_now(fmt); a
// tojson filter that keeps non-ASCII text; the variables messages, tools, documents, add_generation_prompt and the
// special-token texts bos_token, eos_token, ...).
//
// Our own interpreter of the Jinja2 subset real templates use (src/tokenizer/chat_template/): no third-party
// engine. Any input gives a value or an Error::input naming the template line, never a crash or a hang: parse
// errors ("chat template line 3: unexpected 'endfor' ..."), the template's own raise_exception(message)
// ("chat template line 1: System role not supported"), and runaway templates (work, output, recursion limits).
#pragma once

#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "gguf/gguf.h"
#include "tokenizer/chat_template/evaluator.h"
#include "tokenscope/expected.h"

namespace ts {

struct ChatRenderOptions {
  std::optional<std::tm> now;  // what strftime_now() sees; default: the local time when render() runs
  jinja::RenderLimits limits;
};

// Immutable once parsed and cheap to copy; render() may run on several threads at once.
class ChatTemplate {
 public:
  // Parses the template and checks that every filter and test it names exists (Jinja2 does so when compiling).
  static Expected<ChatTemplate> parse(std::string_view source);

  // `context` is a JSON object whose keys become the template's variables (objects keep their key order, which
  // tojson output shows). The error of a raise_exception() call carries the template's message.
  Expected<std::string> render(const nlohmann::ordered_json& context, const ChatRenderOptions& opt = {}) const;

 private:
  std::shared_ptr<const jinja::Program> program_;
};

// HF's render variables: messages, tools and documents (none unless `extra` sets them), add_generation_prompt,
// bos_token / eos_token (left out when empty, as HF leaves out unset special tokens), then every key of `extra`
// (e.g. enable_thinking, tools).
nlohmann::ordered_json chat_context(const nlohmann::ordered_json& messages, bool add_generation_prompt,
                                    const std::string& bos_token, const std::string& eos_token,
                                    const nlohmann::ordered_json& extra = nlohmann::ordered_json::object());

struct GgufChatTemplate {
  std::string source;                // tokenizer.chat_template
  std::string bos_token, eos_token;  // tokenizer.ggml.tokens[bos_token_id / eos_token_id], "" when absent
};
// Errors name the file and the missing key ("model.gguf: key 'tokenizer.chat_template' not found").
Expected<GgufChatTemplate> chat_template_from_gguf(const gguf::File& file);

// Renders the GGUF's own template over `messages` (a JSON array of {"role", "content", ...} objects).
Expected<std::string> render_chat(const gguf::File& file, const nlohmann::ordered_json& messages,
                                  bool add_generation_prompt,
                                  const nlohmann::ordered_json& extra = nlohmann::ordered_json::object(),
                                  const ChatRenderOptions& opt = {});

}  // namespace ts
