// Writer -> reader round trips of every metadata value type and of tensors; typed getters; display; File lifetime.
#include <gtest/gtest.h>

#include <algorithm>

#include <cstdint>
#include <limits>
#include <stdexcept>

#include "gguf/gguf.h"
#include "gguf_helpers.h"

namespace ts::gguf {
namespace {

Value scalar_u(ValueType t, uint64_t u) { Value v; v.type = t; v.u = u; return v; }
Value scalar_i(ValueType t, int64_t i) { Value v; v.type = t; v.i = i; return v; }
Value scalar_f(ValueType t, double f) { Value v; v.type = t; v.f = f; return v; }
Value ints(ValueType elem, std::vector<int64_t> xs) {
  Value v; v.type = ValueType::ARRAY; v.elem_type = elem; v.ints = std::move(xs); return v;
}
Value floats(ValueType elem, std::vector<double> xs) {
  Value v; v.type = ValueType::ARRAY; v.elem_type = elem; v.floats = std::move(xs); return v;
}
Value strings(std::vector<std::string> xs) {
  Value v; v.type = ValueType::ARRAY; v.elem_type = ValueType::STRING; v.strings = std::move(xs); return v;
}
Value nested(std::vector<Value> xs) {
  Value v; v.type = ValueType::ARRAY; v.elem_type = ValueType::ARRAY; v.nested = std::move(xs); return v;
}

std::string pattern(size_t n, uint8_t seed) {
  std::string s(n, '\0');
  for (size_t k = 0; k < n; ++k) s[k] = static_cast<char>((k * 31 + seed) & 0xff);
  return s;
}

File parse_ok(const std::string& bytes) {
  auto f = File::from_bytes(bytes, "rt.gguf");
  EXPECT_TRUE(f.ok()) << (f.ok() ? "" : f.error().message);
  if (!f.ok()) throw std::runtime_error("parse failed");
  return std::move(f).value();
}

TEST(GgufRoundTrip, EveryScalarTypeKeepsItsTypeAndValue) {
  Writer w;
  w.add("u8", scalar_u(ValueType::UINT8, 255));
  w.add("i8", scalar_i(ValueType::INT8, -128));
  w.add("u16", scalar_u(ValueType::UINT16, 65535));
  w.add("i16", scalar_i(ValueType::INT16, -32768));
  w.add("u32", scalar_u(ValueType::UINT32, 4294967295u));
  w.add("i32", scalar_i(ValueType::INT32, std::numeric_limits<int32_t>::min()));
  w.add("u64", scalar_u(ValueType::UINT64, std::numeric_limits<uint64_t>::max()));
  w.add("i64", scalar_i(ValueType::INT64, std::numeric_limits<int64_t>::min()));
  w.add("f32", scalar_f(ValueType::FLOAT32, 0.1f));
  w.add("f64", scalar_f(ValueType::FLOAT64, 0.1));
  w.add_bool("bool.t", true);
  w.add_bool("bool.f", false);
  w.add_string("str", std::string("h\xc3\xa9llo\0x", 8));
  w.add_string("str.empty", "");
  const File f = parse_ok(w.to_bytes());
  EXPECT_EQ(f.version(), 3u);
  ASSERT_EQ(f.metadata().size(), 14u);
  EXPECT_EQ(f.metadata()[0].first, "u8");  // file order kept
  EXPECT_EQ(f.find("u8")->type, ValueType::UINT8);
  EXPECT_EQ(f.find("u8")->u, 255u);
  EXPECT_EQ(f.find("i8")->i, -128);
  EXPECT_EQ(f.find("u16")->u, 65535u);
  EXPECT_EQ(f.find("i16")->i, -32768);
  EXPECT_EQ(f.find("u32")->u, 4294967295u);
  EXPECT_EQ(f.find("i32")->type, ValueType::INT32);
  EXPECT_EQ(f.find("i32")->i, std::numeric_limits<int32_t>::min());
  EXPECT_EQ(f.find("u64")->u, std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(f.find("i64")->i, std::numeric_limits<int64_t>::min());
  EXPECT_EQ(f.find("f32")->type, ValueType::FLOAT32);
  EXPECT_EQ(f.find("f32")->f, static_cast<double>(0.1f));
  EXPECT_EQ(f.find("f64")->f, 0.1);
  EXPECT_TRUE(f.find("bool.t")->b);
  EXPECT_FALSE(f.find("bool.f")->b);
  EXPECT_EQ(f.find("str")->s, std::string("h\xc3\xa9llo\0x", 8));
  EXPECT_EQ(f.find("str.empty")->type, ValueType::STRING);
  EXPECT_EQ(f.find("str.empty")->s, "");
  EXPECT_EQ(f.find("absent"), nullptr);
}

TEST(GgufRoundTrip, EveryArrayKindKeepsElementsAndElementType) {
  Writer w;
  w.add("a.u8", ints(ValueType::UINT8, {0, 1, 255}));
  w.add("a.i8", ints(ValueType::INT8, {-128, 127}));
  w.add("a.u16", ints(ValueType::UINT16, {65535}));
  w.add("a.i16", ints(ValueType::INT16, {-32768, 5}));
  w.add("a.u32", ints(ValueType::UINT32, {4294967295LL, 7}));
  w.add_i32_array("a.i32", {-1, 2, -3});
  w.add("a.u64", ints(ValueType::UINT64, {static_cast<int64_t>(~0ULL), 9}));
  w.add("a.i64", ints(ValueType::INT64, {std::numeric_limits<int64_t>::min(), 1}));
  w.add_f32_array("a.f32", {0.5, -1.25, 3.0});
  w.add("a.f64", floats(ValueType::FLOAT64, {0.1, -2e300}));
  w.add("a.bool", ints(ValueType::BOOL, {1, 0, 1}));
  w.add_string_array("a.str", {"", "x", std::string("nul\0in", 6), "\xe2\x96\x81the"});
  w.add("a.empty", ints(ValueType::INT32, {}));
  w.add("a.nested", nested({ints(ValueType::INT32, {1, 2}), ints(ValueType::INT32, {}),
                                              strings({"p", "q"})}));
  w.add("a.nested2", nested({nested({floats(ValueType::FLOAT32, {1.5})})}));
  const File f = parse_ok(w.to_bytes());

  EXPECT_EQ(f.find("a.u8")->elem_type, ValueType::UINT8);
  EXPECT_EQ(f.find("a.u8")->ints, (std::vector<int64_t>{0, 1, 255}));
  EXPECT_EQ(f.find("a.i8")->ints, (std::vector<int64_t>{-128, 127}));
  EXPECT_EQ(f.find("a.u16")->ints, (std::vector<int64_t>{65535}));
  EXPECT_EQ(f.find("a.i16")->ints, (std::vector<int64_t>{-32768, 5}));
  EXPECT_EQ(f.find("a.u32")->ints, (std::vector<int64_t>{4294967295LL, 7}));
  EXPECT_EQ(f.find("a.i32")->elem_type, ValueType::INT32);
  EXPECT_EQ(f.find("a.i32")->ints, (std::vector<int64_t>{-1, 2, -3}));
  EXPECT_EQ(static_cast<uint64_t>(f.find("a.u64")->ints[0]), ~0ULL);
  EXPECT_EQ(f.find("a.i64")->ints[0], std::numeric_limits<int64_t>::min());
  EXPECT_EQ(f.find("a.f32")->elem_type, ValueType::FLOAT32);
  EXPECT_EQ(f.find("a.f32")->floats, (std::vector<double>{0.5, -1.25, 3.0}));
  EXPECT_EQ(f.find("a.f64")->floats, (std::vector<double>{0.1, -2e300}));
  EXPECT_EQ(f.find("a.bool")->elem_type, ValueType::BOOL);
  EXPECT_EQ(f.find("a.bool")->ints, (std::vector<int64_t>{1, 0, 1}));
  EXPECT_EQ(f.find("a.str")->strings,
            (std::vector<std::string>{"", "x", std::string("nul\0in", 6), "\xe2\x96\x81the"}));
  EXPECT_TRUE(f.find("a.empty")->is_array());
  EXPECT_EQ(f.find("a.empty")->array_size(), 0u);

  const Value& n = *f.find("a.nested");
  ASSERT_EQ(n.elem_type, ValueType::ARRAY);
  ASSERT_EQ(n.array_size(), 3u);
  EXPECT_EQ(n.nested[0].ints, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(n.nested[1].array_size(), 0u);
  EXPECT_EQ(n.nested[2].strings, (std::vector<std::string>{"p", "q"}));
  const Value& n2 = *f.find("a.nested2");
  ASSERT_EQ(n2.nested.size(), 1u);
  ASSERT_EQ(n2.nested[0].nested.size(), 1u);
  EXPECT_EQ(n2.nested[0].nested[0].floats, (std::vector<double>{1.5}));
}

struct TensorCase {
  std::string name;
  DType type;
  std::vector<uint64_t> dims;
};

void check_tensor_round_trip(uint64_t alignment) {
  const std::vector<TensorCase> cases = {
      {"t.f32", DType::F32, {4, 3}},         {"t.f16", DType::F16, {5}},
      {"t.q8_0", DType::Q8_0, {64, 2}},      {"t.q4_k", DType::Q4_K, {256, 1, 1}},
      {"t.q6_k", DType::Q6_K, {256, 2, 1, 1}}, {"t.bf16", DType::BF16, {3, 1}},
  };
  Writer w;
  w.set_alignment(alignment);
  w.add_string("general.architecture", "test");
  std::vector<std::string> datas;
  for (size_t k = 0; k < cases.size(); ++k) {
    uint64_t rows = 1;
    for (size_t d = 1; d < cases[k].dims.size(); ++d) rows *= cases[k].dims[d];
    datas.push_back(pattern(row_bytes(cases[k].type, static_cast<int64_t>(cases[k].dims[0])) * rows,
                            static_cast<uint8_t>(k)));
    w.add_tensor(cases[k].name, cases[k].type, cases[k].dims, datas.back());
  }
  ASSERT_TRUE(w.validate().ok());
  const std::string bytes = w.to_bytes();
  const File f = parse_ok(bytes);
  EXPECT_EQ(f.alignment(), alignment);
  EXPECT_EQ(f.find("general.alignment") != nullptr, alignment != 32);
  EXPECT_EQ(f.data_offset() % alignment, 0u);
  ASSERT_EQ(f.tensors().size(), cases.size());
  uint64_t expect_offset = 0;
  for (size_t k = 0; k < cases.size(); ++k) {
    const TensorInfo& t = f.tensors()[k];
    SCOPED_TRACE(t.name);
    EXPECT_EQ(t.name, cases[k].name);  // order added
    EXPECT_EQ(t.type, cases[k].type);
    EXPECT_EQ(t.dims, cases[k].dims);
    EXPECT_EQ(t.offset, expect_offset);
    EXPECT_EQ(t.offset % alignment, 0u);
    EXPECT_EQ(t.n_bytes, datas[k].size());
    ASSERT_NE(t.data, nullptr);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(t.data), t.n_bytes), datas[k]);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data) % std::min<uint64_t>(alignment, 64), 0u);
    expect_offset = (t.offset + t.n_bytes + alignment - 1) / alignment * alignment;
    EXPECT_EQ(f.tensor(cases[k].name), &t);
  }
  EXPECT_EQ(f.tensor("t.f32")->n_elements, 12u);
  EXPECT_EQ(f.tensor("t.f32")->rows(), 3u);
  EXPECT_EQ(f.tensor("t.q6_k")->rows(), 2u);
  EXPECT_EQ(f.tensor("missing"), nullptr);
  // Padding after the data is zero-filled.
  const TensorInfo& last = f.tensors().back();
  for (uint64_t p = f.data_offset() + last.offset + last.n_bytes; p < bytes.size(); ++p) EXPECT_EQ(bytes[p], '\0');
}

TEST(GgufRoundTrip, TensorsOfSeveralTypesKeepOrderOffsetsAndData) { check_tensor_round_trip(32); }
TEST(GgufRoundTrip, NonDefaultAlignmentIsWrittenAndHonoured) { check_tensor_round_trip(64); }
TEST(GgufRoundTrip, SmallAlignmentIsHonoured) { check_tensor_round_trip(8); }

TEST(GgufRoundTrip, WriteThenOpenFromDisk) {
  const test::TempDir dir;
  const std::string path = dir.file("gguf_write_then_open.gguf");
  Writer w;
  w.add_u64("x.count", 12345678901ULL);
  w.add_tensor("w", DType::F32, {2}, pattern(8, 3));
  ASSERT_TRUE(w.write(path).ok());
  auto f = File::open(path);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->path(), path);
  EXPECT_EQ(f->get_int("x.count").value(), 12345678901LL);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(f->tensor("w")->data), 8), pattern(8, 3));
  EXPECT_EQ(f->file_size(), w.to_bytes().size());
}

TEST(GgufFile, EveryResidencyReadsTheSameBytes) {
  const test::TempDir dir;
  const std::string path = dir.file("residency.gguf");
  Writer w;
  w.add_tensor("w", DType::Q8_0, {64, 3}, pattern(3 * row_bytes(DType::Q8_0, 64), 9));
  ASSERT_TRUE(w.write(path).ok());
  auto mapped = File::open(path, Residency::kMap);
  auto copied = File::open(path, Residency::kCopy);
  auto automatic = File::open(path, Residency::kAuto);
  ASSERT_TRUE(mapped.ok() && copied.ok() && automatic.ok());
  EXPECT_FALSE(mapped->copied());
  EXPECT_TRUE(copied->copied());
  EXPECT_FALSE(automatic->copied());  // under kAuto's 32 MiB: mapped
  const TensorInfo* a = mapped->tensor("w");
  const TensorInfo* b = copied->tensor("w");
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->data, b->data);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(a->data), a->n_bytes),
            std::string(reinterpret_cast<const char*>(b->data), b->n_bytes));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b->data) % 32, 0u);  // the copy starts on a page: offsets keep alignment
  EXPECT_EQ(copied->file_size(), mapped->file_size());
  const uint8_t* copy_data = b->data;
  File moved = std::move(copied).value();  // the copy moves with the File
  EXPECT_EQ(moved.tensor("w")->data, copy_data);
  EXPECT_TRUE(moved.copied());
}

// rewrite_tensor: our own bytes only (a copy or from_bytes), once per tensor, recorded; a mapped file is left alone.
TEST(GgufFile, RewriteTensorChangesOurOwnCopyOnceAndRecordsTheForm) {
  const test::TempDir dir;
  const std::string path = dir.file("rewrite.gguf");
  Writer w;
  w.add_tensor("a", DType::F32, {4}, pattern(16, 1));
  w.add_tensor("b", DType::F32, {4}, pattern(16, 2));
  ASSERT_TRUE(w.write(path).ok());
  auto reverse = [](uint8_t* p, size_t n) { std::reverse(p, p + n); };
  int calls = 0;
  auto counted = [&](uint8_t* p, size_t n) { ++calls, reverse(p, n); };

  auto mapped = File::open(path, Residency::kMap);
  ASSERT_TRUE(mapped.ok());
  EXPECT_FALSE(mapped->rewrite_tensor(0, "reversed", counted));
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(mapped->tensor_form(0), "");

  auto copied = File::open(path, Residency::kCopy);
  auto in_memory = File::from_bytes(w.to_bytes(), "rewrite.gguf");
  ASSERT_TRUE(copied.ok() && in_memory.ok());
  ASSERT_TRUE(copied->copied());
  for (const File* fp : {&*copied, &*in_memory}) {
    const File& f = *fp;
    calls = 0;
    EXPECT_TRUE(f.rewrite_tensor(0, "reversed", counted));
    EXPECT_EQ(calls, 1);
    std::string want = pattern(16, 1);
    std::reverse(want.begin(), want.end());
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(f.tensors()[0].data), 16), want);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(f.tensors()[1].data), 16), pattern(16, 2));  // untouched
    EXPECT_TRUE(f.rewrite_tensor(0, "reversed", counted));  // already in that form: not run again
    EXPECT_EQ(calls, 1);
    EXPECT_FALSE(f.rewrite_tensor(0, "other", counted));  // in another form: refused
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(f.tensor_form(0), "reversed");
    EXPECT_EQ(f.tensor_form(1), "");
    EXPECT_FALSE(f.rewrite_tensor(2, "reversed", counted));  // no such tensor
  }
}

TEST(GgufRoundTrip, VersionTwoIsRead) {
  test::GgufBytes b;
  b.header(2, 0, 1).kv_u32("general.x", 7);
  auto f = File::from_bytes(b.bytes, "v2.gguf");
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->version(), 2u);
  EXPECT_EQ(f->get_int("general.x").value(), 7);
}

TEST(GgufWriter, KeyAddedTwiceKeepsFirstPositionAndLastValue) {
  Writer w;
  w.add_u32("a", 1);
  w.add_u32("b", 2);
  w.add_u32("a", 3);
  const File f = parse_ok(w.to_bytes());
  ASSERT_EQ(f.metadata().size(), 2u);
  EXPECT_EQ(f.metadata()[0].first, "a");
  EXPECT_EQ(f.find("a")->u, 3u);
}

TEST(GgufWriter, WriteToMissingDirectoryNamesPathAndReason) {
  Writer w;
  const std::string path = "/nonexistent-dir-for-tokenscope/x.gguf";
  Status s = w.write(path);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find(path), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("No such file"), std::string::npos) << s.error().message;
}

TEST(GgufWriter, ValidateRejectsWrongDataSizeAndBadAlignment) {
  Writer w;
  w.add_tensor("w", DType::Q8_0, {32, 2}, std::string(34, '\0'));  // needs 68 bytes
  Status s = w.validate();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("'w'"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("68"), std::string::npos) << s.error().message;
  const test::TempDir dir;
  EXPECT_FALSE(w.write(dir.file("gguf_never_written.gguf")).ok());

  Writer a;
  a.set_alignment(48);
  ASSERT_FALSE(a.validate().ok());
  EXPECT_NE(a.validate().error().message.find("alignment"), std::string::npos);
}

TEST(GgufWriter, ValidateRejectsDuplicateTensorNamesAndBadDims) {
  Writer w;
  w.add_tensor("w", DType::F32, {1}, std::string(4, '\0'));
  w.add_tensor("w", DType::F32, {1}, std::string(4, '\0'));
  ASSERT_FALSE(w.validate().ok());
  EXPECT_NE(w.validate().error().message.find("duplicate"), std::string::npos);
  Writer d;
  d.add_tensor("w", DType::Q4_K, {100}, std::string());
  ASSERT_FALSE(d.validate().ok());
  EXPECT_NE(d.validate().error().message.find("block size"), std::string::npos);
}

// ---- getters ----

File getter_file() {
  Writer w;
  w.add_string("s", "text");
  w.add("u8", scalar_u(ValueType::UINT8, 200));
  w.add("i16", scalar_i(ValueType::INT16, -5));
  w.add_u64("big", ~0ULL);
  w.add_f32("f", 2.5f);
  w.add_bool("b", true);
  w.add_string_array("toks", {"a", "b"});
  w.add("u32s", ints(ValueType::UINT32, {1, 2, 3}));
  w.add_f32_array("fs", {1.0});
  return parse_ok(w.to_bytes());
}

TEST(GgufGetters, IntegerGetterAcceptsAnyIntegerTypeThatFits) {
  const File f = getter_file();
  EXPECT_EQ(f.get_int("u8").value(), 200);
  EXPECT_EQ(f.get_int("i16").value(), -5);
  auto big = f.get_int("big");
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.error().message.find("int64"), std::string::npos) << big.error().message;
  EXPECT_EQ(f.get_int_or("big", 9), 9);
  EXPECT_FALSE(f.get_int("b").ok());  // BOOL is not an integer
}

TEST(GgufGetters, FloatGetterAcceptsFloatsAndIntegers) {
  const File f = getter_file();
  EXPECT_EQ(f.get_float("f").value(), 2.5);
  EXPECT_EQ(f.get_float("i16").value(), -5.0);
  EXPECT_FALSE(f.get_float("s").ok());
  EXPECT_EQ(f.get_float_or("missing", 0.25), 0.25);
}

TEST(GgufGetters, MissingKeyNamesFileAndKey) {
  const File f = getter_file();
  auto r = f.get_string("general.nope");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("rt.gguf"), std::string::npos);
  EXPECT_NE(r.error().message.find("general.nope"), std::string::npos);
  EXPECT_NE(r.error().message.find("missing"), std::string::npos);
  EXPECT_EQ(f.get_string_or("general.nope", "fb"), "fb");
  EXPECT_FALSE(f.get_string_array("general.nope").ok());
}

TEST(GgufGetters, WrongTypeNamesExpectedAndActualType) {
  const File f = getter_file();
  auto r = f.get_string("u8");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("'u8'"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("expected STRING"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("UINT8"), std::string::npos) << r.error().message;
  EXPECT_FALSE(f.get_bool("u8").ok());
  EXPECT_FALSE(f.get_bool_or("u8", false));
  EXPECT_TRUE(f.get_bool("b").value());
  EXPECT_EQ(f.get_string("s").value(), "text");
}

TEST(GgufGetters, ArrayGettersCheckElementType) {
  const File f = getter_file();
  ASSERT_TRUE(f.get_string_array("toks").ok());
  EXPECT_EQ(*f.get_string_array("toks").value(), (std::vector<std::string>{"a", "b"}));
  ASSERT_TRUE(f.get_int_array("u32s").ok());
  EXPECT_EQ(f.get_int_array("u32s").value()->size(), 3u);
  ASSERT_TRUE(f.get_float_array("fs").ok());
  EXPECT_FALSE(f.get_int_array("toks").ok());
  EXPECT_FALSE(f.get_float_array("u32s").ok());
  auto r = f.get_string_array("s");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("ARRAY of STRING"), std::string::npos) << r.error().message;
}

// ---- display and lifetime ----

TEST(GgufValue, ToStringShowsScalarsReadably) {
  EXPECT_EQ(scalar_u(ValueType::UINT32, 7).to_string(), "7");
  EXPECT_EQ(scalar_i(ValueType::INT8, -3).to_string(), "-3");
  EXPECT_EQ(scalar_f(ValueType::FLOAT32, 0.1f).to_string(), "0.1");  // not 0.10000000149
  EXPECT_EQ(scalar_f(ValueType::FLOAT64, 1e-5).to_string(), "1e-05");
  Value b; b.type = ValueType::BOOL; b.b = true;
  EXPECT_EQ(b.to_string(), "true");
  Value s; s.type = ValueType::STRING; s.s = "a\"b\n";
  EXPECT_EQ(s.to_string(), "\"a\\\"b\\n\"");
  Value longs; longs.type = ValueType::STRING; longs.s = std::string(500, 'x');
  EXPECT_NE(longs.to_string().find("(500 bytes)"), std::string::npos);
}

TEST(GgufValue, ToStringShowsFirstArrayItemsAndTheCount) {
  std::vector<int64_t> xs(20);
  for (int k = 0; k < 20; ++k) xs[k] = k;
  const Value v = ints(ValueType::INT32, xs);
  EXPECT_EQ(v.to_string(3), "[0, 1, 2, ...] (20 items)");
  EXPECT_EQ(ints(ValueType::INT32, {1, 2}).to_string(), "[1, 2]");
  EXPECT_EQ(strings({"a", "b", "c"}).to_string(2), "[\"a\", \"b\", ...] (3 items)");
  EXPECT_EQ(ints(ValueType::BOOL, {1, 0}).to_string(), "[true, false]");
  EXPECT_EQ(nested({ints(ValueType::INT32, {1})}).to_string(), "[[1]]");
  EXPECT_EQ(v.array_size(), 20u);
  EXPECT_EQ(scalar_u(ValueType::UINT8, 1).array_size(), 0u);
}

TEST(GgufValue, NumericAccessors) {
  EXPECT_TRUE(scalar_u(ValueType::UINT16, 1).is_integer());
  EXPECT_FALSE(scalar_f(ValueType::FLOAT32, 1).is_integer());
  EXPECT_TRUE(scalar_f(ValueType::FLOAT64, 1).is_float());
  EXPECT_EQ(scalar_u(ValueType::UINT64, 42).as_int(), 42);
  EXPECT_EQ(scalar_i(ValueType::INT64, -42).as_double(), -42.0);
  EXPECT_EQ(scalar_f(ValueType::FLOAT32, 2.75).as_int(), 2);
  EXPECT_EQ(scalar_f(ValueType::FLOAT64, 1e300).as_int(), 0);  // out of range: no undefined conversion
}

TEST(GgufFile, MovedFileKeepsTensorDataPointersValid) {
  auto f = File::from_bytes(test::small_gguf_image(), "m.gguf");
  ASSERT_TRUE(f.ok()) << f.error().message;
  const uint8_t* before = f->tensor("token_embd.weight")->data;
  File moved = std::move(f).value();
  File assigned = std::move(moved);
  const TensorInfo* t = assigned.tensor("token_embd.weight");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->data, before);
  EXPECT_EQ(t->data[5], 5);
  EXPECT_EQ(assigned.path(), "m.gguf");
}

TEST(GgufFile, OpenMissingFileNamesPathAndReason) {
  auto f = File::open("/nonexistent-dir-for-tokenscope/m.gguf");
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().message.find("/nonexistent-dir-for-tokenscope/m.gguf"), std::string::npos);
  EXPECT_NE(f.error().message.find("No such file"), std::string::npos) << f.error().message;
}

TEST(GgufFile, OpenDirectoryIsRefused) {
  auto f = File::open(::testing::TempDir());
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().message.find("not a regular file"), std::string::npos) << f.error().message;
}

TEST(GgufFile, OpenEmptyFileIsRefused) {
  const std::string path = test::write_temp_file("gguf_empty_file.gguf", "");
  auto f = File::open(path);
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().message.find("magic"), std::string::npos) << f.error().message;
  auto c = File::open(path, Residency::kCopy);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("magic"), std::string::npos) << c.error().message;
  EXPECT_FALSE(File::from_bytes("", "empty.gguf").ok());
}

TEST(GgufFile, VocabOnlyFileWithoutTrailingPaddingIsRead) {
  Writer w;
  w.add_string_array("tokenizer.ggml.tokens", {"a"});
  const std::string bytes = w.to_bytes();
  auto f = File::from_bytes(bytes, "vocab.gguf");
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_TRUE(f->tensors().empty());
  EXPECT_EQ(f->file_size(), bytes.size());
}

}  // namespace
}  // namespace ts::gguf
