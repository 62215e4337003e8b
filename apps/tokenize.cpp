// tokenscope tokenize: text to token ids with the model's own tokenizer.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "common.h"
#include "gguf/gguf.h"
#include "tokenizer/tokenizer.h"

namespace ts::cli {

void register_tokenize(CLI::App& app, Run& run) {
  auto* cmd = app.add_subcommand("tokenize", "Tokenize text with a GGUF file's tokenizer");
  struct Opts {
    std::string model, prompt, file, format = "ids";
    bool no_special = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("-m,--model", o->model, "GGUF file (a vocabulary-only file is enough) (default: the bundled demo model)");
  auto* p = cmd->add_option("-p,--prompt", o->prompt, "Text to tokenize");
  auto* fo = cmd->add_option("-f,--file", o->file, "Read the text from a file ('-' for stdin)");
  p->excludes(fo);
  cmd->add_flag("--no-special", o->no_special,
                "Add no BOS/EOS and do not parse special-token text (the test vectors' convention)");
  cmd->add_option("--format", o->format, "ids: one line of space-separated ids; jsonl: one object per token")
      ->check(CLI::IsMember({"ids", "jsonl"}));
  cmd->callback([&run, o, p, fo] {
    run = [o, p, fo]() -> int {
      std::string text = o->prompt;
      if (fo->count()) {
        auto t = read_text_file(o->file);
        if (!t) return report(t.error());
        text = std::move(*t);
      } else if (!p->count()) {
        return report(Error::input("tokenize: give the text with -p TEXT or -f FILE"));
      }
      if (auto mp = resolve_model(o->model); !mp) return report(mp.error()); else o->model = *mp;
      auto f = gguf::File::open(o->model);
      if (!f) return report(f.error());
      auto tok = Tokenizer::from_gguf(*f);
      if (!tok) return report(tok.error());
      EncodeOptions eo;
      eo.add_special = eo.parse_special = !o->no_special;
      const Encoding enc = tok->encode(text, eo);
      if (o->format == "ids") {
        std::string line;
        for (size_t i = 0; i < enc.ids.size(); ++i) line += (i ? " " : "") + std::to_string(enc.ids[i]);
        std::printf("%s\n", line.c_str());
      } else {
        for (size_t i = 0; i < enc.ids.size(); ++i) {
          Json j = {{"id", enc.ids[i]},
                              {"token", tok->token_text(enc.ids[i])},
                              {"offset", enc.offsets[i]},
                              {"bytes", bytes_array(tok->token_bytes(enc.ids[i]))}};
          std::printf("%s\n", dump_json(j).c_str());
        }
      }
      return 0;
    };
  });
}

}  // namespace ts::cli
