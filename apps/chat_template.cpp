// tokenscope chat-template: renders a conversation through a chat template exactly as HF's apply_chat_template
// does, and prints the prompt as is (no newline added).
//
// The template comes from the model (-m: tokenizer.chat_template, with the vocabulary's BOS/EOS texts) or from a
// file (--template). --messages takes a JSON array of messages, or an object with "messages" (an OpenAI chat
// request body works) whose other keys ("tools", "enable_thinking", ...) become template variables too.
// Exit 2 with the template's own message when it calls raise_exception(), and for any other bad input.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "common.h"
#include "gguf/gguf.h"
#include "tokenizer/chat_template/chat_template.h"

namespace ts::cli {

namespace {

struct Opts {
  std::string model, template_file, messages_file, bos, eos;
  bool add_generation_prompt = false;
};

Expected<nlohmann::ordered_json> parse_json_file(const std::string& path) {
  auto text = read_text_file(path);
  if (!text) return text.error();
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(*text, nullptr, false);
  if (j.is_discarded()) return Error::input(path + ": not valid JSON");
  return j;
}

int run_chat_template(const Opts& o, bool bos_given, bool eos_given) {
  if (o.model.empty() == o.template_file.empty()) {
    return report(Error::input("chat-template: give either -m MODEL or --template FILE.jinja"));
  }
  auto input = parse_json_file(o.messages_file);
  if (!input) return report(input.error());
  nlohmann::ordered_json messages, extra = nlohmann::ordered_json::object();
  if (input->is_array()) {
    messages = std::move(*input);
  } else if (input->is_object() && input->contains("messages") && (*input)["messages"].is_array()) {
    for (auto it = input->begin(); it != input->end(); ++it) {
      if (it.key() == "messages") messages = it.value();
      else extra[it.key()] = it.value();
    }
  } else {
    return report(Error::input(o.messages_file + ": expected a JSON array of messages or an object with \"messages\""));
  }

  std::string source, bos, eos, origin;
  if (!o.model.empty()) {
    auto path = resolve_model(o.model);
    if (!path) return report(path.error());
    auto file = gguf::File::open(*path);
    if (!file) return report(file.error());
    auto t = chat_template_from_gguf(*file);
    if (!t) return report(t.error());
    source = std::move(t->source);
    bos = std::move(t->bos_token);
    eos = std::move(t->eos_token);
    origin = *path;
  } else {
    auto t = read_text_file(o.template_file);
    if (!t) return report(t.error());
    source = std::move(*t);
    origin = o.template_file;
  }
  if (bos_given) bos = o.bos;
  if (eos_given) eos = o.eos;

  auto tmpl = ChatTemplate::parse(source);
  if (!tmpl) return report(Error::input(origin + ": " + tmpl.error().message));
  auto out = tmpl->render(chat_context(messages, o.add_generation_prompt, bos, eos, extra));
  if (!out) return report(Error::input(origin + ": " + out.error().message));
  std::fwrite(out->data(), 1, out->size(), stdout);
  std::fflush(stdout);
  return 0;
}

}  // namespace

void register_chat_template(CLI::App& app, Run& run) {
  auto* cmd = app.add_subcommand("chat-template",
                                 "Render a conversation with a chat template, as HF apply_chat_template does");
  auto o = std::make_shared<Opts>();
  cmd->add_option("-m,--model", o->model, "GGUF file whose tokenizer.chat_template to use");
  cmd->add_option("--template", o->template_file, "Jinja template file to use instead of a model's");
  cmd->add_option("--messages", o->messages_file,
                  "JSON file ('-' for stdin): an array of messages, or an object with \"messages\" whose other keys "
                  "(tools, enable_thinking, ...) become template variables")
      ->required();
  cmd->add_flag("--add-generation-prompt", o->add_generation_prompt, "End with the assistant turn's opening");
  auto* bos = cmd->add_option("--bos-token", o->bos, "bos_token text (default: the model's; none with --template)");
  auto* eos = cmd->add_option("--eos-token", o->eos, "eos_token text (default: the model's; none with --template)");
  cmd->callback([&run, o, bos, eos] {
    run = [o, bos, eos]() { return run_chat_template(*o, bos->count() > 0, eos->count() > 0); };
  });
}

}  // namespace ts::cli
