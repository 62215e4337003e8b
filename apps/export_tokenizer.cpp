// tokenscope export-tokenizer: writes a GGUF file's tokenizer as HF `tokenizers` files, so that Python tools that
// need "the model's tokenizer" (lm-eval's tokenizer_backend=huggingface, transformers' AutoTokenizer) encode text to
// the ids tokenscope uses.
//
//   DIR/tokenizer.json         the `tokenizers` format (version "1.0"): added_tokens, normalizer, pre_tokenizer,
//                              post_processor, decoder and a BPE model (vocab + merges)
//   DIR/tokenizer_config.json  tokenizer_class PreTrainedTokenizerFast, bos/eos/unk/pad token texts,
//                              add_bos_token/add_eos_token, model_max_length (<arch>.context_length), chat_template
//
// How each of our tokenizers is expressed (checked by tests/python/test_export_tokenizer.py, id for id):
// - gpt2 (byte-level BPE): pre_tokenizer = Sequence[Split(regex, Isolated) for each regex of tokenizer.ggml.pre as
//   src/tokenizer/pretokenizer.cpp lists them, ByteLevel(add_prefix_space=false, use_regex=false)]. Split with
//   behaviour Isolated keeps matches and the text between them as pieces, which is our splitting contract, and each
//   Split runs on the pieces of the one before. Merges are the GGUF's, in order, without those our tokenizer ignores
//   (a side or the result missing from the vocabulary; a repeated pair: the first rank wins). ignore_merges as the
//   pre-tokenizer family says (llama3, tekken). The regexes are the same text for both engines (PCRE2 here,
//   Oniguruma in `tokenizers`), but the engines' Unicode tables differ at the edges: PCRE2's \s includes U+180E
//   (Mongolian vowel separator), Oniguruma's (and llama.cpp's) does not, so text with U+180E can split differently.
// - llama (SentencePiece BPE, merges by score): HF's legacy Llama form (transformers' LlamaConverter with
//   legacy=true): normalizer = Sequence[Prepend("▁") when add_space_prefix, Replace(" " -> "▁")], no
//   pre-tokenizer, BPE with byte_fallback. HF normalizes each run of text between added tokens on its own, so every
//   run gets the prefix, as ours does after every special token. SentencePiece merges any two neighbouring symbols
//   whose concatenation is a token, best token score first; HF's BPE needs a ranked list of pairs, so every token T
//   gives one merge per split of T (at a character boundary) into two tokens, ranked by T's score (higher first,
//   then lower id, then shorter left side), as HF's converter (SentencePieceExtractor) derives them too. One thing
//   this cannot say: when two different candidate tokens have exactly the same score, SentencePiece merges the
//   leftmost first while HF follows the rank. Trained vocabularies rarely tie (llama's only tie, its runs of "▁" at
//   -1e9, gives the same ids either way; the test checks runs of spaces).
// - Control, unknown and user-defined tokens are added_tokens (normalized=false, so they are matched in the raw
//   text as ours are; control/unknown are `special`, user-defined not), and stay in the BPE vocabulary with the same
//   ids. HF's encode(text) then equals our encode with add_special and parse_special; HF's encode with
//   add_special_tokens=False and encode_special_tokens=True equals ours with --no-special.
// - A token text that occurs twice maps to its last id, as in our tokenizer; the earlier ids are left out of the
//   vocabulary (HF's vocab is a map), and a warning counts them.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "common.h"
#include "gguf/gguf.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace ts::cli {
namespace {

constexpr const char* kSpace = "\xE2\x96\x81";  // U+2581, SentencePiece's visible space

// A JSON string literal; invalid UTF-8 (a partial-character token) becomes U+FFFD rather than an exception.
std::string quote(const std::string& s) { return dump_json(Json(s)); }

// PCRE2 regex -> Oniguruma (Ruby syntax, what `tokenizers` compiles Split patterns with). The syntax we use is
// common to both except `$`: we compile with PCRE2_DOLLAR_ENDONLY (end of the piece only), Ruby's `$` also matches
// before a newline, so a bare `$` outside a character class becomes `\z`.
std::string to_onig(const std::string& re) {
  std::string out;
  int depth = 0;  // inside [...]
  for (size_t i = 0; i < re.size(); ++i) {
    const char c = re[i];
    if (c == '\\' && i + 1 < re.size()) {
      out += c;
      out += re[++i];
      continue;
    }
    if (c == '[') ++depth;
    if (c == ']' && depth > 0) --depth;
    if (c == '$' && depth == 0) {
      out += "\\z";
      continue;
    }
    out += c;
  }
  return out;
}

struct Vocab {
  std::vector<int32_t> ids;  // ids that appear in the HF vocab (non-empty text, the last id of a repeated text)
  size_t shadowed = 0;       // ids left out because a later id has the same text
};

Vocab vocab_ids(const Tokenizer& tok) {
  Vocab v;
  for (int32_t id = 0; id < tok.vocab_size(); ++id) {
    const std::string& t = tok.token_text(id);
    if (t.empty()) continue;
    if (tok.token_id(t) != id) {
      ++v.shadowed;
      continue;
    }
    v.ids.push_back(id);
  }
  return v;
}

using Merges = std::vector<std::pair<std::string, std::string>>;

// gpt2: the GGUF's merges that our tokenizer uses, in rank order (tokenizer.cpp parses them the same way).
Expected<Merges> gguf_merges(const gguf::File& f, const Tokenizer& tok) {
  auto list = f.get_string_array("tokenizer.ggml.merges");
  if (!list) return list.error();
  Merges out;
  std::map<std::pair<int32_t, int32_t>, bool> seen;
  for (const std::string& m : **list) {
    const size_t sp = m.find(' ', 1);
    if (sp == std::string::npos) continue;
    std::string l = m.substr(0, sp), r = m.substr(sp + 1);
    const int32_t li = tok.token_id(l), ri = tok.token_id(r);
    if (li < 0 || ri < 0 || tok.token_id(l + r) < 0) continue;
    if (!seen.emplace(std::make_pair(li, ri), true).second) continue;
    out.emplace_back(std::move(l), std::move(r));
  }
  return out;
}

// llama (SentencePiece): one merge per split of a token into two tokens, ranked by the token's score.
Merges spm_merges(const Tokenizer& tok, const Vocab& vocab) {
  struct M {
    float score;
    int32_t id;
    size_t split;
  };
  std::vector<M> ms;
  for (const int32_t id : vocab.ids) {
    const std::string& t = tok.token_text(id);
    for (size_t i = 0; i < t.size();) {
      size_t n = utf8::decode(t, i);
      i += n ? n : 1;  // our SentencePiece symbols are characters, an invalid byte being one of its own
      if (i >= t.size()) break;
      if (tok.token_id(std::string_view(t).substr(0, i)) >= 0 && tok.token_id(std::string_view(t).substr(i)) >= 0)
        ms.push_back({tok.token_score(id), id, i});
    }
  }
  std::stable_sort(ms.begin(), ms.end(), [](const M& a, const M& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.id != b.id) return a.id < b.id;
    return a.split < b.split;
  });
  Merges out;
  out.reserve(ms.size());
  for (const M& m : ms) {
    const std::string& t = tok.token_text(m.id);
    out.emplace_back(t.substr(0, m.split), t.substr(m.split));
  }
  return out;
}

// Phi-3 strips whitespace after most of its added tokens; GGUF does not carry that flag, so tokenizer.cpp
// recognises the model by name, and so do we here.
bool is_phi3(const gguf::File& f) {
  std::string name = f.get_string_or("general.name", "");
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  return name.find("phi-3") != std::string::npos || name.find("phi3") != std::string::npos;
}

bool is_added(TokenKind k) { return k == TokenKind::kControl || k == TokenKind::kUnknown || k == TokenKind::kUserDefined; }

Json added_tokens(const gguf::File& f, const Tokenizer& tok, const Vocab& vocab) {
  const bool phi3 = is_phi3(f);
  Json a = Json::array();
  for (const int32_t id : vocab.ids) {
    const TokenKind k = tok.token_kind(id);
    if (!is_added(k)) continue;
    const std::string& t = tok.token_text(id);
    bool rstrip = phi3 && t != "<unk>" && t != "<s>" && t != "<|endoftext|>";
    a.push_back({{"id", id},
                 {"content", t},
                 {"single_word", false},
                 {"lstrip", false},
                 {"rstrip", rstrip},
                 {"normalized", false},
                 {"special", k != TokenKind::kUserDefined}});
  }
  return a;
}

Json template_processing(const Tokenizer& tok) {
  const bool bos = tok.add_bos() && tok.bos_id() >= 0, eos = tok.add_eos() && tok.eos_id() >= 0;
  if (!bos && !eos) return nullptr;
  Json specials = Json::object();
  auto special = [&](int32_t id, int type_id) {
    const std::string& t = tok.token_text(id);
    specials[t] = {{"id", t}, {"ids", Json::array({id})}, {"tokens", Json::array({t})}};
    return Json{{"SpecialToken", {{"id", t}, {"type_id", type_id}}}};
  };
  auto sequence = [](const char* s, int type_id) { return Json{{"Sequence", {{"id", s}, {"type_id", type_id}}}}; };
  Json single = Json::array(), pair = Json::array();
  if (bos) single.push_back(special(tok.bos_id(), 0));
  single.push_back(sequence("A", 0));
  if (eos) single.push_back(special(tok.eos_id(), 0));
  pair = single;
  if (bos) pair.push_back(special(tok.bos_id(), 1));
  pair.push_back(sequence("B", 1));
  if (eos) pair.push_back(special(tok.eos_id(), 1));
  return {{"type", "TemplateProcessing"}, {"single", single}, {"pair", pair}, {"special_tokens", specials}};
}

Json replace(const std::string& from, const std::string& to) {
  return {{"type", "Replace"}, {"pattern", {{"String", from}}}, {"content", to}};
}

// Everything of tokenizer.json but the vocabulary and merges, which write_tokenizer_json streams.
struct Parts {
  Json added, normalizer, pre_tokenizer, post_processor, decoder;
  Json model_head;  // the BPE model's fields before "vocab"
};

Parts make_parts(const gguf::File& f, const Tokenizer& tok, const Vocab& vocab) {
  Parts p;
  p.added = added_tokens(f, tok, vocab);
  p.post_processor = template_processing(tok);
  const bool spm = tok.model() == "llama";
  const int32_t unk = tok.unk_id();
  Json unk_token = unk >= 0 && tok.token_id(tok.token_text(unk)) == unk ? Json(tok.token_text(unk)) : Json(nullptr);
  bool ignore_merges = false;
  if (spm) {
    Json norms = Json::array();
    if (tok.add_space_prefix()) norms.push_back({{"type", "Prepend"}, {"prepend", kSpace}});
    norms.push_back(replace(" ", kSpace));
    p.normalizer = {{"type", "Sequence"}, {"normalizers", norms}};
    p.pre_tokenizer = nullptr;
    Json decoders = Json::array({replace(kSpace, " "), Json{{"type", "ByteFallback"}}, Json{{"type", "Fuse"}}});
    if (tok.add_space_prefix()) decoders.push_back({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});
    p.decoder = {{"type", "Sequence"}, {"decoders", decoders}};
  } else {
    PreTokenizerRules rules;
    pre_tokenizer_rules(tok.pre(), &rules);  // pre() is a family name, itself one of the family's aliases
    ignore_merges = rules.ignore_merges;
    Json seq = Json::array();
    for (const std::string& re : rules.regexes)
      seq.push_back({{"type", "Split"}, {"pattern", {{"Regex", to_onig(re)}}}, {"behavior", "Isolated"}, {"invert", false}});
    seq.push_back({{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", false}});
    p.normalizer = nullptr;
    p.pre_tokenizer = {{"type", "Sequence"}, {"pretokenizers", seq}};
    p.decoder = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}};
  }
  p.model_head = {{"type", "BPE"},
                  {"dropout", nullptr},
                  {"unk_token", unk_token},
                  {"continuing_subword_prefix", nullptr},
                  {"end_of_word_suffix", nullptr},
                  {"fuse_unk", false},  // ours gives one unknown token per character
                  {"byte_fallback", spm && tok.token_id("<0x00>") >= 0},
                  {"ignore_merges", ignore_merges}};
  return p;
}

// tokenizer.json, one vocabulary entry and one merge per line. The vocabulary is written by hand because an
// ordered JSON object of 100k keys is quadratic to build.
std::string tokenizer_json(const Parts& p, const Tokenizer& tok, const Vocab& vocab, const Merges& merges) {
  std::string s = "{\n";
  auto field = [&](const char* k, const Json& v) { s += "  " + quote(k) + ": " + dump_json(v) + ",\n"; };
  field("version", "1.0");
  field("truncation", nullptr);
  field("padding", nullptr);
  s += "  \"added_tokens\": [";
  for (size_t i = 0; i < p.added.size(); ++i) s += std::string(i ? "," : "") + "\n    " + dump_json(p.added[i]);
  s += p.added.empty() ? "],\n" : "\n  ],\n";
  field("normalizer", p.normalizer);
  field("pre_tokenizer", p.pre_tokenizer);
  field("post_processor", p.post_processor);
  field("decoder", p.decoder);
  s += "  \"model\": {\n";
  for (auto it = p.model_head.begin(); it != p.model_head.end(); ++it)
    s += "    " + quote(it.key()) + ": " + dump_json(it.value()) + ",\n";
  s += "    \"vocab\": {";
  for (size_t i = 0; i < vocab.ids.size(); ++i)
    s += std::string(i ? "," : "") + "\n      " + quote(tok.token_text(vocab.ids[i])) + ": " +
         std::to_string(vocab.ids[i]);
  s += "\n    },\n    \"merges\": [";
  for (size_t i = 0; i < merges.size(); ++i)
    s += std::string(i ? "," : "") + "\n      [" + quote(merges[i].first) + ", " + quote(merges[i].second) + "]";
  s += merges.empty() ? "]\n" : "\n    ]\n";
  s += "  }\n}\n";
  return s;
}

Json tokenizer_config(const gguf::File& f, const Tokenizer& tok) {
  auto text_of = [&](int32_t id) { return id >= 0 ? Json(tok.token_text(id)) : Json(nullptr); };
  const int32_t pad = static_cast<int32_t>(f.get_int_or("tokenizer.ggml.padding_token_id", -1));
  Json c = {{"tokenizer_class", "PreTrainedTokenizerFast"},
            {"bos_token", text_of(tok.bos_id())},
            {"eos_token", text_of(tok.eos_id())},
            {"unk_token", text_of(tok.unk_id())},
            {"pad_token", text_of(pad >= 0 && pad < tok.vocab_size() ? pad : -1)},
            {"add_bos_token", tok.add_bos()},
            {"add_eos_token", tok.add_eos()},
            {"clean_up_tokenization_spaces", false}};
  const std::string arch = f.get_string_or("general.architecture", "");
  if (const int64_t n = f.get_int_or(arch + ".context_length", 0); !arch.empty() && n > 0) c["model_max_length"] = n;
  if (f.find("tokenizer.chat_template")) c["chat_template"] = f.get_string_or("tokenizer.chat_template", "");
  return c;
}

Status write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Error::input(path.string() + ": cannot write");
  out << text;
  out.close();
  if (!out) return Error::input(path.string() + ": write error");
  return ok_status();
}

int run_export(const std::string& model_arg, const std::string& dir) {
  auto path = resolve_model(model_arg);
  if (!path) return report(path.error());
  auto f = gguf::File::open(*path);
  if (!f) return report(f.error());
  auto tok = Tokenizer::from_gguf(*f);
  if (!tok) return report(tok.error());

  const Vocab vocab = vocab_ids(*tok);
  Merges merges;
  if (tok->model() == "llama") {
    merges = spm_merges(*tok, vocab);
  } else {
    auto m = gguf_merges(*f, *tok);
    if (!m) return report(m.error());
    merges = std::move(*m);
  }
  if (vocab.shadowed)
    std::fprintf(stderr, "tokenscope: warning: %s: %zu token ids share their text with a later id and are left out "
                 "of tokenizer.json's vocabulary\n", path->c_str(), vocab.shadowed);

  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir))
    return report(Error::input(dir + ": cannot create directory" + (ec ? ": " + ec.message() : std::string())));
  const Parts parts = make_parts(*f, *tok, vocab);
  if (auto s = write_file(std::filesystem::path(dir) / "tokenizer.json", tokenizer_json(parts, *tok, vocab, merges)); !s)
    return report(s.error());
  if (auto s = write_file(std::filesystem::path(dir) / "tokenizer_config.json",
                          tokenizer_config(*f, *tok).dump(2, ' ', false, Json::error_handler_t::replace) + "\n");
      !s)
    return report(s.error());
  std::fprintf(stderr, "tokenscope: wrote %s/tokenizer.json (%s, %zu tokens, %zu merges) and tokenizer_config.json\n",
               dir.c_str(), tok->model().c_str(), vocab.ids.size(), merges.size());
  return 0;
}

}  // namespace

void register_export_tokenizer(CLI::App& app, Run& run) {
  auto* cmd = app.add_subcommand(
      "export-tokenizer",
      "Write a GGUF file's tokenizer as HF tokenizer.json + tokenizer_config.json (for lm-eval, transformers)");
  cmd->footer(
      "The exported tokenizer.json encodes text to the same ids as `tokenscope tokenize`: with HF's default\n"
      "add_special_tokens=True it adds BOS/EOS as the GGUF says; add_special_tokens=False with\n"
      "encode_special_tokens=True matches `tokenize --no-special`.\n");
  struct Opts {
    std::string model, dir;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("-m,--model", o->model, "GGUF file (a vocabulary-only file is enough) (default: the bundled demo model)");
  cmd->add_option("-o,--output", o->dir, "Directory to write tokenizer.json and tokenizer_config.json into (created)")
      ->required();
  cmd->callback([&run, o] { run = [o] { return run_export(o->model, o->dir); }; });
}

}  // namespace ts::cli
