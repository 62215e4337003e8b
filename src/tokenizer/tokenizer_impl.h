// Internal state of a Tokenizer (shared by tokenizer.cpp, spm.cpp, bpe.cpp). Not a public header.
//
// The vocabulary is read once by Tokenizer::from_gguf and never changes; the encoders below only read it, and keep
// their scratch space in locals, so one Impl can serve many threads.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer.h"

namespace ts {

// Hash that lets unordered_map<std::string, ...> be searched with a string_view, without building a string.
struct StringViewHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

using TokenMap = std::unordered_map<std::string, int32_t, StringViewHash, std::equal_to<>>;

// Where encoded tokens go: ids with the byte offset in the caller's input where each one's text starts.
struct TokenSink {
  Encoding* enc;
  void push(int32_t id, uint32_t offset) const {
    enc->ids.push_back(id);
    enc->offsets.push_back(offset);
  }
};

struct Tokenizer::Impl {
  enum class Algo { kSpm, kBpe };
  Algo algo = Algo::kSpm;
  std::string model;  // tokenizer.ggml.model
  std::string pre;    // tokenizer.ggml.pre when known; "gpt-2" for an unknown one; "default" for SentencePiece

  std::vector<std::string> text;    // token strings as stored
  std::vector<float> score;         // SentencePiece merge priority (0 when absent)
  std::vector<TokenKind> kind;
  std::vector<std::string> bytes;   // token_bytes(id), computed once
  TokenMap token_to_id;             // a duplicated string maps to its last id, as in llama.cpp

  int32_t bos = -1, eos = -1, unk = -1, pad = -1;
  bool add_bos = false, add_eos = false;
  bool add_space_prefix = false;

  // Tokens matched in the raw text before tokenization: control / unknown (only with parse_special) and
  // user-defined (always, as HF tokenizers and llama.cpp do), longest text first.
  std::vector<int32_t> special;
  std::vector<uint8_t> rstrip;  // per id: whitespace after this special token is dropped (phi-3)

  // SentencePiece: no token's text has U+2581 right after another character than U+2581, so no merge can join a
  // character to a following "▁" and the text splits into independent words there (spm.cpp).
  bool spm_words_independent = false;

  // SentencePiece: byte -> "<0xXX>" token (or the one-byte token), -1 when neither exists.
  std::array<int32_t, 256> byte_fallback{};

  // Byte-level BPE: byte -> token of its GPT-2 unicode character; merges keyed by (left id, right id).
  std::array<int32_t, 256> byte_token{};
  struct Merge {
    int32_t rank;
    int32_t result;
  };
  std::unordered_map<uint64_t, Merge> merges;
  bool ignore_merges = false;
  RegexSplitter splitter;

  int32_t find(std::string_view s) const {
    auto it = token_to_id.find(s);
    return it == token_to_id.end() ? -1 : it->second;
  }
  static uint64_t merge_key(int32_t l, int32_t r) { return (uint64_t(uint32_t(l)) << 32) | uint32_t(r); }

  // SentencePiece BPE over one run of text (no special tokens in it). `text` is the run with the prefix space
  // already inserted and spaces already replaced by U+2581; orig[i] is the input offset of text byte i.
  void encode_spm(std::string_view text, const std::vector<uint32_t>& orig, const TokenSink& out) const;
  // Byte-level BPE over one run of input bytes [begin, end) of `input` (no special tokens in it).
  void encode_bpe(std::string_view input, uint32_t begin, uint32_t end, const TokenSink& out) const;
};

// Whether no token text in `tokens` has U+2581 after a character other than U+2581 (spm_words_independent).
bool spm_words_independent(const TokenMap& tokens);

// GPT-2's byte-to-unicode table (bytes.py in openai/gpt-2): printable bytes map to themselves, the others to
// U+0100 upwards in byte order. Returns the UTF-8 form of byte b's character.
const std::string& gpt2_byte_char(uint8_t b);
// Inverse: code point -> byte, or -1 when the code point is not in the table.
int gpt2_char_byte(uint32_t cp);

}  // namespace ts
