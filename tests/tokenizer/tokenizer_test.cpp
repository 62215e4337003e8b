// Unit tests of the tokenizers: offsets, token bytes, decode(encode(x)) == x, special-token parsing, merge order,
// and load errors. Small synthetic vocabularies are written with gguf::Writer; the rest use the fixture vocabularies.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "fixtures.h"
#include "gguf/gguf.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer.h"

namespace ts {
namespace {

const EncodeOptions kPlain{.add_special = false, .parse_special = false};

// Fixture tokenizers are loaded once per test binary: the gpt-2 vocabulary has 50 K tokens and 50 K merges.
const Tokenizer* fixture_tokenizer(const std::string& path) {
  static std::map<std::string, Tokenizer> cache;
  if (auto it = cache.find(path); it != cache.end()) return &it->second;
  auto f = gguf::File::open(path);
  if (!f) return nullptr;
  auto t = Tokenizer::from_gguf(*f);
  if (!t) return nullptr;
  return &cache.emplace(path, std::move(*t)).first->second;
}

#define TS_FIXTURE_TOKENIZER(var, rel)                         \
  TS_REQUIRE_FIXTURE(var##_path, rel);                         \
  const Tokenizer* var##_ptr = fixture_tokenizer(var##_path);  \
  ASSERT_NE(var##_ptr, nullptr) << "cannot load " << var##_path; \
  const Tokenizer& var = *var##_ptr

Expected<Tokenizer> from_writer(const gguf::Writer& w) {
  auto f = gguf::File::from_bytes(w.to_bytes(), "synthetic.gguf");
  if (!f) return f.error();
  return Tokenizer::from_gguf(*f);
}

// SentencePiece vocabulary: <unk> <s> </s>, 256 byte tokens, then `normal` (with `scores`) and the user-defined
// token "<|user|>".
gguf::Writer spm_vocab(const std::vector<std::string>& normal, const std::vector<double>& scores,
                       bool add_space_prefix) {
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  std::vector<int64_t> types = {2, 3, 3};
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    tokens.push_back(buf);
    types.push_back(6);
  }
  std::vector<double> sc(tokens.size(), 0.0);
  for (size_t i = 0; i < normal.size(); ++i) {
    tokens.push_back(normal[i]);
    types.push_back(1);
    sc.push_back(scores[i]);
  }
  tokens.push_back("<|user|>");
  types.push_back(4);
  sc.push_back(0.0);
  gguf::Writer w;
  w.add_string("tokenizer.ggml.model", "llama");
  w.add_string_array("tokenizer.ggml.tokens", tokens);
  w.add_f32_array("tokenizer.ggml.scores", sc);
  w.add_i32_array("tokenizer.ggml.token_type", types);
  w.add_bool("tokenizer.ggml.add_space_prefix", add_space_prefix);
  return w;
}

// Byte-level BPE vocabulary: the 256 byte characters, `extra` normal tokens, and control tokens "[A]", "[A][B]".
gguf::Writer bpe_vocab(const std::vector<std::string>& extra, const std::vector<std::string>& merges,
                       const std::string& pre) {
  std::vector<std::string> tokens;
  std::vector<int64_t> types;
  int n_extra = 0;
  for (int b = 0; b < 256; ++b) {  // GPT-2 byte-to-unicode table
    const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    const uint32_t cp = printable ? b : 256 + n_extra++;
    std::string s;
    if (cp < 0x80) {
      s += static_cast<char>(cp);
    } else {
      s += static_cast<char>(0xC0 | (cp >> 6));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    }
    tokens.push_back(s);
    types.push_back(1);
  }
  for (const auto& e : extra) {
    tokens.push_back(e);
    types.push_back(1);
  }
  for (const char* c : {"[A]", "[A][B]"}) {
    tokens.push_back(c);
    types.push_back(3);
  }
  gguf::Writer w;
  w.add_string("tokenizer.ggml.model", "gpt2");
  w.add_string("tokenizer.ggml.pre", pre);
  w.add_string_array("tokenizer.ggml.tokens", tokens);
  w.add_i32_array("tokenizer.ggml.token_type", types);
  w.add_string_array("tokenizer.ggml.merges", merges);
  return w;
}

std::vector<std::string> pieces(const Tokenizer& t, const Encoding& e) {
  std::vector<std::string> out;
  for (int32_t id : e.ids) out.push_back(t.token_text(id));
  return out;
}

// Texts for the property tests: scripts, whitespace runs, a NUL byte, and invalid UTF-8 of every kind.
std::vector<std::string> varied_texts() {
  std::vector<std::string> v = {
      "", " ", "   ", "Hello world", " Hello  World!\n\n\tTabs\r\nCRLF  ", "Äpfel für Groß und Klein",
      "нещо на Български", "我想在apple工作1314151天～", "🚀 (normal) 😶‍🌫️ ✅ 🦙.cpp", "e\xCC\x81 combining",
      "x = 3.14159; y=-2e10 // 333333333", "It's 'RE' 'll WE'VE", std::string("a\0b c", 5), "\xff",
      "abc\xfe\xff def", "\xe2\x82", "\xe2\x82 x", "\x80\x80 \x80", "\xc0\xaf", "\xed\xa0\x80 surrogate",
      "\xf4\x90\x80\x80 too big", "ok\xF0\x9F\xA6", "    Hello\n    Hello", std::string(300, 'a'),
  };
  uint64_t s = 0x9E3779B97F4A7C15ull;  // fixed seed: the same strings on every run
  auto next = [&] {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  };
  for (int i = 0; i < 300; ++i) {
    std::string t;
    const int len = static_cast<int>(next() % 25);
    for (int k = 0; k < len; ++k) {
      const uint64_t r = next();
      t += (r & 1) ? static_cast<char>(" aZ'\n1."[(r >> 8) % 7]) : static_cast<char>((r >> 8) & 0xFF);
    }
    v.push_back(t);
  }
  return v;
}

// Every token's bytes are the input at its offset (SentencePiece: but for the space it inserts before the text).
void expect_offsets_map_back(const Tokenizer& tok, const std::string& text, bool spm) {
  const Encoding enc = tok.encode(text, kPlain);
  ASSERT_EQ(enc.ids.size(), enc.offsets.size());
  for (size_t i = 0; i < enc.ids.size(); ++i) {
    std::string b = tok.token_bytes(enc.ids[i]);
    if (spm && i == 0 && !b.empty() && b[0] == ' ') b.erase(0, 1);
    const uint32_t off = enc.offsets[i];
    ASSERT_LE(off + b.size(), text.size()) << "token " << i << " of '" << text << "'";
    EXPECT_EQ(text.substr(off, b.size()), b) << "token " << i << " '" << tok.token_text(enc.ids[i]) << "' of '"
                                             << text << "'";
    if (i > 0) {
      EXPECT_GE(off, enc.offsets[i - 1]);
    }
  }
}

TEST(Tokenizer, OffsetsPointAtEachTokensTextInTheInput) {
  TS_FIXTURE_TOKENIZER(gpt2, "tokenizer/ggml-vocab-gpt-2.gguf");
  TS_FIXTURE_TOKENIZER(spm, "tokenizer/ggml-vocab-llama-spm.gguf");
  for (const std::string& t : varied_texts()) {
    expect_offsets_map_back(gpt2, t, false);
    expect_offsets_map_back(spm, t, true);
  }
}

TEST(Tokenizer, ByteFallbackTokensOfAMultiByteCharacterGetTheirBytesOffsets) {
  TS_FIXTURE_TOKENIZER(spm, "tokenizer/ggml-vocab-llama-spm.gguf");
  ASSERT_LT(spm.token_id("\xF0\x9F\xA6\x99"), 0) << "premise: the llama emoji is not in the vocabulary";
  const Encoding e = spm.encode("a\xF0\x9F\xA6\x99", kPlain);
  ASSERT_EQ(e.ids.size(), 5u);
  EXPECT_EQ(spm.token_text(e.ids[0]), "\xE2\x96\x81" "a");
  const char* hex[] = {"<0xF0>", "<0x9F>", "<0xA6>", "<0x99>"};
  for (int k = 0; k < 4; ++k) {
    EXPECT_EQ(spm.token_text(e.ids[1 + k]), hex[k]);
    EXPECT_EQ(spm.token_kind(e.ids[1 + k]), TokenKind::kByte);
    EXPECT_EQ(e.offsets[1 + k], 1u + k);
  }
}

TEST(Tokenizer, TokenBytesUndoTheVocabularysEncoding) {
  TS_FIXTURE_TOKENIZER(spm, "tokenizer/ggml-vocab-llama-spm.gguf");
  TS_FIXTURE_TOKENIZER(gpt2, "tokenizer/ggml-vocab-gpt-2.gguf");
  EXPECT_EQ(spm.token_bytes(spm.token_id("<0x0A>")), "\n");
  EXPECT_EQ(spm.token_bytes(spm.token_id("<0xFF>")), "\xFF");
  EXPECT_EQ(spm.token_bytes(spm.token_id("\xE2\x96\x81The")), " The");
  EXPECT_EQ(spm.token_bytes(spm.bos_id()), "");
  EXPECT_EQ(spm.token_kind(spm.bos_id()), TokenKind::kControl);
  EXPECT_EQ(gpt2.token_bytes(gpt2.token_id("\xC4\xA0the")), " the");  // "Ġthe"
  EXPECT_EQ(gpt2.token_bytes(gpt2.token_id("\xC4\x8A")), "\n");        // "Ċ"
  EXPECT_EQ(gpt2.token_bytes(gpt2.token_id("\xC3\xBF")), "\xFF");      // "ÿ" stands for byte 0xFF
  EXPECT_EQ(gpt2.token_bytes(gpt2.token_id("<|endoftext|>")), "");
  EXPECT_EQ(gpt2.token_bytes(-1), "");
  EXPECT_EQ(gpt2.token_bytes(gpt2.vocab_size()), "");
}

TEST(Tokenizer, DecodeOfEncodeGivesBackTheInputIncludingInvalidUtf8) {
  TS_FIXTURE_TOKENIZER(gpt2, "tokenizer/ggml-vocab-gpt-2.gguf");
  TS_FIXTURE_TOKENIZER(spm, "tokenizer/ggml-vocab-llama-spm.gguf");
  for (const std::string& t : varied_texts()) {
    EXPECT_EQ(gpt2.decode(gpt2.encode(t, kPlain).ids), t);
    EXPECT_EQ(gpt2.decode(gpt2.encode(t, EncodeOptions{.add_special = true, .parse_special = false}).ids), t);
    if (t.find("\xE2\x96\x81") != std::string::npos) continue;  // SentencePiece reads U+2581 as a space
    EXPECT_EQ(spm.decode(spm.encode(t, kPlain).ids), t);
    EXPECT_EQ(spm.decode(spm.encode(t, EncodeOptions{.add_special = true, .parse_special = false}).ids), t);
  }
}

TEST(Tokenizer, EncodeGivesTheSameResultFromSeveralThreadsAtOnce) {
  TS_FIXTURE_TOKENIZER(gpt2, "tokenizer/ggml-vocab-gpt-2.gguf");
  std::string text;
  for (const std::string& t : varied_texts()) text += t;
  const std::vector<int32_t> want = gpt2.encode(text).ids;
  std::vector<std::vector<int32_t>> got(4);
  std::vector<std::thread> threads;
  for (auto& g : got) threads.emplace_back([&gpt2, &text, &g] { g = gpt2.encode(text).ids; });
  for (auto& t : threads) t.join();
  for (const auto& g : got) EXPECT_EQ(g, want);
}

TEST(Tokenizer, LongWhitespaceRunsEncodeAndRoundTrip) {
  TS_FIXTURE_TOKENIZER(gpt2, "tokenizer/ggml-vocab-gpt-2.gguf");
  const std::string t = std::string(20000, ' ') + "x" + std::string(20000, '\n') + std::string(5000, 'z');
  const Encoding e = gpt2.encode(t, kPlain);
  EXPECT_GT(e.ids.size(), 100u);
  EXPECT_EQ(gpt2.decode(e.ids), t);
}

TEST(Tokenizer, SpecialTokenTextIsATokenOnlyWithParseSpecial) {
  TS_FIXTURE_TOKENIZER(gpt2, "tokenizer/ggml-vocab-gpt-2.gguf");
  TS_FIXTURE_TOKENIZER(spm, "tokenizer/ggml-vocab-llama-spm.gguf");
  const std::string g = "Hi<|endoftext|>there";
  const int32_t eot = gpt2.token_id("<|endoftext|>");
  const Encoding on = gpt2.encode(g, EncodeOptions{.add_special = false, .parse_special = true});
  ASSERT_EQ(on.ids.size(), 3u);
  EXPECT_EQ(on.ids[1], eot);
  EXPECT_EQ(on.offsets[1], 2u);
  EXPECT_EQ(on.offsets[2], 15u);
  const Encoding off = gpt2.encode(g, kPlain);
  EXPECT_EQ(std::count(off.ids.begin(), off.ids.end(), eot), 0);
  EXPECT_GT(off.ids.size(), 3u);

  const Encoding s_on = spm.encode("<s>Hi", EncodeOptions{.add_special = false, .parse_special = true});
  ASSERT_EQ(s_on.ids.size(), 2u);
  EXPECT_EQ(s_on.ids[0], spm.bos_id());
  EXPECT_EQ(spm.token_text(s_on.ids[1]), "\xE2\x96\x81Hi");  // the prefix space follows a special token
  EXPECT_EQ(s_on.offsets[1], 3u);
  const Encoding s_off = spm.encode("<s>Hi", kPlain);
  EXPECT_EQ(std::count(s_off.ids.begin(), s_off.ids.end(), spm.bos_id()), 0);
}

TEST(Tokenizer, EmptyTextGivesOnlyTheAddedSpecialTokens) {
  TS_FIXTURE_TOKENIZER(gpt2, "tokenizer/ggml-vocab-gpt-2.gguf");
  TS_FIXTURE_TOKENIZER(spm, "tokenizer/ggml-vocab-llama-spm.gguf");
  EXPECT_TRUE(spm.encode("", kPlain).ids.empty());
  const Encoding e = spm.encode("");
  EXPECT_EQ(e.ids, std::vector<int32_t>{1});
  EXPECT_EQ(e.offsets, std::vector<uint32_t>{0});
  EXPECT_TRUE(gpt2.encode("").ids.empty());  // gpt-2 adds no BOS
  EXPECT_EQ(spm.decode({}), "");
}

TEST(Tokenizer, SpmMergesTheHighestScoringPairFirst) {
  auto t = from_writer(spm_vocab({"a", "b", "ab", "ba"}, {-1, -1, -2, -1}, false));
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(pieces(*t, t->encode("aba", kPlain)), (std::vector<std::string>{"a", "ba"}));
}

TEST(Tokenizer, SpmBreaksScoreTiesToTheLeft) {
  auto t = from_writer(spm_vocab({"a", "b", "ab", "ba"}, {-1, -1, -2, -2}, false));
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(pieces(*t, t->encode("aba", kPlain)), (std::vector<std::string>{"ab", "a"}));
}

TEST(Tokenizer, SpmUserDefinedTokenIsMatchedEvenWithoutParseSpecial) {
  auto t = from_writer(spm_vocab({"a", "\xE2\x96\x81" "a"}, {-1, -1}, true));
  ASSERT_TRUE(t.ok()) << t.error().message;
  const Encoding e = t->encode("a<|user|>a", kPlain);
  EXPECT_EQ(pieces(*t, e), (std::vector<std::string>{"\xE2\x96\x81" "a", "<|user|>", "\xE2\x96\x81" "a"}));
  EXPECT_EQ(e.offsets, (std::vector<uint32_t>{0, 1, 9}));
  EXPECT_EQ(t->decode(e.ids), "a<|user|> a");  // the space SentencePiece puts after a special token stays
}

// A token joining a word to the next ("a▁b") must still be found: the word-by-word encoding is only used when the
// vocabulary has no such token, and both give the text's one BPE result.
TEST(Tokenizer, SpmMergesAcrossWordsWhenTheVocabularyHasSuchATokenAndNotOtherwise) {
  const std::string sp = "\xE2\x96\x81";
  auto joined = from_writer(spm_vocab({"a", "b", sp, sp + "a", sp + "b", "a" + sp, "a" + sp + "b"},
                                      {-1, -1, -1, -2, -2, -3, -1}, false));
  ASSERT_TRUE(joined.ok()) << joined.error().message;
  EXPECT_EQ(pieces(*joined, joined->encode("a b a", kPlain)),
            (std::vector<std::string>{"a" + sp + "b", sp + "a"}));
  auto words = from_writer(spm_vocab({"a", "b", sp, sp + "a", sp + "b", sp + sp}, {-1, -1, -1, -2, -2, -1}, false));
  ASSERT_TRUE(words.ok()) << words.error().message;
  EXPECT_EQ(pieces(*words, words->encode("a b  a", kPlain)),
            (std::vector<std::string>{"a", sp + "b", sp + sp, "a"}));  // "▁▁" (score -1) before "▁a" (-2)
}

TEST(Tokenizer, SpmAddsEosWhenTheFileAsksForIt) {
  auto w = spm_vocab({"a"}, {-1}, false);
  w.add_bool("tokenizer.ggml.add_eos_token", true);
  auto t = from_writer(w);
  ASSERT_TRUE(t.ok()) << t.error().message;
  const Encoding e = t->encode("aa");
  ASSERT_EQ(e.ids.size(), 4u);
  EXPECT_EQ(e.ids.front(), 1);
  EXPECT_EQ(e.ids.back(), 2);
  EXPECT_EQ(e.offsets.back(), 2u);
}

TEST(Tokenizer, BpeAppliesMergesInRankOrder) {
  auto first_ab = from_writer(bpe_vocab({"aa", "ab"}, {"a b", "a a"}, "gpt-2"));
  auto first_aa = from_writer(bpe_vocab({"aa", "ab"}, {"a a", "a b"}, "gpt-2"));
  ASSERT_TRUE(first_ab.ok() && first_aa.ok());
  EXPECT_EQ(pieces(*first_ab, first_ab->encode("aab", kPlain)), (std::vector<std::string>{"a", "ab"}));
  EXPECT_EQ(pieces(*first_aa, first_aa->encode("aab", kPlain)), (std::vector<std::string>{"aa", "b"}));
}

TEST(Tokenizer, BpeMatchesTheLongestSpecialTokenFirst) {
  auto t = from_writer(bpe_vocab({}, {}, "gpt-2"));
  ASSERT_TRUE(t.ok()) << t.error().message;
  const Encoding e = t->encode("x[A][B][A]", EncodeOptions{.add_special = false, .parse_special = true});
  EXPECT_EQ(pieces(*t, e), (std::vector<std::string>{"x", "[A][B]", "[A]"}));
  EXPECT_EQ(e.offsets, (std::vector<uint32_t>{0, 1, 7}));
}

TEST(Tokenizer, UnknownPreTokenizerWarnsAndUsesGpt2Rules) {
  testing::internal::CaptureStderr();
  auto t = from_writer(bpe_vocab({}, {}, "no-such-pre"));
  const std::string err = testing::internal::GetCapturedStderr();
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->pre(), "gpt-2");
  EXPECT_NE(err.find("no-such-pre"), std::string::npos) << err;
}

TEST(Tokenizer, PreTokenizerNamesSelectTheirRegexes) {
  // Merges can build "12345" from its digits, but only inside one pre-tokenized word: the token count shows how
  // each family splits a digit run (gpt-2 whole, llama3 in threes, qwen2 one by one, falcon "123" + rest).
  const std::vector<std::pair<std::string, size_t>> cases = {
      {"gpt-2", 1}, {"default", 2}, {"llama-bpe", 2}, {"qwen2", 5}, {"deepseek-llm", 1},
      {"deepseek-coder", 5}, {"starcoder", 5}, {"refact", 5}, {"falcon", 2}, {"mpt", 1}, {"gpt-neox", 1}};
  for (const auto& [pre, want] : cases) {
    auto t = from_writer(bpe_vocab({"12", "123", "1234", "12345", "45"},
                                   {"1 2", "12 3", "123 4", "1234 5", "4 5"}, pre));
    ASSERT_TRUE(t.ok()) << pre << ": " << t.error().message;
    EXPECT_EQ(t->encode("12345", kPlain).ids.size(), want) << pre << " -> " << t->pre();
  }
}

TEST(Tokenizer, UnsupportedModelIsAnErrorNamingTheKeyAndValue) {
  gguf::Writer w;
  w.add_string("tokenizer.ggml.model", "bert");
  w.add_string_array("tokenizer.ggml.tokens", {"a"});
  auto t = from_writer(w);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message.find("tokenizer.ggml.model"), std::string::npos) << t.error().message;
  EXPECT_NE(t.error().message.find("bert"), std::string::npos) << t.error().message;
}

TEST(Tokenizer, ShortScoresArrayIsAnError) {
  gguf::Writer w;
  w.add_string("tokenizer.ggml.model", "llama");
  w.add_string_array("tokenizer.ggml.tokens", {"a", "b"});
  w.add_f32_array("tokenizer.ggml.scores", {0.0});
  auto t = from_writer(w);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message.find("tokenizer.ggml.scores"), std::string::npos) << t.error().message;
}

TEST(Tokenizer, Gpt2WithoutMergesIsAnError) {
  gguf::Writer w;
  w.add_string("tokenizer.ggml.model", "gpt2");
  w.add_string("tokenizer.ggml.pre", "gpt-2");
  w.add_string_array("tokenizer.ggml.tokens", {"a", "b"});
  auto t = from_writer(w);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message.find("tokenizer.ggml.merges"), std::string::npos) << t.error().message;
}

TEST(Tokenizer, DefaultConstructedTokenizerIsEmptyAndSafe) {
  const Tokenizer t;
  EXPECT_EQ(t.vocab_size(), 0);
  EXPECT_TRUE(t.encode("abc").ids.empty());
  EXPECT_EQ(t.decode({1, 2}), "");
  EXPECT_EQ(t.token_text(0), "");
}

}  // namespace
}  // namespace ts

namespace ts {
namespace {

std::vector<std::string> gpt2_pieces(const std::string& text) {
  PreTokenizerRules rules;
  EXPECT_TRUE(pre_tokenizer_rules("gpt-2", &rules));
  auto s = RegexSplitter::compile(rules.regexes);
  EXPECT_TRUE(static_cast<bool>(s));
  std::vector<Piece> pieces;
  s->split(text, pieces);
  std::vector<std::string> out;
  for (const Piece& p : pieces) out.emplace_back(text.substr(p.begin, p.end - p.begin));
  return out;
}

// \s is Unicode White_Space as HF tokenizers and llama.cpp read it: U+180E (a format character since Unicode 6.3)
// is not space, so it joins the following punctuation; U+3000 and U+00A0 are space.
TEST(PreTokenizer, WhiteSpaceIsUnicodeWhiteSpaceWithoutMongolianVowelSeparator) {
  EXPECT_EQ(gpt2_pieces("x\u180e'll go"), (std::vector<std::string>{"x", "\u180e'", "ll", " go"}));
  // (only ASCII ' ' joins a word in GPT-2's regex; the last space of a run is left on its own by \s+(?!\S))
  EXPECT_EQ(gpt2_pieces("a\u3000\u3000b"), (std::vector<std::string>{"a", "\u3000", "\u3000", "b"}));
  EXPECT_EQ(gpt2_pieces("a\u00a0!"), (std::vector<std::string>{"a", "\u00a0", "!"}));
}

}  // namespace
}  // namespace ts
