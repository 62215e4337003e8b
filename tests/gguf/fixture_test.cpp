// Golden reads of the real fixture files in ../shared/fixtures (made by llama.cpp's converter and quantizer).
#include <gtest/gtest.h>

#include <string>

#include "fixtures.h"
#include "gguf/gguf.h"

namespace ts::gguf {
namespace {

// What every tiny-llama-spm variant holds, whatever its quantization.
void check_tiny_llama(const File& f) {
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), 32u);
  EXPECT_EQ(f.data_offset() % 32, 0u);
  EXPECT_EQ(f.get_string("general.architecture").value(), "llama");
  EXPECT_EQ(f.get_int("llama.embedding_length").value(), 256);
  EXPECT_EQ(f.get_int("llama.block_count").value(), 4);
  EXPECT_EQ(f.get_int("llama.attention.head_count").value(), 4);
  EXPECT_EQ(f.get_int("llama.attention.head_count_kv").value(), 2);
  EXPECT_EQ(f.get_int("llama.feed_forward_length").value(), 768);
  EXPECT_NEAR(f.get_float("llama.attention.layer_norm_rms_epsilon").value(), 1e-5, 1e-12);
  EXPECT_EQ(f.get_float("llama.rope.freq_base").value(), 10000.0);
  EXPECT_EQ(f.get_string("tokenizer.ggml.model").value(), "llama");
  EXPECT_TRUE(f.get_bool("tokenizer.ggml.add_bos_token").value());
  EXPECT_EQ(f.get_int("tokenizer.ggml.bos_token_id").value(), 1);

  auto tokens = f.get_string_array("tokenizer.ggml.tokens");
  ASSERT_TRUE(tokens.ok()) << tokens.error().message;
  ASSERT_EQ(tokens.value()->size(), 32000u);
  EXPECT_EQ((*tokens.value())[1], "<s>");
  EXPECT_EQ((*tokens.value())[3], "<0x00>");
  auto scores = f.get_float_array("tokenizer.ggml.scores");
  ASSERT_TRUE(scores.ok()) << scores.error().message;
  EXPECT_EQ(scores.value()->size(), 32000u);
  auto types = f.get_int_array("tokenizer.ggml.token_type");
  ASSERT_TRUE(types.ok()) << types.error().message;
  EXPECT_EQ(types.value()->size(), 32000u);
  EXPECT_EQ((*types.value())[0], 2);  // <unk> is UNKNOWN

  // 4 blocks × 9 tensors + token_embd + output_norm + output.
  EXPECT_EQ(f.tensors().size(), 39u);
  EXPECT_NE(f.tensor("output.weight"), nullptr);
  const TensorInfo* emb = f.tensor("token_embd.weight");
  ASSERT_NE(emb, nullptr);
  EXPECT_EQ(emb->dims, (std::vector<uint64_t>{256, 32000}));
  EXPECT_EQ(emb->n_elements, 256u * 32000u);
  EXPECT_EQ(emb->rows(), 32000u);
  const TensorInfo* norm = f.tensor("blk.3.ffn_norm.weight");
  ASSERT_NE(norm, nullptr);
  EXPECT_EQ(norm->type, DType::F32);
  EXPECT_EQ(norm->dims, (std::vector<uint64_t>{256}));
  EXPECT_EQ(f.tensor("blk.0.ffn_down.weight")->dims, (std::vector<uint64_t>{768, 256}));
  EXPECT_EQ(f.tensor("blk.0.attn_k.weight")->dims, (std::vector<uint64_t>{256, 128}));
  for (const TensorInfo& t : f.tensors()) {
    SCOPED_TRACE(t.name);
    EXPECT_EQ(t.offset % 32, 0u);
    EXPECT_LE(f.data_offset() + t.offset + t.n_bytes, f.file_size());
    uint64_t rows = t.rows();
    EXPECT_EQ(t.n_bytes, row_bytes(t.type, static_cast<int64_t>(t.dims[0])) * rows);
  }
}

TEST(GgufFixture, TinyLlamaF16) {
  TS_REQUIRE_FIXTURE(path, "models/tiny-llama-spm-F16.gguf");
  auto f = File::open(path);
  ASSERT_TRUE(f.ok()) << f.error().message;
  check_tiny_llama(*f);
  EXPECT_EQ(f->get_int("general.file_type").value(), 1);  // MOSTLY_F16
  EXPECT_EQ(f->tensor("token_embd.weight")->type, DType::F16);
  EXPECT_EQ(f->tensor("blk.0.attn_q.weight")->type, DType::F16);
  EXPECT_EQ(f->tensor("token_embd.weight")->n_bytes, 256u * 32000u * 2u);
}

TEST(GgufFixture, TinyLlamaQ8_0) {
  TS_REQUIRE_FIXTURE(path, "models/tiny-llama-spm-Q8_0.gguf");
  auto f = File::open(path);
  ASSERT_TRUE(f.ok()) << f.error().message;
  check_tiny_llama(*f);
  EXPECT_EQ(f->get_int("general.file_type").value(), 7);  // MOSTLY_Q8_0
  EXPECT_EQ(f->get_int("general.quantization_version").value(), 2);
  EXPECT_EQ(f->tensor("token_embd.weight")->type, DType::Q8_0);
  EXPECT_EQ(f->tensor("output.weight")->type, DType::Q8_0);
  EXPECT_EQ(f->tensor("blk.2.ffn_up.weight")->type, DType::Q8_0);
  EXPECT_EQ(f->tensor("token_embd.weight")->n_bytes, 32000u * (256u / 32u) * 34u);
}

TEST(GgufFixture, TinyLlamaQ4_K_M) {
  TS_REQUIRE_FIXTURE(path, "models/tiny-llama-spm-Q4_K_M.gguf");
  auto f = File::open(path);
  ASSERT_TRUE(f.ok()) << f.error().message;
  check_tiny_llama(*f);
  EXPECT_EQ(f->get_int("general.file_type").value(), 15);  // MOSTLY_Q4_K_M
  EXPECT_EQ(f->tensor("token_embd.weight")->type, DType::Q4_K);
  EXPECT_EQ(f->tensor("output.weight")->type, DType::Q6_K);
  EXPECT_EQ(f->tensor("blk.0.attn_q.weight")->type, DType::Q4_K);
  bool saw_q4k = false, saw_q6k = false;
  for (const TensorInfo& t : f->tensors()) {
    saw_q4k |= t.type == DType::Q4_K;
    saw_q6k |= t.type == DType::Q6_K;
  }
  EXPECT_TRUE(saw_q4k && saw_q6k);
}

TEST(GgufFixture, TinyLlamaFromBytesMatchesOpen) {
  TS_REQUIRE_FIXTURE(path, "models/tiny-llama-spm-Q4_K_M.gguf");
  auto opened = File::open(path);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  const TensorInfo* t = opened->tensor("blk.1.attn_v.weight");
  ASSERT_NE(t, nullptr);
  const std::string image(reinterpret_cast<const char*>(t->data - opened->data_offset() - t->offset),
                          opened->file_size());
  auto copy = File::from_bytes(image, "copy.gguf");
  ASSERT_TRUE(copy.ok()) << copy.error().message;
  EXPECT_EQ(copy->metadata().size(), opened->metadata().size());
  const TensorInfo* c = copy->tensor("blk.1.attn_v.weight");
  ASSERT_NE(c, nullptr);
  EXPECT_NE(c->data, t->data);  // a copy, not the mapping
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(c->data), c->n_bytes),
            std::string(reinterpret_cast<const char*>(t->data), t->n_bytes));
}

TEST(GgufFixture, Gpt2VocabOnly) {
  TS_REQUIRE_FIXTURE(path, "tokenizer/ggml-vocab-gpt-2.gguf");
  auto f = File::open(path);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->get_string("general.architecture").value(), "gpt2");
  EXPECT_EQ(f->get_string("tokenizer.ggml.model").value(), "gpt2");
  EXPECT_TRUE(f->tensors().empty());
  auto tokens = f->get_string_array("tokenizer.ggml.tokens");
  ASSERT_TRUE(tokens.ok()) << tokens.error().message;
  EXPECT_EQ(tokens.value()->size(), 50257u);
  auto merges = f->get_string_array("tokenizer.ggml.merges");
  ASSERT_TRUE(merges.ok()) << merges.error().message;
  ASSERT_EQ(merges.value()->size(), 50000u);
  EXPECT_EQ((*merges.value())[0], "\xc4\xa0 t");  // "Ġ t"
  EXPECT_EQ(f->get_int("tokenizer.ggml.eos_token_id").value(), 50256);
}

}  // namespace
}  // namespace ts::gguf
