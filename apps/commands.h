// The tokenscope CLI: one file per subcommand, each registering itself on the top-level CLI11 app.
//
// A subcommand's callback returns the process exit code: 0 success, 2 bad input (file, field or value named on
// one line of stderr), 1 internal failure.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

#include "tokenscope/expected.h"

namespace ts::cli {

using Run = std::function<int()>;
// Each subcommand adds itself to `app` and stores the function to run when it is selected.
void register_info(CLI::App& app, Run& run);
void register_tokenize(CLI::App& app, Run& run);
void register_score(CLI::App& app, Run& run);
void register_make_model(CLI::App& app, Run& run);
void register_bench(CLI::App& app, Run& run);
void register_convert(CLI::App&, Run&);
void register_generate(CLI::App& app, Run& run);
void register_quantize(CLI::App& app, Run& run);
void register_analyze(CLI::App& app, Run& run);
void register_compare(CLI::App& app, Run& run);
void register_detect(CLI::App& app, Run& run);
void register_mia(CLI::App& app, Run& run);
void register_freq(CLI::App& app, Run& run);
void register_eval(CLI::App& app, Run& run);
void register_serve(CLI::App& app, Run& run);
void register_chat_template(CLI::App& app, Run& run);
void register_export_tokenizer(CLI::App& app, Run& run);

// Prints "tokenscope: <message>" and returns the exit code for the error's kind.
int report(const Error& e);

}  // namespace ts::cli
