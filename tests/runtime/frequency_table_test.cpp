// Token frequency table files (runtime/frequency_table.h): round trip, and the checks that refuse damaged files.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <iterator>

#include "fixtures.h"
#include "runtime/engine.h"
#include "runtime/frequency_table.h"

namespace ts {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void spit(const std::string& path, const std::string& s) { std::ofstream(path, std::ios::binary) << s; }

TEST(FrequencyTable, RoundTripsCountsHashAndDocuments) {
  FrequencyTable t;
  t.counts = {0, 3, 1ull << 40, 7};
  t.vocab_hash = 0x0123456789abcdefULL;
  t.documents = 5;
  const test::TempDir dir;
  const std::string path = dir.file("roundtrip.bin");
  ASSERT_TRUE(write_frequency_table(path, t).ok());
  EXPECT_EQ(slurp(path).size(), 40u + 8u * 4u);
  EXPECT_EQ(slurp(path).substr(0, 8), "TSFREQ01");
  auto r = read_frequency_table(path);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->counts, t.counts);
  EXPECT_EQ(r->vocab_hash, t.vocab_hash);
  EXPECT_EQ(r->documents, 5u);
  EXPECT_EQ(r->total(), 3u + (1ull << 40) + 7u);
  std::remove(path.c_str());
}

TEST(FrequencyTable, RejectsTruncatedWrongMagicAndInconsistentTotal) {
  FrequencyTable t;
  t.counts = {1, 2, 3};
  const test::TempDir dir;
  const std::string path = dir.file("bad.bin");
  ASSERT_TRUE(write_frequency_table(path, t).ok());
  const std::string good = slurp(path);

  spit(path, good.substr(0, good.size() - 3));
  auto r = read_frequency_table(path);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("vocab_size"), std::string::npos) << r.error().message;

  std::string bad = good;
  bad[0] = 'X';
  spit(path, bad);
  r = read_frequency_table(path);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("magic"), std::string::npos) << r.error().message;

  bad = good;
  bad[40] = 9;  // counts[0] = 9, total still 6
  spit(path, bad);
  r = read_frequency_table(path);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("total"), std::string::npos) << r.error().message;

  r = read_frequency_table(dir.file("missing.bin"));
  EXPECT_FALSE(r.ok());
  std::remove(path.c_str());
}

TEST(FrequencyTable, VocabularyHashDependsOnTheTokenTexts) {
  const std::string demo = std::string(TS_SOURCE_DIR) + "/models/tokenscope-demo.gguf";
  if (!std::ifstream(demo)) GTEST_SKIP() << "no bundled demo model";
  auto file = gguf::File::open(demo);
  ASSERT_TRUE(file.ok());
  auto tok = Tokenizer::from_gguf(*file);
  ASSERT_TRUE(tok.ok());
  const uint64_t h = vocabulary_hash(*tok);
  EXPECT_EQ(h, vocabulary_hash(*tok));
  EXPECT_NE(h, 0xcbf29ce484222325ULL);  // not the empty hash
}

}  // namespace
}  // namespace ts
