// Small synthetic GGUF vocabularies for the fuzz targets and their seeds, written with the project's gguf::Writer:
// a SentencePiece one (<unk> <s> </s>, the 256 byte-fallback tokens, a few merges' worth of pieces with scores, a
// user-defined token) and a byte-level BPE one (the 256 GPT-2 byte characters, a few merged tokens and their merges,
// a control token). Both also carry a short chat template, so a seed exercises tokenizer and template loading.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "gguf/gguf.h"

namespace ts::fuzz {

inline constexpr const char* kSmallChatTemplate =
    "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'system' %}<<SYS>>{{ m['content'] | trim }}<</SYS>>"
    "{% else %}[{{ m['role'] | upper }}] {{ m['content'] }}{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}[ASSISTANT]{% endif %}";

inline gguf::Writer spm_vocab_writer() {
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  std::vector<int64_t> types = {2, 3, 3};
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    tokens.push_back(buf);
    types.push_back(6);
  }
  std::vector<double> scores(tokens.size(), 0.0);
  const char* normal[] = {"\xE2\x96\x81", "a", "b", "c", "ab", "bc", "abc", "\xE2\x96\x81" "a", "\xE2\x96\x81" "ab",
                          "h", "e", "l", "o", "he", "ll", "hell", "hello", "\xE2\x96\x81hello", "\xC3\xA9",
                          "\xE4\xB8\xAD"};
  double s = -1;
  for (const char* t : normal) {
    tokens.push_back(t);
    types.push_back(1);
    scores.push_back(s);
    s -= 0.5;
  }
  tokens.push_back("<|user|>");
  types.push_back(4);
  scores.push_back(0.0);
  gguf::Writer w;
  w.add_string("general.architecture", "llama");
  w.add_string("tokenizer.ggml.model", "llama");
  w.add_string_array("tokenizer.ggml.tokens", tokens);
  w.add_f32_array("tokenizer.ggml.scores", scores);
  w.add_i32_array("tokenizer.ggml.token_type", types);
  w.add_u32("tokenizer.ggml.bos_token_id", 1);
  w.add_u32("tokenizer.ggml.eos_token_id", 2);
  w.add_u32("tokenizer.ggml.unknown_token_id", 0);
  w.add_bool("tokenizer.ggml.add_bos_token", true);
  w.add_bool("tokenizer.ggml.add_space_prefix", true);
  w.add_string("tokenizer.chat_template", kSmallChatTemplate);
  return w;
}

inline gguf::Writer bpe_vocab_writer(const std::string& pre = "gpt-2") {
  std::vector<std::string> tokens;
  std::vector<int64_t> types;
  int n_extra = 0;
  for (int b = 0; b < 256; ++b) {  // GPT-2's byte-to-unicode table
    const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    const uint32_t cp = printable ? static_cast<uint32_t>(b) : 256u + static_cast<uint32_t>(n_extra++);
    std::string t;
    if (cp < 0x80) {
      t += static_cast<char>(cp);
    } else {
      t += static_cast<char>(0xC0 | (cp >> 6));
      t += static_cast<char>(0x80 | (cp & 0x3F));
    }
    tokens.push_back(t);
    types.push_back(1);
  }
  const std::vector<std::string> merges = {"\xC4\xA0 t", "h e", "t he", "\xC4\xA0t he", "l l", "he ll", "hell o",
                                           "i n", "\xC4\xA0 a", "\xC4\xA0" "a n"};
  for (const char* t : {"\xC4\xA0t", "he", "the", "\xC4\xA0the", "ll", "hell", "hello", "in", "\xC4\xA0" "a",
                        "\xC4\xA0" "an"}) {
    tokens.push_back(t);
    types.push_back(1);
  }
  tokens.push_back("<|endoftext|>");
  types.push_back(3);
  const int64_t eot = static_cast<int64_t>(tokens.size()) - 1;
  gguf::Writer w;
  w.add_string("general.architecture", "gpt2");
  w.add_string("tokenizer.ggml.model", "gpt2");
  w.add_string("tokenizer.ggml.pre", pre);
  w.add_string_array("tokenizer.ggml.tokens", tokens);
  w.add_i32_array("tokenizer.ggml.token_type", types);
  w.add_string_array("tokenizer.ggml.merges", merges);
  w.add_u32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(eot));
  w.add_u32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(eot));
  w.add_string("tokenizer.chat_template", kSmallChatTemplate);
  return w;
}

}  // namespace ts::fuzz
