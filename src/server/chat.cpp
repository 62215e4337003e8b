// See chat.h for the contract; the interpreter is src/tokenizer/chat_template (ts::ChatTemplate).
#include "server/chat.h"

#include "tokenizer/chat_template/chat_template.h"

namespace ts::server {

ChatTemplate chat_template_of(const Engine& engine, const std::string& override_source,
                              const std::string& override_origin) {
  ChatTemplate t;
  const Tokenizer& tok = engine.tokenizer;
  if (tok.bos_id() >= 0) t.bos_token = tok.token_text(tok.bos_id());
  if (tok.eos_id() >= 0) t.eos_token = tok.token_text(tok.eos_id());
  if (!override_source.empty()) {
    t.source = override_source;
    t.origin = override_origin;
    return t;
  }
  t.source = engine.file->get_string_or("tokenizer.chat_template", "");
  t.origin = engine.file->path() + ": tokenizer.chat_template";
  return t;
}

bool chat_templates_supported() { return true; }

Parsed<std::string> render_chat(const ChatTemplate& tmpl, const Json& messages, bool add_generation_prompt) {
  if (tmpl.source.empty())
    return ApiError::bad("the model has no chat template (GGUF key 'tokenizer.chat_template' is missing); start the "
                         "server with --chat-template-file FILE, or use /v1/completions",
                         "messages");
  // A template that does not parse is the server's problem (its model or --chat-template-file), not the request's.
  auto program = ::ts::ChatTemplate::parse(tmpl.source);
  if (!program) return ApiError::internal(tmpl.origin + ": " + program.error().message);
  const Json context = chat_context(messages, add_generation_prompt, tmpl.bos_token, tmpl.eos_token);
  // The template's own raise_exception() rejects this conversation (e.g. "System role not supported"): a 400.
  auto text = program->render(context);
  if (!text) return ApiError::bad(text.error().message, "messages");
  return std::move(*text);
}

}  // namespace ts::server
