// Pre-tokenizers of byte-level BPE vocabularies: the regexes named by tokenizer.ggml.pre, and a splitter that
// applies them with PCRE2 (UTF + UCP, JIT when available).
//
// Splitting contract (as llama.cpp's unicode_regex_split): the text starts as one piece; each regex in turn splits
// every current piece into its matches and the runs of text between them (which are kept as pieces too), matching
// only inside the piece (so `$` and lookaheads see the piece's end). Empty matches split nothing. The pieces always
// cover the text exactly, in order.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenscope/expected.h"

namespace ts {

struct PreTokenizerRules {
  std::string name;                  // the family whose regexes these are, e.g. "gpt-2", "llama3", "qwen2"
  std::vector<std::string> regexes;  // applied in order, PCRE2 syntax
  bool ignore_merges = false;        // a piece that is itself a token is emitted whole, without BPE merges
  bool add_bos = false;              // llama.cpp's default of add_bos_token for this family
};

// Rules for a tokenizer.ggml.pre value; false when the name is unknown.
bool pre_tokenizer_rules(std::string_view pre, PreTokenizerRules* out);

struct Piece {
  uint32_t begin = 0;
  uint32_t end = 0;
};

class RegexSplitter {
 public:
  // Error (internal) naming the regex and PCRE2's message when one does not compile.
  static Expected<RegexSplitter> compile(const std::vector<std::string>& regexes);

  // `text` must be valid UTF-8 (see utf8::valid). `out` receives pieces as byte ranges of `text`.
  void split(std::string_view text, std::vector<Piece>& out) const;

 private:
  struct Compiled;
  std::shared_ptr<const Compiled> c_;
};

}  // namespace ts
