// Chat prompts for /v1/chat/completions: the request's messages rendered with the model's chat template (GGUF key
// tokenizer.chat_template, or the server's --chat-template-file), with bos_token / eos_token and
// add_generation_prompt in the render context as Hugging Face's apply_chat_template sets them.
//
// Errors: 400 when there is no template (naming the missing key) or the template raises (its message); 501 while
// this build has no template interpreter (src/tokenizer/chat_template, issue 8 part 2).
#pragma once

#include <string>

#include "runtime/engine.h"
#include "server/api.h"

namespace ts::server {

struct ChatTemplate {
  std::string source;  // the Jinja text; empty: none
  std::string origin;  // where it came from, for messages
  std::string bos_token, eos_token;
};

// The template of `engine` (tokenizer.chat_template), unless `override_source` is non-empty.
ChatTemplate chat_template_of(const Engine& engine, const std::string& override_source,
                              const std::string& override_origin);

// The rendered prompt text.
Parsed<std::string> render_chat(const ChatTemplate& tmpl, const Json& messages, bool add_generation_prompt);

// Whether this build can render templates at all.
bool chat_templates_supported();

}  // namespace ts::server
