// Chat templates: parsing, rendering, and reading a GGUF's template (see chat_template.h).
#include "tokenizer/chat_template/chat_template.h"

#include "tokenizer/chat_template/builtins.h"
#include "tokenizer/chat_template/parser.h"

namespace ts {

namespace {

std::string located(const jinja::Error& e) {
  return "chat template line " + std::to_string(e.line > 0 ? e.line : 1) + ": " + e.what();
}

// Jinja2 rejects an unknown filter or test when it compiles the template, except inside an if-block or an inline
// `a if c else b` (a "soft" frame), where it only fails when evaluated; for-loop, macro and other block bodies
// start a new, strict frame even inside an if.
void check_names(const jinja::Expr* e, bool soft) {
  if (!e) return;
  if (e->kind == jinja::Expr::Kind::kCond) soft = true;
  if (!soft && e->kind == jinja::Expr::Kind::kFilter && !jinja::find_filter(e->name)) {
    throw jinja::Error("no filter named '" + e->name + "'", e->line);
  }
  if (!soft && e->kind == jinja::Expr::Kind::kTest && !jinja::find_test(e->name)) {
    throw jinja::Error("no test named '" + e->name + "'", e->line);
  }
  for (const auto& a : e->args) check_names(a.get(), soft);
  for (const auto& [k, a] : e->kwargs) check_names(a.get(), soft);
}

void check_names(const jinja::Body& body, bool soft) {
  for (const auto& s : body) {
    check_names(s->expr.get(), soft);
    for (const auto& [c, b] : s->branches) {
      check_names(c.get(), true);
      check_names(b, true);
    }
    const bool inner_soft = s->kind == jinja::Stmt::Kind::kScope ? soft : false;
    check_names(s->cond.get(), inner_soft);
    for (const auto& d : s->defaults) check_names(d.get(), s->kind == jinja::Stmt::Kind::kWith ? soft : false);
    check_names(s->body, inner_soft);
    check_names(s->else_body, inner_soft);
  }
}

std::tm local_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  return tm;
}

}  // namespace

Expected<ChatTemplate> ChatTemplate::parse(std::string_view source) {
  try {
    std::shared_ptr<const jinja::Program> p = jinja::parse(source);
    check_names(p->body, false);
    ChatTemplate t;
    t.program_ = std::move(p);
    return t;
  } catch (const jinja::Error& e) {
    return Error::input(located(e));
  } catch (const std::bad_alloc&) {
    return Error::input("chat template: out of memory while parsing");
  }
}

Expected<std::string> ChatTemplate::render(const nlohmann::ordered_json& context, const ChatRenderOptions& opt) const {
  if (!program_) return Error::internal("chat template: render() on a template that was not parsed");
  if (!context.is_object()) return Error::input("chat template: the render context must be a JSON object");
  try {
    jinja::Items vars;
    for (auto it = context.begin(); it != context.end(); ++it) vars.emplace_back(it.key(), jinja::from_json(it.value()));
    jinja::Interp interp(opt.limits, opt.now ? *opt.now : local_now());
    return interp.render(*program_, vars);
  } catch (const jinja::Error& e) {
    return Error::input(located(e));
  } catch (const std::bad_alloc&) {
    return Error::input("chat template: out of memory while rendering");
  }
}

nlohmann::ordered_json chat_context(const nlohmann::ordered_json& messages, bool add_generation_prompt,
                                    const std::string& bos_token, const std::string& eos_token,
                                    const nlohmann::ordered_json& extra) {
  nlohmann::ordered_json c = nlohmann::ordered_json::object();
  c["messages"] = messages;
  c["tools"] = nullptr;
  c["documents"] = nullptr;
  c["add_generation_prompt"] = add_generation_prompt;
  if (!bos_token.empty()) c["bos_token"] = bos_token;
  if (!eos_token.empty()) c["eos_token"] = eos_token;
  if (extra.is_object()) {
    for (auto it = extra.begin(); it != extra.end(); ++it) c[it.key()] = it.value();
  }
  return c;
}

Expected<GgufChatTemplate> chat_template_from_gguf(const gguf::File& file) {
  GgufChatTemplate t;
  if (!file.find("tokenizer.chat_template")) {
    return Error::input(file.path() + ": key 'tokenizer.chat_template': missing (the model carries no chat template)");
  }
  auto src = file.get_string("tokenizer.chat_template");
  if (!src) return src.error();
  t.source = std::move(*src);
  const gguf::Value* tokens = file.find("tokenizer.ggml.tokens");
  auto token_text = [&](const char* key) -> std::string {
    const int64_t id = file.get_int_or(key, -1);
    if (!tokens || id < 0 || static_cast<uint64_t>(id) >= tokens->strings.size()) return "";
    return tokens->strings[static_cast<size_t>(id)];
  };
  t.bos_token = token_text("tokenizer.ggml.bos_token_id");
  t.eos_token = token_text("tokenizer.ggml.eos_token_id");
  return t;
}

Expected<std::string> render_chat(const gguf::File& file, const nlohmann::ordered_json& messages,
                                  bool add_generation_prompt, const nlohmann::ordered_json& extra,
                                  const ChatRenderOptions& opt) {
  auto src = chat_template_from_gguf(file);
  if (!src) return src.error();
  auto tmpl = ChatTemplate::parse(src->source);
  if (!tmpl) return Error::input(file.path() + ": " + tmpl.error().message);
  return tmpl->render(chat_context(messages, add_generation_prompt, src->bos_token, src->eos_token, extra), opt);
}

}  // namespace ts
