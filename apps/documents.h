// Documents for the analysis subcommands (analyze, compare, detect, mia, freq): where they come from, how they are
// tokenized, what is carried through, and the progress line on stderr.
//
// Sources, exactly one: -f FILE ('-' = stdin, one document), -p TEXT (one document), --jsonl DOCS (one JSON object
// per line, {"text": ...} or {"ids": [...]}; every other field of the line is carried into that document's output,
// as `score --jsonl` does; blank lines are skipped). Text gets the model's BOS when its tokenizer says so (as
// `score`); special-token text is literal unless --parse-special. `ids` are taken as given (no BOS added).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "common.h"
#include "runtime/engine.h"

namespace ts::cli {

struct Document {
  std::string text;                // the text; for ids input the concatenated bytes of the tokens
  std::vector<int32_t> ids;
  std::vector<uint32_t> offsets;   // byte offset of each token in `text`
  int64_t text_bytes = 0;          // bytes covered by the predicted tokens (ids[1..]): bits per byte
  bool from_ids = false;
  Json fields = Json::object();    // the input line's other fields, carried through
};

struct InputOptions {
  std::string file, prompt, jsonl;
  bool parse_special = false;
  CLI::Option* prompt_opt = nullptr;  // -p given, possibly as the empty text
  bool has_prompt() const { return prompt_opt && prompt_opt->count() > 0; }
};

// Adds -f/--file, -p/--prompt, --jsonl and --parse-special to cmd.
void add_input_options(CLI::App* cmd, InputOptions& in, bool allow_single = true);

Document document_from_text(const Tokenizer& tok, std::string text, bool parse_special);
Document document_from_ids(const Tokenizer& tok, std::vector<int32_t> ids);
// One --jsonl line; `where` is "file:line" for errors. n_vocab bounds the ids. raw (if given) receives the whole
// line's object, for fields a command reads besides text/ids (compare's "context").
Expected<Document> document_from_line(const Tokenizer& tok, int64_t n_vocab, const std::string& line,
                                      const std::string& where, bool parse_special, Json* raw = nullptr);

// Calls fn(index, doc, raw_line_object) for every document of the source; stops at the first non-zero return and
// returns it (errors are reported here, as exit codes). `cmd` names the subcommand in messages.
int for_each_document(const std::string& cmd, const Tokenizer& tok, int64_t n_vocab, const InputOptions& in,
                      const std::function<int(int64_t, Document&, const Json&)>& fn);

// --method: "all" or a comma-separated list of names from `known`; errors name the unknown method.
Expected<std::set<std::string>> parse_method_list(const std::string& cmd, const std::string& list,
                                                  const std::vector<std::string>& known);

// len(zlib.compress(bytes)) at zlib's default level (6, as Python's zlib.compress).
int64_t zlib_compressed_bytes(const std::string& bytes);

// Rounds to 10 significant digits: document scores stay distinct (round6 would tie small ratios) but short.
double round_sig(double x);

// Token text for output, "" for an id outside the vocabulary.
std::string token_text_or_empty(const Tokenizer& tok, int32_t id);

// Progress on stderr, only when stderr is a terminal: "\r<cmd>: N documents (T s)" after each document, at most a
// few times a second, and "\r<cmd>: document D, token P / N" within a long document (token_progress, about once a
// second). for_each_document keeps one Progress, which ends the line when it goes.
void token_progress(const std::string& cmd, int64_t doc, int64_t pos, int64_t n);

class Progress {
 public:
  explicit Progress(std::string cmd);
  ~Progress();
  void document_done();

 private:
  std::string cmd_;
  bool enabled_ = false, printed_ = false;
  int64_t docs_ = 0;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace ts::cli
