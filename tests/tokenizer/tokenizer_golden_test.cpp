// Golden tests: the tokenizer test vectors of llama.cpp (ggml-vocab-*.gguf with .inp/.out, made by the reference
// HF tokenizers) must match exactly, and the tiny model's reference documents must start with their recorded ids.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "fixtures.h"
#include "gguf/gguf.h"
#include "tokenizer/tokenizer.h"

namespace ts {
namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Printable form of a text for failure messages: control bytes and non-ASCII as escapes.
std::string escaped(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c >= 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string describe(const Tokenizer& tok, const std::vector<int32_t>& ids) {
  std::string out;
  for (int32_t id : ids) out += " " + std::to_string(id) + "'" + escaped(tok.token_text(id)) + "'";
  return out;
}

Tokenizer load(const std::string& path) {
  auto f = gguf::File::open(path);
  EXPECT_TRUE(f.ok()) << (f.ok() ? "" : f.error().message);
  if (!f.ok()) return {};
  auto t = Tokenizer::from_gguf(*f);
  EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().message);
  return t.ok() ? std::move(*t) : Tokenizer{};
}

// .inp: texts each followed by "\n__ggml_vocab_test__\n"; .out: one line of ids per text.
void run_vectors(const std::string& vocab, const char* label) {
  const Tokenizer tok = load(vocab);
  ASSERT_GT(tok.vocab_size(), 0);
  const std::string inp = read_all(vocab + ".inp");
  const std::string outp = read_all(vocab + ".out");
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> texts;
  for (size_t pos = 0; pos < inp.size();) {
    const size_t e = inp.find(sep, pos);
    if (e == std::string::npos) {
      texts.push_back(inp.substr(pos));
      break;
    }
    texts.push_back(inp.substr(pos, e - pos));
    pos = e + sep.size();
  }
  std::vector<std::vector<int32_t>> expected;
  std::istringstream lines(outp);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream ids(line);
    std::vector<int32_t> v;
    for (int32_t id; ids >> id;) v.push_back(id);
    expected.push_back(v);
  }
  ASSERT_EQ(texts.size(), expected.size()) << "texts in .inp vs lines in .out";
  ASSERT_GT(texts.size(), 10u);

  const EncodeOptions opt{.add_special = false, .parse_special = false};
  size_t passed = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    const Encoding enc = tok.encode(texts[i], opt);
    if (enc.ids == expected[i]) {
      ++passed;
      continue;
    }
    ADD_FAILURE() << label << " vector " << i << ": text '" << escaped(texts[i]) << "'\n  expected:"
                  << describe(tok, expected[i]) << "\n  actual:  " << describe(tok, enc.ids);
  }
  std::printf("[ vectors  ] %s: %zu/%zu exact\n", label, passed, texts.size());
  EXPECT_EQ(passed, texts.size());
}

TEST(TokenizerGolden, Gpt2VectorsMatchExactly) {
  TS_REQUIRE_FIXTURE(vocab, "tokenizer/ggml-vocab-gpt-2.gguf");
  run_vectors(vocab, "gpt-2");
}

TEST(TokenizerGolden, LlamaSpmVectorsMatchExactly) {
  TS_REQUIRE_FIXTURE(vocab, "tokenizer/ggml-vocab-llama-spm.gguf");
  run_vectors(vocab, "llama-spm");
}

TEST(TokenizerGolden, TinyLlamaReferenceDocumentsStartWithTheirIds) {
  TS_REQUIRE_FIXTURE(model, "models/tiny-llama-spm-F16.gguf");
  TS_REQUIRE_FIXTURE(ref, "reference/tiny-llama-spm.json");
  const Tokenizer tok = load(model);
  ASSERT_GT(tok.vocab_size(), 0);
  const nlohmann::json j = nlohmann::json::parse(read_all(ref));
  const auto& docs = j.at("docs");
  ASSERT_EQ(docs.size(), 12u);
  size_t passed = 0;
  for (size_t d = 0; d < docs.size(); ++d) {
    const std::string text = docs[d].at("text").get<std::string>();
    const std::vector<int32_t> want = docs[d].at("ids").get<std::vector<int32_t>>();
    ASSERT_EQ(want.size(), 200u);
    const Encoding enc = tok.encode(text, EncodeOptions{.add_special = true});
    std::vector<int32_t> got(enc.ids.begin(), enc.ids.begin() + std::min(enc.ids.size(), want.size()));
    if (got == want) {
      ++passed;
    } else {
      ADD_FAILURE() << "doc " << d << " '" << escaped(text.substr(0, 80)) << "...'\n  expected:" << describe(tok, want)
                    << "\n  actual:  " << describe(tok, got);
    }
  }
  std::printf("[ vectors  ] tiny-llama-spm reference: %zu/%zu documents\n", passed, docs.size());
  EXPECT_EQ(passed, docs.size());
}

}  // namespace
}  // namespace ts
