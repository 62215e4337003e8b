// Pre-tokenizer regexes by tokenizer.ggml.pre name, and the PCRE2 splitter. See pretokenizer.h for the contract.
//
// The regexes are the ones llama.cpp's src/llama-vocab.cpp (llm_tokenizer_bpe) lists per pre-tokenizer type, which
// in turn come from each model's tokenizer.json. Where llama.cpp rewrote a regex for std::regex (no `(?i:...)`, no
// \p{Lu}), we use the original tokenizer.json form that llama.cpp keeps in a comment: PCRE2 supports it directly.
// Non-ASCII ranges are written as \x{...} escapes so that look-alike characters cannot creep in.
#include "tokenizer/pretokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <array>
#include <utility>

#include "tokenizer/utf8.h"

namespace ts {
namespace {

// GPT-2 (tokenizer.json of gpt2; llama.cpp drops the final `|\s+`, which changes no split: a lone whitespace
// character that nothing else matches becomes a piece of its own either way).
constexpr const char* kGpt2 = R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)re";
// Llama 3 (also dbrx, smaug, chatglm4): digits in groups of up to three.
constexpr const char* kLlama3 =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
// Qwen2 (also stablelm2, grok-2, megrez): single digits.
constexpr const char* kQwen2 =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
constexpr const char* kQwen35 =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
constexpr const char* kCjk = R"re([\x{4E00}-\x{9FA5}\x{800}-\x{4E00}\x{AC00}-\x{D7FF}]+)re";
// deepseek-llm: its letter class is an explicit list of cased-letter ranges.
constexpr const char* kDeepseekLetters =
    R"re(\s?[A-Za-z\x{B5}\x{C0}-\x{D6}\x{D8}-\x{F6}\x{F8}-\x{1BA}\x{1BC}-\x{1BF}\x{1C4}-\x{293}\x{295}-\x{2AF})re"
    R"re(\x{370}-\x{373}\x{376}\x{377}\x{37B}-\x{37D}\x{37F}\x{386}\x{388}-\x{38A}\x{38C}\x{38E}-\x{3A1})re"
    R"re(\x{3A3}-\x{3F5}\x{3F7}-\x{481}\x{48A}-\x{52F}\x{531}-\x{556}\x{10A0}-\x{10C5}\x{13A0}-\x{13F5})re"
    R"re(\x{13F8}-\x{13FD}\x{1C90}-\x{1CBA}\x{1CBD}-\x{1CBF}\x{1D00}-\x{1D2B}\x{1D6B}-\x{1D77}\x{1D79}-\x{1D9A})re"
    R"re(\x{1E00}-\x{1F15}\x{1F18}-\x{1F1D}\x{1F20}-\x{1F45}\x{1F48}-\x{1F4D}\x{1F50}-\x{1F57}\x{1F59}\x{1F5B})re"
    R"re(\x{1F5D}\x{1F5F}-\x{1F7D}\x{1F80}-\x{1FB4}\x{1FB6}-\x{1FBC}\x{1FBE}\x{1FC2}-\x{1FC4}\x{1FC6}-\x{1FCC})re"
    R"re(\x{1FD0}-\x{1FD3}\x{1FD6}-\x{1FDB}\x{1FE0}-\x{1FEC}\x{1FF2}-\x{1FF4}\x{1FF6}-\x{1FFC}\x{2102}\x{2107})re"
    R"re(\x{210A}-\x{2113}\x{2115}\x{2119}-\x{211D}\x{2124}\x{2126}\x{2128}\x{212A}-\x{212D}\x{212F}-\x{2134})re"
    R"re(\x{2139}\x{213C}-\x{213F}\x{2145}-\x{2149}\x{214E}\x{2183}\x{2184}\x{2C00}-\x{2C7B}\x{2C7E}-\x{2CE4})re"
    R"re(\x{2CEB}-\x{2CEE}\x{2CF2}\x{2CF3}\x{A640}-\x{A66D}\x{A680}-\x{A69B}\x{A722}-\x{A76F}\x{A771}-\x{A787})re"
    R"re(\x{A78B}-\x{A78E}\x{AB70}-\x{ABBF}\x{FB00}-\x{FB06}\x{FB13}-\x{FB17}\x{FF21}-\x{FF3A}\x{FF41}-\x{FF5A})re"
    R"re(\x{10400}-\x{1044F}\x{104B0}-\x{104D3}\x{104D8}-\x{104FB}\x{10C80}-\x{10CB2}\x{10CC0}-\x{10CF2})re"
    R"re(\x{118A0}-\x{118DF}\x{1E900}-\x{1E943}]+)re";
constexpr const char* kDeepseekPunct = R"re(\s?[!-/:-~\x{FF01}-\x{FF0F}\x{FF1A}-\x{FF5E}\x{2018}-\x{201F}\x{3000}-\x{3002}]+)re";
constexpr const char* kDeepseek3 =
    R"re([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
// Mistral tekken and GPT-4o / Llama 4: case-aware words.
constexpr const char* kTekken =
    R"re([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
constexpr const char* kGpt4o =
    R"re([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
constexpr const char* kSeedCoder =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1}| ?[^\s\p{L}\p{N}\r\n]+|\s*[\r\n]+|\s+(?!\S)|\s+)re";
constexpr const char* kBailing =
    R"re('(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+)re";
constexpr const char* kBloom = R"re( ?[^(\s|.,!?\x{2026}\x{3002}\x{FF0C}\x{3001}\x{964}\x{6D4}\x{60C})]+)re";

struct Family {
  const char* name;
  std::vector<const char*> aliases;  // tokenizer.ggml.pre values
  std::vector<std::string> regexes;
  bool ignore_merges;
  bool add_bos;
};

const std::vector<Family>& families() {
  static const std::vector<Family> k = {
      {"default", {"default"}, {R"re([\p{P}\$\+<=>\^~\|]+)re", kGpt2, R"re(\p{N}+)re", "[0-9][0-9][0-9]"}, false, false},
      {"gpt-2",
       {"gpt-2", "gpt2", "gpt-neox", "mpt", "olmo", "phi-2", "jais", "jina-es", "jina-de", "jina-v2-es", "jina-v2-de",
        "jina-v1-en", "jina-v2-code", "roberta-bpe", "gigachat", "a.x-4.0", "mellum", "modern-bert", "exaone4",
        "trillion", "granite-docling"},
       {kGpt2},
       false,
       false},
      {"llama3",
       {"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2"},
       {kLlama3},
       true,
       true},
      {"dbrx", {"dbrx", "smaug-bpe", "chatglm-bpe", "glm4"}, {kLlama3}, false, false},
      {"qwen2", {"qwen2", "deepseek-r1-qwen", "stablelm2", "megrez", "grok-2", "hunyuan"}, {kQwen2}, false, false},
      {"qwen35", {"qwen35"}, {kQwen35}, false, false},
      {"deepseek-llm",
       {"deepseek-llm"},
       {"[\\r\\n]", kDeepseekLetters, kDeepseekPunct, R"re(\s+$)re", kCjk, R"re(\p{N}+)re"},
       false,
       false},
      {"deepseek-coder", {"deepseek-coder"}, {"[\\r\\n]", R"re(\s?\p{L}+)re", R"re(\s?\p{P}+)re", kCjk, R"re(\p{N})re"},
       false, false},
      {"deepseek-v3",
       {"deepseek-v3", "hunyuan-dense"},
       {R"re(\p{N}{1,3})re", R"re([\x{4E00}-\x{9FA5}\x{3040}-\x{309F}\x{30A0}-\x{30FF}]+)re", kDeepseek3},
       false,
       false},
      {"falcon", {"falcon"}, {R"re([\p{P}\$\+<=>\^~\|`]+)re", kGpt2, "[0-9][0-9][0-9]"}, false, false},
      {"starcoder",
       {"starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b", "mellum2"},
       {R"re(\p{N})re", kGpt2},
       false,
       false},
      {"tekken", {"tekken"}, {kTekken}, true, true},
      {"gpt-4o", {"gpt-4o", "llama4", "minimax-m2"}, {kGpt4o}, false, false},
      {"seed-coder", {"seed-coder"}, {kSeedCoder}, false, false},
      {"bailingmoe", {"bailingmoe", "bailingmoe2", "llada-moe"}, {kBailing}, false, false},
      {"bloom", {"bloom", "poro-chat", "gpt3-finnish"}, {kBloom}, false, false},
      {"viking", {"viking"}, {kBloom, R"re(\p{N})re"}, false, false},
  };
  return k;
}

}  // namespace

bool pre_tokenizer_rules(std::string_view pre, PreTokenizerRules* out) {
  for (const Family& f : families()) {
    for (const char* a : f.aliases) {
      if (pre == a) {
        *out = PreTokenizerRules{f.name, f.regexes, f.ignore_merges, f.add_bos};
        return true;
      }
    }
  }
  return false;
}

struct RegexSplitter::Compiled {
  std::vector<pcre2_code*> codes;
  bool jit = true;  // every code was JIT-compiled
  ~Compiled() {
    for (pcre2_code* c : codes) pcre2_code_free(c);
  }
};

namespace {

// Unicode White_Space (PropList.txt): what \s means to the reference engines (HF tokenizers' Oniguruma, llama.cpp's
// own matcher). PCRE2's \s in UCP mode also takes U+180E MONGOLIAN VOWEL SEPARATOR (White_Space before Unicode
// 6.3), which split "x\u180e'll" differently from HF; so every \s and \S is rewritten to this list before compiling.
constexpr const char* kWhiteSpace = R"(\t-\r\x{20}\x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000})";

std::string explicit_white_space(const std::string& re) {
  std::string out;
  bool in_class = false;
  for (size_t i = 0; i < re.size(); ++i) {
    const char ch = re[i];
    if (ch == '\\' && i + 1 < re.size()) {
      const char e = re[i + 1];
      if (e == 's' || e == 'S') {
        if (in_class && e == 's') out += kWhiteSpace;
        else if (!in_class) out += std::string(e == 's' ? "[" : "[^") + kWhiteSpace + "]";
        else out += "\\S";  // \S inside a class: not used by any pre-tokenizer; left to PCRE2
      } else {
        out += ch;
        out += e;
      }
      ++i;
      continue;
    }
    if (!in_class && ch == '[') {
      in_class = true;
      out += ch;
      // a ']' right after '[' or '[^' is a literal
      if (i + 1 < re.size() && re[i + 1] == '^') out += re[++i];
      if (i + 1 < re.size() && re[i + 1] == ']') out += re[++i];
      continue;
    }
    if (in_class && ch == ']') in_class = false;
    out += ch;
  }
  return out;
}

}  // namespace

Expected<RegexSplitter> RegexSplitter::compile(const std::vector<std::string>& regexes) {
  auto c = std::make_shared<Compiled>();
  for (const std::string& given : regexes) {
    const std::string re = explicit_white_space(given);
    int err = 0;
    PCRE2_SIZE err_off = 0;
    // DOLLAR_ENDONLY: `$` is the piece's end only, as in std::regex (deepseek-llm's `\s+$`).
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(re.data()), re.size(),
                                     PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY, &err, &err_off, nullptr);
    if (!code) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(err, msg, sizeof msg);
      return Error::internal("pre-tokenizer regex '" + given + "': offset " + std::to_string(err_off) + ": " +
                             reinterpret_cast<const char*>(msg));
    }
    if (pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) != 0) c->jit = false;  // the interpreter still works
    c->codes.push_back(code);
  }
  RegexSplitter s;
  s.c_ = std::move(c);
  return s;
}

namespace {

// Per-call PCRE2 state: match data per regex, and a JIT stack larger than the 32 KiB default so that long runs
// (e.g. 100 KB of spaces against `\s+(?!\S)`) do not fail.
struct MatchState {
  pcre2_match_context* mctx = nullptr;
  pcre2_jit_stack* jstack = nullptr;
  std::vector<pcre2_match_data*> md;
  ~MatchState() {
    for (auto* m : md) pcre2_match_data_free(m);
    if (mctx) pcre2_match_context_free(mctx);
    if (jstack) pcre2_jit_stack_free(jstack);
  }
};

}  // namespace

void RegexSplitter::split(std::string_view text, std::vector<Piece>& out) const {
  out.clear();
  if (text.empty()) return;
  out.push_back({0, static_cast<uint32_t>(text.size())});
  if (!c_ || c_->codes.empty()) return;

  MatchState st;
  st.mctx = pcre2_match_context_create(nullptr);
  if (c_->jit) {
    st.jstack = pcre2_jit_stack_create(32 * 1024, 16 * 1024 * 1024, nullptr);
    if (st.jstack) pcre2_jit_stack_assign(st.mctx, nullptr, st.jstack);
  }
  for (pcre2_code* code : c_->codes) st.md.push_back(pcre2_match_data_create_from_pattern(code, nullptr));

  std::vector<Piece> next;
  next.reserve(text.size() / 4 + 1);
  const auto* base = reinterpret_cast<PCRE2_SPTR>(text.data());
  for (size_t r = 0; r < c_->codes.size(); ++r) {
    pcre2_code* code = c_->codes[r];
    pcre2_match_data* md = st.md[r];
    next.clear();
    for (const Piece& p : out) {
      const PCRE2_SPTR subject = base + p.begin;
      const size_t len = p.end - p.begin;
      size_t gap = 0;  // start of the text not yet emitted
      size_t at = 0;   // where the next search starts
      while (at < len) {
        int rc = pcre2_match(code, subject, len, at, PCRE2_NO_UTF_CHECK, md, st.mctx);
        if (rc == PCRE2_ERROR_JIT_STACKLIMIT)  // retry this one search with the interpreter (heap frames)
          rc = pcre2_match(code, subject, len, at, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, md, st.mctx);
        if (rc < 0) break;  // no match, or a resource limit: the rest stays one piece
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
        const size_t ms = ov[0], me = ov[1];
        if (me <= ms) {  // empty match: step over one character
          const size_t n = utf8::decode(text, p.begin + ms);
          at = ms + (n ? n : 1);
          continue;
        }
        if (ms > gap) next.push_back({p.begin + static_cast<uint32_t>(gap), p.begin + static_cast<uint32_t>(ms)});
        next.push_back({p.begin + static_cast<uint32_t>(ms), p.begin + static_cast<uint32_t>(me)});
        gap = at = me;
      }
      if (gap < len) next.push_back({p.begin + static_cast<uint32_t>(gap), p.end});
    }
    out.swap(next);
  }
}

}  // namespace ts
