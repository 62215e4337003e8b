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
#include "runtime/detection_record.h"
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

class CorpusOutput;  // shard.h

// Calls fn(index, doc, raw_line_object) for every document of the source; stops at the first non-zero return and
// returns it (errors are reported here, as exit codes). `cmd` names the subcommand in messages. With a corpus
// output (shard.h), only the documents it selects are parsed and passed to fn (the others are skipped unread, but
// still counted for the index), and each is flushed after fn; its --progress forces the progress line on.
int for_each_document(const std::string& cmd, const Tokenizer& tok, int64_t n_vocab, const InputOptions& in,
                      const std::function<int(int64_t, Document&, const Json&)>& fn,
                      CorpusOutput* corpus = nullptr);

// --method: "all" or a comma-separated list of names from `known`; errors name the unknown method.
Expected<std::set<std::string>> parse_method_list(const std::string& cmd, const std::string& list,
                                                  const std::vector<std::string>& known);

// len(zlib.compress(bytes)) at zlib's default level (6, as Python's zlib.compress).
int64_t zlib_compressed_bytes(const std::string& bytes);


// Token text for output, "" for an id outside the vocabulary.
std::string token_text_or_empty(const Tokenizer& tok, int32_t id);

// Progress on stderr, when stderr is a terminal or `force` (--progress): after each document
// "<cmd>: D / T documents (P%), R tokens/s, ETA 1m05s" (D counts the documents a resumed run found done, T the
// documents of the shard when known; without T: "<cmd>: D documents, R tokens/s, S s"). On a terminal the line is
// rewritten in place at most a few times a second; otherwise (a log) one line every few seconds and a last one at
// the end. Within a long document, on a terminal only: "\r<cmd>: document D, token P / N" (token_progress, about
// once a second). for_each_document keeps one Progress, which ends the line when it goes.
void token_progress(const std::string& cmd, int64_t doc, int64_t pos, int64_t n);

class Progress {
 public:
  explicit Progress(std::string cmd, bool force = false);
  ~Progress();
  bool enabled() const { return enabled_; }
  // total: the documents this run will have done at the end, those before it included (-1: unknown);
  // done_before: those a resumed run found done.
  void set_total(int64_t total, int64_t done_before);
  // tokens: the document's tokens, for the rate (0: the rate is given in documents/s).
  void document_done(int64_t tokens = 0);

 private:
  void print(bool final);
  std::string cmd_;
  bool enabled_ = false, tty_ = false, printed_ = false;
  int64_t docs_ = 0, tokens_ = 0, total_ = -1, done_before_ = 0;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace ts::cli
