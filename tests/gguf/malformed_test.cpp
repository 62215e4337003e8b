// Malformed GGUF files: each must be refused with one line naming the file and the field, through from_bytes and
// through open on a temp file; truncation at every header byte and random byte flips must never crash.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "gguf_helpers.h"

namespace ts::gguf {
namespace {

using test::GgufBytes;
constexpr uint32_t kF32 = 0, kQ8_0 = 8;

struct BadCase {
  std::string name;   // also the temp file name
  std::string bytes;
  std::string field;  // a word the message must contain to identify the field
};

// A file with one tensor 'w' and `data_bytes` bytes of data after the padded header.
std::string one_tensor(const std::vector<uint64_t>& dims, uint32_t type, uint64_t offset, uint64_t data_bytes = 32) {
  GgufBytes b;
  b.header(3, 1, 0).tensor_info("w", dims, type, offset).pad_to(32).zeros(data_bytes);
  return b.bytes;
}

std::string header_cut(size_t n) {
  GgufBytes b;
  b.header(3, 0, 0);
  return b.bytes.substr(0, n);
}

std::string nested_arrays(int depth) {
  GgufBytes b;
  b.header(3, 0, 1).key("deep", ValueType::ARRAY);
  for (int d = 1; d < depth; ++d) b.u32(static_cast<uint32_t>(ValueType::ARRAY)).u64(1);
  b.u32(static_cast<uint32_t>(ValueType::INT32)).u64(1).u32(5);
  return b.bytes;
}

std::vector<BadCase> bad_cases() {
  std::vector<BadCase> c;
  // Truncated header at several cut points; the message names the field that is cut.
  c.push_back({"cut_0", header_cut(0), "magic"});
  c.push_back({"cut_3", header_cut(3), "magic"});
  c.push_back({"cut_6", header_cut(6), "version"});
  c.push_back({"cut_8", header_cut(8), "n_tensors"});
  c.push_back({"cut_15", header_cut(15), "n_tensors"});
  c.push_back({"cut_20", header_cut(20), "n_kv"});
  c.push_back({"bad_magic", GgufBytes().raw("GGML").u32(3).u64(0).u64(0).bytes, "magic"});
  c.push_back({"version_1", GgufBytes().header(1, 0, 0).bytes, "version"});
  c.push_back({"version_4", GgufBytes().header(4, 0, 0).bytes, "version"});
  c.push_back({"big_endian", GgufBytes().header(0x03000000u, 0, 0).bytes, "big-endian"});
  c.push_back({"huge_n_tensors", GgufBytes().header(3, ~0ULL, 0).zeros(64).bytes, "n_tensors"});
  c.push_back({"huge_n_kv", GgufBytes().header(3, 0, 1ULL << 60).zeros(64).bytes, "n_kv"});
  c.push_back({"counts_exceed_file", GgufBytes().header(3, 2, 3).zeros(100).bytes, "n_tensors"});
  // Metadata.
  c.push_back({"string_past_end", GgufBytes().header(3, 0, 1).key("general.name", ValueType::STRING)
                                      .u64(1000).raw("abc").bytes, "string length"});
  c.push_back({"key_length_huge", GgufBytes().header(3, 0, 1).u64(~0ULL).raw("general").zeros(8).bytes, "string length"});
  c.push_back({"array_count_huge", GgufBytes().header(3, 0, 1).key("general.xs", ValueType::ARRAY)
                                       .u32(static_cast<uint32_t>(ValueType::UINT32)).u64(1ULL << 62).zeros(16).bytes,
               "count"});
  c.push_back({"string_array_count_huge", GgufBytes().header(3, 0, 1).key("tokenizer.ggml.tokens", ValueType::ARRAY)
                                              .u32(static_cast<uint32_t>(ValueType::STRING)).u64(~0ULL).zeros(16).bytes,
               "count"});
  c.push_back({"unknown_value_type", GgufBytes().header(3, 0, 1).key("general.x", static_cast<ValueType>(13)).u32(0)
                                         .bytes, "value type"});
  c.push_back({"unknown_array_elem_type", GgufBytes().header(3, 0, 1).key("general.x", ValueType::ARRAY).u32(99).u64(0)
                                              .bytes, "value type"});
  c.push_back({"bool_byte_2", GgufBytes().header(3, 0, 1).key("general.flag", ValueType::BOOL).u8(2).bytes, "bool"});
  c.push_back({"bool_array_byte_7", GgufBytes().header(3, 0, 1).key("general.flags", ValueType::ARRAY)
                                        .u32(static_cast<uint32_t>(ValueType::BOOL)).u64(3).u8(1).u8(0).u8(7).bytes,
               "bool"});
  c.push_back({"duplicate_key", GgufBytes().header(3, 0, 2).kv_u32("general.x", 1).kv_u32("general.x", 2).bytes,
               "duplicate key"});
  c.push_back({"empty_key", GgufBytes().header(3, 0, 1).kv_u32("", 1).bytes, "key"});
  c.push_back({"key_with_newline", GgufBytes().header(3, 0, 1).kv_u32("general.\nx", 1).bytes, "key"});
  c.push_back({"nested_too_deep", nested_arrays(kMaxArrayDepth + 1), "nested too deep"});
  c.push_back({"alignment_0", GgufBytes().header(3, 0, 1).kv_u32("general.alignment", 0).bytes, "general.alignment"});
  c.push_back({"alignment_3", GgufBytes().header(3, 0, 1).kv_u32("general.alignment", 3).bytes, "general.alignment"});
  c.push_back({"alignment_string", GgufBytes().header(3, 0, 1).kv_string("general.alignment", "32").bytes,
               "general.alignment"});
  // Tensor infos.
  c.push_back({"unknown_tensor_type", one_tensor({8}, 99, 0), "type id"});
  c.push_back({"tensor_type_4_removed", one_tensor({8}, 4, 0), "type id"});  // Q4_2 was removed from ggml
  c.push_back({"n_dims_0", one_tensor({}, kF32, 0), "n_dims"});
  c.push_back({"n_dims_5", one_tensor({8, 1, 1, 1, 1}, kF32, 0), "n_dims"});
  c.push_back({"dim_0", one_tensor({8, 0}, kF32, 0), "dims[1]"});
  c.push_back({"dims_product_overflows_u64", one_tensor({1ULL << 32, 1ULL << 32}, kF32, 0), "overflow"});
  c.push_back({"dims_product_exceeds_i64", one_tensor({1ULL << 62, 4}, kF32, 0), "overflow"});
  c.push_back({"data_size_overflows", one_tensor({1ULL << 62}, kF32, 0), "overflow"});
  c.push_back({"row_not_block_multiple", one_tensor({33}, kQ8_0, 0, 64), "block size"});
  c.push_back({"offset_misaligned", one_tensor({8}, kF32, 8, 64), "offset"});
  c.push_back({"offset_past_end", one_tensor({8}, kF32, 1ULL << 40), "past end"});
  c.push_back({"offset_wraps", one_tensor({8}, kF32, ~0ULL & ~31ULL), "past end"});
  c.push_back({"data_past_end", one_tensor({8}, kF32, 0, 31), "past end"});
  c.push_back({"data_past_end_second", GgufBytes().header(3, 2, 0).tensor_info("a", {8}, kF32, 0)
                                           .tensor_info("b", {16}, kF32, 32).pad_to(32).zeros(64).bytes,
               "tensor 'b'"});
  c.push_back({"duplicate_tensor", GgufBytes().header(3, 2, 0).tensor_info("w", {8}, kF32, 0)
                                       .tensor_info("w", {8}, kF32, 32).pad_to(32).zeros(64).bytes,
               "duplicate tensor"});
  c.push_back({"empty_tensor_name", GgufBytes().header(3, 1, 0).tensor_info("", {8}, kF32, 0).pad_to(32).zeros(32).bytes,
               "name"});
  c.push_back({"tensor_name_past_end", GgufBytes().header(3, 1, 0).u64(500).raw("w").zeros(40).bytes, "name"});
  return c;
}

void expect_refused(const Expected<File>& f, const std::string& file, const BadCase& bc) {
  ASSERT_FALSE(f.ok()) << bc.name << " was accepted";
  const std::string& m = f.error().message;
  EXPECT_EQ(f.error().kind, Error::Kind::kInput) << m;
  EXPECT_EQ(m.rfind(file + ": ", 0), 0u) << "message does not start with the file name: " << m;
  EXPECT_NE(m.find(bc.field), std::string::npos) << "message lacks '" << bc.field << "': " << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << "message is not one line: " << m;
}

TEST(GgufMalformed, EveryBadImageIsRefusedFromBytesNamingFileAndField) {
  const std::vector<BadCase> cases = bad_cases();
  ASSERT_GE(cases.size(), 20u);
  for (const BadCase& bc : cases) {
    SCOPED_TRACE(bc.name);
    expect_refused(File::from_bytes(bc.bytes, bc.name + ".gguf"), bc.name + ".gguf", bc);
  }
}

TEST(GgufMalformed, EveryBadFileIsRefusedByOpen) {
  for (const BadCase& bc : bad_cases()) {
    SCOPED_TRACE(bc.name);
    const std::string path = test::write_temp_file("gguf_bad_" + bc.name + ".gguf", bc.bytes);
    expect_refused(File::open(path), path, bc);
  }
}

TEST(GgufMalformed, ErrorMessageFollowsTheDocumentedShape) {
  auto f = File::from_bytes(one_tensor({256, 2}, kF32, 0, 1024), "m.gguf");
  ASSERT_FALSE(f.ok());
  // Header 24 + info (9 name + 4 n_dims + 16 dims + 4 type + 8 offset) = 65, so data starts at 96; the tensor needs
  // 2048 bytes and the file is 96 + 1024 bytes.
  EXPECT_EQ(f.error().message, "m.gguf: tensor 'w': data [96, 2144) past end of file (1120 bytes)");
}

TEST(GgufMalformed, HugeCountsDoNotAllocate) {
  // A count of 2^62 elements would need exabytes; the check against the remaining bytes must come first. Under ASan
  // an attempted reserve of that size would abort the test binary.
  GgufBytes b;
  b.header(3, 0, 1).key("general.xs", ValueType::ARRAY).u32(static_cast<uint32_t>(ValueType::ARRAY)).u64(1ULL << 59);
  auto f = File::from_bytes(b.bytes, "huge.gguf");
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().message.find("count"), std::string::npos) << f.error().message;
}

TEST(GgufMalformed, NestingAtTheLimitIsAccepted) {
  auto f = File::from_bytes(nested_arrays(kMaxArrayDepth), "deep.gguf");
  ASSERT_TRUE(f.ok()) << f.error().message;
  const Value* v = f->find("deep");
  for (int d = 1; d < kMaxArrayDepth; ++d) {
    ASSERT_EQ(v->nested.size(), 1u);
    v = &v->nested[0];
  }
  EXPECT_EQ(v->ints, (std::vector<int64_t>{5}));
}

TEST(GgufMalformed, UnsupportedButKnownTypeIsRead) {
  // Q8_K is a known ggml type the engine cannot multiply; reading it is still fine.
  GgufBytes b;
  b.header(3, 1, 0).tensor_info("w", {256}, 15, 0).pad_to(32).zeros(292);
  auto f = File::from_bytes(b.bytes, "q8k.gguf");
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->tensor("w")->type, DType::Q8_K);
  EXPECT_EQ(f->tensor("w")->n_bytes, 292u);
}

TEST(GgufMalformed, TruncationAtEveryByteNeverCrashesAndFailsInsideTheHeader) {
  const std::string full = test::small_gguf_image();
  auto whole = File::from_bytes(full, "full.gguf");
  ASSERT_TRUE(whole.ok()) << whole.error().message;
  const TensorInfo& last = whole->tensors().back();
  const uint64_t data_end = whole->data_offset() + last.offset + last.n_bytes;
  ASSERT_LT(data_end, full.size() + 1);
  for (size_t n = 0; n < full.size(); ++n) {
    auto f = File::from_bytes(std::string_view(full).substr(0, n), "cut.gguf");
    if (n < data_end) {
      ASSERT_FALSE(f.ok()) << "prefix of " << n << " bytes accepted";
      EXPECT_EQ(f.error().message.rfind("cut.gguf: ", 0), 0u) << f.error().message;
    } else {
      EXPECT_TRUE(f.ok()) << "prefix of " << n << " bytes (only padding cut): " << f.error().message;
    }
  }
}

// Every value of every parsed file must be displayable and every tensor must lie inside the file.
void check_parsed_file_is_sane(const File& f) {
  for (const auto& [k, v] : f.metadata()) {
    EXPECT_FALSE(k.empty());
    (void)v.to_string();
  }
  for (const TensorInfo& t : f.tensors()) {
    EXPECT_LE(f.data_offset() + t.offset + t.n_bytes, f.file_size()) << t.name;
    EXPECT_GE(t.dims.size(), 1u);
  }
}

TEST(GgufMalformed, RandomByteFlipsParseOrFailCleanly) {
  const std::string base = test::small_gguf_image();
  std::mt19937 rng(20240607);
  std::uniform_int_distribution<size_t> pos(0, base.size() - 1);
  std::uniform_int_distribution<int> nflips(1, 4), byte(0, 255), kind(0, 3);
  int parsed = 0, refused = 0;
  for (int it = 0; it < 2000; ++it) {
    std::string m = base;
    const int n = nflips(rng);
    for (int k = 0; k < n; ++k) {
      const size_t p = pos(rng);
      switch (kind(rng)) {
        case 0: m[p] = static_cast<char>(m[p] ^ (1 << (byte(rng) & 7))); break;  // one bit
        case 1: m[p] = static_cast<char>(byte(rng)); break;                      // any byte
        case 2: m[p] = static_cast<char>(0xff); break;                           // large counts
        default: m[p] = 0; break;                                                // zero dims / lengths
      }
    }
    if (it % 7 == 0) m.resize(pos(rng));  // sometimes also truncated
    auto f = File::from_bytes(m, "fuzz.gguf");
    if (f.ok()) {
      ++parsed;
      check_parsed_file_is_sane(*f);
    } else {
      ++refused;
      ASSERT_EQ(f.error().message.rfind("fuzz.gguf: ", 0), 0u) << f.error().message;
      ASSERT_EQ(f.error().message.find('\n'), std::string::npos) << f.error().message;
    }
  }
  // Both outcomes occur, so the mutations reach the checks and also leave harmless files alone.
  EXPECT_GT(parsed, 0);
  EXPECT_GT(refused, 0);
}

}  // namespace
}  // namespace ts::gguf
