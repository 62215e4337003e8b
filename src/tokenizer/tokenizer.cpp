// Tokenizer: loading tokenizer.ggml.* from GGUF, splitting out special tokens, dispatch to SentencePiece BPE
// (spm.cpp) or byte-level BPE (bpe.cpp), and decoding.
//
// Defaults follow llama.cpp's llama_vocab::load: for `llama`, BOS 1 / EOS 2 / UNK 0, add_bos true, add_eos false,
// add_space_prefix true; for `gpt2`, no special ids, add_bos as the pre-tokenizer family says (true for llama3 and
// tekken), no space prefix. GGUF keys override them. Special-token text is split out before tokenization as
// llama.cpp's tokenizer_st_partition does: tokens in order of decreasing text length, each splitting the
// remaining raw text at all its (leftmost, non-overlapping) occurrences.
//
// Offsets are uint32_t: inputs must be under 4 GiB.
#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <limits>

#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/utf8.h"

namespace ts {
namespace {

constexpr std::string_view kSpace = "\xE2\x96\x81";  // U+2581, SentencePiece's visible space

void warn(const std::string& msg) { std::fprintf(stderr, "tokenscope: warning: %s\n", msg.c_str()); }

// "<0xXX>" -> XX, else -1.
int parse_byte_token(std::string_view t) {
  if (t.size() != 6 || t.substr(0, 3) != "<0x" || t[5] != '>') return -1;
  auto hex = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  const int hi = hex(t[3]), lo = hex(t[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

std::string compute_bytes(const Tokenizer::Impl& v, int32_t id) {
  const std::string& t = v.text[id];
  const TokenKind k = v.kind[id];
  if (k == TokenKind::kControl || k == TokenKind::kUnknown) return {};
  if (k == TokenKind::kUserDefined) return t;  // added tokens are stored as their literal text
  if (const int b = parse_byte_token(t); b >= 0 && (k == TokenKind::kByte || v.algo == Tokenizer::Impl::Algo::kSpm))
    return std::string(1, static_cast<char>(b));
  std::string out;
  if (v.algo == Tokenizer::Impl::Algo::kSpm) {
    for (size_t i = 0; i < t.size();) {
      if (t.compare(i, kSpace.size(), kSpace) == 0) {
        out += ' ';
        i += kSpace.size();
      } else {
        out += t[i++];
      }
    }
    return out;
  }
  for (size_t i = 0; i < t.size();) {  // byte-level: every character stands for one byte
    uint32_t cp = 0;
    const size_t n = utf8::decode(t, i, &cp);
    const int b = n ? gpt2_char_byte(cp) : -1;
    if (b >= 0) {
      out += static_cast<char>(b);
    } else {  // not a byte character (a malformed vocabulary): keep the text as it is
      out.append(t, i, n ? n : 1);
    }
    i += n ? n : 1;
  }
  return out;
}

// Reads an optional token id key; an id outside the vocabulary is ignored with a warning, as in llama.cpp.
int32_t read_id(const gguf::File& f, const char* key, int32_t fallback, size_t n_vocab) {
  if (!f.find(key)) return fallback >= 0 && size_t(fallback) < n_vocab ? fallback : -1;
  const int64_t v = f.get_int_or(key, -1);
  if (v < 0 || uint64_t(v) >= n_vocab) {
    warn(f.path() + ": " + key + ": id " + std::to_string(v) + " outside the vocabulary (" +
         std::to_string(n_vocab) + " tokens); ignored");
    return fallback >= 0 && size_t(fallback) < n_vocab ? fallback : -1;
  }
  return static_cast<int32_t>(v);
}

struct Fragment {
  int32_t id;  // special token, or -1 for raw text
  uint32_t begin, end;
};

std::vector<Fragment> partition(const Tokenizer::Impl& v, std::string_view text, bool parse_special) {
  std::vector<Fragment> frags;
  if (text.empty()) return frags;
  frags.push_back({-1, 0, static_cast<uint32_t>(text.size())});
  std::vector<Fragment> next;
  for (const int32_t id : v.special) {
    if (!parse_special && v.kind[id] != TokenKind::kUserDefined) continue;
    const std::string& t = v.text[id];
    if (text.find(t) == std::string_view::npos) continue;  // most special tokens never occur
    next.clear();
    for (const Fragment& f : frags) {
      if (f.id >= 0) {
        next.push_back(f);
        continue;
      }
      const std::string_view upto = text.substr(0, f.end);
      uint32_t pos = f.begin;
      for (size_t m; pos < f.end && (m = upto.find(t, pos)) != std::string_view::npos;) {
        if (m > pos) next.push_back({-1, pos, static_cast<uint32_t>(m)});
        next.push_back({id, static_cast<uint32_t>(m), static_cast<uint32_t>(m + t.size())});
        pos = static_cast<uint32_t>(m + t.size());
        if (v.rstrip[id])
          while (pos < f.end && std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
      }
      if (pos < f.end) next.push_back({-1, pos, f.end});
    }
    frags.swap(next);
  }
  return frags;
}

const Tokenizer::Impl& empty_impl() {
  static const Tokenizer::Impl e;
  return e;
}

}  // namespace

Expected<Tokenizer> Tokenizer::from_gguf(const gguf::File& f) {
  const std::string& path = f.path();
  auto impl = std::make_shared<Impl>();
  Impl& v = *impl;

  auto model = f.get_string("tokenizer.ggml.model");
  if (!model) return model.error();
  v.model = *model;
  if (v.model == "llama") {
    v.algo = Impl::Algo::kSpm;
  } else if (v.model == "gpt2") {
    v.algo = Impl::Algo::kBpe;
  } else {
    return Error::input(path + ": tokenizer.ggml.model: unsupported value '" + v.model + "' (supported: llama, gpt2)");
  }

  auto tokens = f.get_string_array("tokenizer.ggml.tokens");
  if (!tokens) return tokens.error();
  const size_t n = (*tokens)->size();
  if (n == 0 || n > size_t(std::numeric_limits<int32_t>::max()))
    return Error::input(path + ": tokenizer.ggml.tokens: " + std::to_string(n) + " tokens");
  v.text = **tokens;
  v.score.assign(n, 0.0f);
  v.kind.assign(n, TokenKind::kNormal);
  if (f.find("tokenizer.ggml.scores")) {
    auto s = f.get_float_array("tokenizer.ggml.scores");
    if (!s) return s.error();
    if ((*s)->size() < n)
      return Error::input(path + ": tokenizer.ggml.scores: " + std::to_string((*s)->size()) + " entries for " +
                          std::to_string(n) + " tokens");
    for (size_t i = 0; i < n; ++i) v.score[i] = static_cast<float>((**s)[i]);
  }
  if (f.find("tokenizer.ggml.token_type")) {
    auto t = f.get_int_array("tokenizer.ggml.token_type");
    if (!t) return t.error();
    if ((*t)->size() < n)
      return Error::input(path + ": tokenizer.ggml.token_type: " + std::to_string((*t)->size()) + " entries for " +
                          std::to_string(n) + " tokens");
    for (size_t i = 0; i < n; ++i) {
      const int64_t k = (**t)[i];
      v.kind[i] = k >= 0 && k <= 6 ? static_cast<TokenKind>(k) : TokenKind::kUndefined;
    }
  }
  v.token_to_id.reserve(n);
  for (size_t i = 0; i < n; ++i)
    if (!v.text[i].empty()) v.token_to_id.insert_or_assign(v.text[i], static_cast<int32_t>(i));

  const bool spm = v.algo == Impl::Algo::kSpm;
  PreTokenizerRules rules;
  if (spm) {
    v.pre = "default";  // llama.cpp's name for "no pre-tokenizer": SentencePiece sees the whole text
  } else {
    if (!f.find("tokenizer.ggml.pre")) {
      warn(path + ": tokenizer.ggml.pre missing; using the 'default' pre-tokenizer");
      pre_tokenizer_rules("default", &rules);
    } else {
      auto pre = f.get_string("tokenizer.ggml.pre");
      if (!pre) return pre.error();
      if (pre_tokenizer_rules(*pre, &rules)) {
        rules.name = *pre;
      } else {
        warn(path + ": tokenizer.ggml.pre: unknown pre-tokenizer '" + *pre + "'; using the gpt-2 rules");
        pre_tokenizer_rules("gpt-2", &rules);
      }
    }
    v.pre = rules.name;
    v.ignore_merges = rules.ignore_merges;
    auto splitter = RegexSplitter::compile(rules.regexes);
    if (!splitter) return Error::internal(path + ": " + splitter.error().message);
    v.splitter = std::move(*splitter);
  }

  v.bos = read_id(f, "tokenizer.ggml.bos_token_id", spm ? 1 : -1, n);
  v.eos = read_id(f, "tokenizer.ggml.eos_token_id", spm ? 2 : -1, n);
  v.unk = read_id(f, "tokenizer.ggml.unknown_token_id", spm ? 0 : -1, n);
  v.pad = read_id(f, "tokenizer.ggml.padding_token_id", -1, n);
  v.add_bos = f.get_bool_or("tokenizer.ggml.add_bos_token", spm ? true : rules.add_bos);
  v.add_eos = f.get_bool_or("tokenizer.ggml.add_eos_token", false);
  v.add_space_prefix = f.get_bool_or("tokenizer.ggml.add_space_prefix", spm);

  if (spm) {
    v.spm_words_independent = spm_words_independent(v.token_to_id);
    static const char* hex = "0123456789ABCDEF";
    for (int b = 0; b < 256; ++b) {
      const char name[7] = {'<', '0', 'x', hex[b >> 4], hex[b & 15], '>', 0};
      int32_t id = v.find(name);
      if (id < 0) id = v.find(std::string(1, static_cast<char>(b)));
      v.byte_fallback[b] = id;
    }
  } else {
    for (int b = 0; b < 256; ++b) v.byte_token[b] = v.find(gpt2_byte_char(static_cast<uint8_t>(b)));
    auto merges = f.get_string_array("tokenizer.ggml.merges");
    if (!merges) return merges.error();
    size_t unusable = 0;
    v.merges.reserve((*merges)->size());
    std::string joined;
    for (size_t i = 0; i < (*merges)->size(); ++i) {
      const std::string& m = (**merges)[i];
      const size_t sp = m.find(' ', 1);  // from 1: the left side may itself be a space (as llama.cpp parses)
      if (sp == std::string::npos) {
        ++unusable;
        continue;
      }
      joined.assign(m, 0, sp);
      joined.append(m, sp + 1);
      const int32_t l = v.find(std::string_view(m).substr(0, sp));
      const int32_t r = v.find(std::string_view(m).substr(sp + 1));
      const int32_t res = v.find(joined);
      if (l < 0 || r < 0 || res < 0) {
        ++unusable;
        continue;
      }
      v.merges.try_emplace(Impl::merge_key(l, r), Impl::Merge{static_cast<int32_t>(i), res});  // first rank wins
    }
    if (unusable)
      warn(path + ": tokenizer.ggml.merges: " + std::to_string(unusable) +
           " merges name tokens missing from the vocabulary; ignored");
  }

  for (size_t i = 0; i < n; ++i) {
    const TokenKind k = v.kind[i];
    if ((k == TokenKind::kControl || k == TokenKind::kUnknown || k == TokenKind::kUserDefined) && !v.text[i].empty())
      v.special.push_back(static_cast<int32_t>(i));
  }
  std::stable_sort(v.special.begin(), v.special.end(),
                   [&](int32_t a, int32_t b) { return v.text[a].size() > v.text[b].size(); });
  v.rstrip.assign(n, 0);
  // Phi-3 declares rstrip on its added tokens in tokenizer.json, which GGUF does not carry; llama.cpp recognises
  // the model by name, and so do we.
  std::string name = f.get_string_or("general.name", "");
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  if (name.find("phi-3") != std::string::npos || name.find("phi3") != std::string::npos) {
    for (int32_t id : v.special) v.rstrip[id] = 1;
    for (const char* t : {"<unk>", "<s>", "<|endoftext|>"})
      if (const int32_t id = v.find(t); id >= 0) v.rstrip[id] = 0;
    if (const int32_t id = v.find("</s>"); id >= 0) v.rstrip[id] = 1;
  }

  v.bytes.resize(n);
  for (size_t i = 0; i < n; ++i) v.bytes[i] = compute_bytes(v, static_cast<int32_t>(i));

  Tokenizer tok;
  tok.impl_ = std::move(impl);
  return tok;
}

Encoding Tokenizer::encode(std::string_view text, const EncodeOptions& opt) const {
  Encoding enc;
  if (!impl_) return enc;
  const Impl& v = *impl_;
  const TokenSink sink{&enc};
  enc.ids.reserve(text.size() / 3 + 4);
  enc.offsets.reserve(text.size() / 3 + 4);
  if (opt.add_special && v.add_bos && v.bos >= 0) sink.push(v.bos, 0);

  const std::vector<Fragment> frags = partition(v, text, opt.parse_special);
  if (v.algo == Impl::Algo::kSpm) {
    std::string esc;
    std::vector<uint32_t> orig;
    bool prev_special = true;  // the text's start counts as following a special token: it gets the prefix
    for (const Fragment& fr : frags) {
      if (fr.id >= 0) {
        sink.push(fr.id, fr.begin);
        prev_special = true;
        continue;
      }
      esc.clear();
      orig.clear();
      if (v.add_space_prefix && prev_special) {
        esc += kSpace;
        orig.insert(orig.end(), kSpace.size(), fr.begin);
      }
      for (uint32_t i = fr.begin; i < fr.end; ++i) {
        if (text[i] == ' ') {
          esc += kSpace;
          orig.insert(orig.end(), kSpace.size(), i);
        } else {
          esc += text[i];
          orig.push_back(i);
        }
      }
      v.encode_spm(esc, orig, sink);
      prev_special = false;
    }
  } else {
    for (const Fragment& fr : frags) {
      if (fr.id >= 0) {
        sink.push(fr.id, fr.begin);
      } else {
        v.encode_bpe(text, fr.begin, fr.end, sink);
      }
    }
  }

  if (opt.add_special && v.add_eos && v.eos >= 0) sink.push(v.eos, static_cast<uint32_t>(text.size()));
  return enc;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool strip_prefix_space) const {
  std::string out;
  if (!impl_) return out;
  const Impl& v = *impl_;
  bool strip = v.algo == Impl::Algo::kSpm && v.add_space_prefix && strip_prefix_space;
  for (const int32_t id : ids) {
    if (id < 0 || id >= static_cast<int32_t>(v.bytes.size())) continue;
    const std::string& b = v.bytes[id];
    if (b.empty()) continue;
    if (strip && b[0] == ' ') {
      out.append(b, 1);
    } else {
      out += b;
    }
    strip = false;
  }
  return out;
}

int32_t Tokenizer::vocab_size() const { return impl_ ? static_cast<int32_t>(impl_->text.size()) : 0; }

const std::string& Tokenizer::token_text(int32_t id) const {
  static const std::string none;
  return impl_ && id >= 0 && id < vocab_size() ? impl_->text[id] : none;
}

std::string Tokenizer::token_bytes(int32_t id) const {
  return impl_ && id >= 0 && id < vocab_size() ? impl_->bytes[id] : std::string();
}

TokenKind Tokenizer::token_kind(int32_t id) const {
  return impl_ && id >= 0 && id < vocab_size() ? impl_->kind[id] : TokenKind::kUndefined;
}

float Tokenizer::token_score(int32_t id) const {
  return impl_ && id >= 0 && id < vocab_size() ? impl_->score[id] : 0.0f;
}

const std::string& Tokenizer::model() const { return (impl_ ? *impl_ : empty_impl()).model; }
const std::string& Tokenizer::pre() const { return (impl_ ? *impl_ : empty_impl()).pre; }
int32_t Tokenizer::bos_id() const { return impl_ ? impl_->bos : -1; }
int32_t Tokenizer::eos_id() const { return impl_ ? impl_->eos : -1; }
int32_t Tokenizer::unk_id() const { return impl_ ? impl_->unk : -1; }
bool Tokenizer::add_bos() const { return impl_ && impl_->add_bos; }
bool Tokenizer::add_eos() const { return impl_ && impl_->add_eos; }
bool Tokenizer::add_space_prefix() const { return impl_ && impl_->add_space_prefix; }
int32_t Tokenizer::token_id(std::string_view text) const { return impl_ ? impl_->find(text) : -1; }

}  // namespace ts
