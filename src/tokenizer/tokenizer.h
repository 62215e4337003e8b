// Tokenizers built from GGUF metadata (tokenizer.ggml.*): SentencePiece BPE (`llama`) and byte-level BPE (`gpt2`)
// with the pre-tokenizer named by tokenizer.ggml.pre.
//
// The Tokenizer object is immutable after construction and safe to share between threads; encode() keeps its
// scratch space on the stack of the call.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/gguf.h"
#include "tokenscope/expected.h"

namespace ts {

// tokenizer.ggml.token_type values.
enum class TokenKind : int32_t { kUndefined = 0, kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

struct EncodeOptions {
  bool add_special = true;    // add BOS (and EOS) as tokenizer.ggml.add_bos_token / add_eos_token say
  bool parse_special = true;  // text of control / user-defined tokens (e.g. "<s>", "<|im_start|>") becomes that token
                              // (user-defined tokens are matched even when false, as HF tokenizers and llama.cpp do)
};

struct Encoding {
  std::vector<int32_t> ids;
  // offsets[i]: byte offset in the input where token i's text starts (added BOS/EOS: the offset where they stand,
  // 0 and text.size()). A space the tokenizer inserts itself (SentencePiece's prefix) belongs to offset 0.
  std::vector<uint32_t> offsets;
};

class Tokenizer {
 public:
  // Reads tokenizer.ggml.{model, pre, tokens, scores, token_type, merges, bos_token_id, eos_token_id,
  // unknown_token_id, padding_token_id, add_bos_token, add_eos_token, add_space_prefix}. Errors name the file and
  // key. An unknown pre-tokenizer gives a warning on stderr and the gpt-2 rules.
  static Expected<Tokenizer> from_gguf(const gguf::File& file);

  Encoding encode(std::string_view text, const EncodeOptions& opt = {}) const;
  // The bytes the tokens stand for, concatenated (control tokens give nothing; SentencePiece drops the leading
  // prefix space of the first token when add_space_prefix is set and `strip_prefix_space` is true).
  std::string decode(const std::vector<int32_t>& ids, bool strip_prefix_space = true) const;

  int32_t vocab_size() const;
  const std::string& token_text(int32_t id) const;  // as stored in the vocabulary ("▁The", "Ġthe", "<0x0A>")
  std::string token_bytes(int32_t id) const;        // the raw bytes it stands for ("▁The" -> " The", "<0x0A>" -> "\n")
  TokenKind token_kind(int32_t id) const;
  float token_score(int32_t id) const;

  const std::string& model() const;  // "llama" or "gpt2"
  const std::string& pre() const;    // pre-tokenizer actually used
  int32_t bos_id() const;            // -1 when absent
  int32_t eos_id() const;
  int32_t unk_id() const;
  bool add_bos() const;
  bool add_eos() const;
  bool add_space_prefix() const;     // SentencePiece inserts a space before the text (and after special tokens)
  int32_t token_id(std::string_view text) const;  // exact vocabulary lookup, -1 when absent

  struct Impl;

 private:
  std::shared_ptr<const Impl> impl_;
};

}  // namespace ts
