// libFuzzer target: the tokenizers on arbitrary bytes and arbitrary id lists.
//
// Tokenizers, loaded once: the demo model's (byte-level BPE, 8192 tokens, pre "gpt-2"; $TOKENSCOPE_FUZZ_MODEL
// overrides the file), a small SentencePiece vocabulary with byte fallback, and small byte-level BPE vocabularies
// under several pre-tokenizers (each its own regexes). Input: byte 0 picks the tokenizer and the operation, the rest
// is the text or the ids (2 bytes each, little-endian, minus 64 so that negative and out-of-range ids occur).
// Invariants checked (a violation aborts, which libFuzzer reports):
//   encode, any options: ids in range, one offset per id, offsets non-decreasing and within the text;
//   encode without special tokens (add_special = parse_special = false): decode(ids) == text — byte-level BPE for
//     every input (invalid UTF-8 included), SentencePiece unless the text holds U+2581 (read as a space) or a
//     user-defined token (after which it inserts its prefix space again, as llama.cpp does) — and every token's
//     bytes are the text at its offset;
//   decode(ids, strip_prefix_space = false) == the concatenation of token_bytes over the ids (out-of-range: none).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_vocab.h"
#include "tokenizer/tokenizer.h"

namespace {

struct Loaded {
  ts::Tokenizer tok;
  bool spm = false;
};

std::vector<Loaded>* g_tokenizers = nullptr;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_tokenizer: invariant broken: %s\n", what);
  std::abort();
}

void load(const ts::gguf::Writer& w, bool spm) {
  auto f = ts::gguf::File::from_bytes(w.to_bytes(), "synthetic.gguf");
  if (!f) fail(f.error().message.c_str());
  auto t = ts::Tokenizer::from_gguf(*f);
  if (!t) fail(t.error().message.c_str());
  g_tokenizers->push_back({std::move(*t), spm});
}

void check_encoding(const ts::Tokenizer& tok, std::string_view text, const ts::Encoding& e) {
  if (e.ids.size() != e.offsets.size()) fail("ids and offsets differ in length");
  for (size_t i = 0; i < e.ids.size(); ++i) {
    if (e.ids[i] < 0 || e.ids[i] >= tok.vocab_size()) fail("id out of range");
    if (e.offsets[i] > text.size()) fail("offset past the text");
    if (i > 0 && e.offsets[i] < e.offsets[i - 1]) fail("offsets decrease");
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_tokenizers = new std::vector<Loaded>();
  const char* env = std::getenv("TOKENSCOPE_FUZZ_MODEL");
  const std::string path = env && *env ? env : std::string(TS_SOURCE_DIR) + "/models/tokenscope-demo.gguf";
  auto f = ts::gguf::File::open(path);
  if (!f) fail(f.error().message.c_str());
  auto t = ts::Tokenizer::from_gguf(*f);
  if (!t) fail(t.error().message.c_str());
  g_tokenizers->push_back({std::move(*t), false});
  load(ts::fuzz::spm_vocab_writer(), true);
  for (const char* pre : {"gpt-2", "llama3", "qwen2", "deepseek-llm", "deepseek-coder", "deepseek-v3", "starcoder",
                          "tekken", "gpt-4o", "bloom", "falcon", "default", "seed-coder", "bailingmoe"})
    load(ts::fuzz::bpe_vocab_writer(pre), false);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t sel = data[0];
  const Loaded& L = (*g_tokenizers)[(sel >> 2) % g_tokenizers->size()];
  const ts::Tokenizer& tok = L.tok;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (sel & 3) {
    case 0: {  // plain encode: round trip and offsets map back
      const ts::Encoding e = tok.encode(text, ts::EncodeOptions{.add_special = false, .parse_special = false});
      check_encoding(tok, text, e);
      // SentencePiece reads U+2581 as a space, and (as llama.cpp) inserts its prefix space again after a
      // user-defined token: no round trip then.
      bool spm_exception = L.spm && text.find("\xE2\x96\x81") != std::string_view::npos;
      for (int32_t id : e.ids) {
        const ts::TokenKind k = tok.token_kind(id);
        if (L.spm && k != ts::TokenKind::kNormal && k != ts::TokenKind::kByte) spm_exception = true;
      }
      if (!spm_exception) {
        if (tok.decode(e.ids) != text) fail("decode(encode(text)) != text");
        for (size_t i = 0; i < e.ids.size(); ++i) {
          std::string b = tok.token_bytes(e.ids[i]);
          if (L.spm && i == 0 && !b.empty() && b[0] == ' ' && tok.add_space_prefix()) b.erase(0, 1);
          if (text.substr(e.offsets[i], b.size()) != b) fail("token bytes differ from the text at its offset");
        }
      }
      break;
    }
    case 1:
    case 2: {  // with BOS/EOS, special-token text parsed or not
      const ts::Encoding e = tok.encode(text, ts::EncodeOptions{.add_special = true, .parse_special = (sel & 3) == 1});
      check_encoding(tok, text, e);
      break;
    }
    default: {  // decode arbitrary ids
      std::vector<int32_t> ids;
      for (size_t i = 1; i + 1 < size; i += 2) ids.push_back(static_cast<int32_t>(data[i] | (data[i + 1] << 8)) - 64);
      std::string want;
      for (int32_t id : ids) want += tok.token_bytes(id);
      if (tok.decode(ids, false) != want) fail("decode(ids) != concatenated token bytes");
      (void)tok.decode(ids, true);
      for (int32_t id : ids) (void)tok.token_text(id);
      break;
    }
  }
  return 0;
}
