// tokenscope: the next-token distribution as a first-class output.
#include <cstdio>
#include <iostream>

#include "commands.h"

namespace ts::cli {

int report(const Error& e) {
  std::fprintf(stderr, "tokenscope: %s\n", e.message.c_str());
  return e.kind == Error::Kind::kInput ? 2 : 1;
}

}  // namespace ts::cli

int main(int argc, char** argv) {
  CLI::App app{"tokenscope: run GGUF language models and read their next-token distributions"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "tokenscope 0.1.0");
  // Errors in one line, as for every other bad input.
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return std::string("tokenscope: ") + e.what() + " (see --help)\n";
  });
  ts::cli::Run run;
  ts::cli::register_info(app, run);
  ts::cli::register_tokenize(app, run);
  ts::cli::register_score(app, run);
  ts::cli::register_generate(app, run);
  ts::cli::register_make_model(app, run);
  ts::cli::register_bench(app, run);
  ts::cli::register_convert(app, run);
  ts::cli::register_quantize(app, run);
  ts::cli::register_analyze(app, run);
  ts::cli::register_compare(app, run);
  ts::cli::register_detect(app, run);
  ts::cli::register_mia(app, run);
  ts::cli::register_freq(app, run);
  ts::cli::register_eval(app, run);
  ts::cli::register_serve(app, run);
  ts::cli::register_chat_template(app, run);
  ts::cli::register_export_tokenizer(app, run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  try {
    return run ? run() : 0;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "tokenscope: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tokenscope: internal error: %s\n", e.what());
    return 1;
  }
}
