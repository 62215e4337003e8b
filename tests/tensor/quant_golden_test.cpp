// Golden: the fixture model's Q8_0 and Q4_K_M files were written by llama.cpp's llama-quantize from the F16 file
// (no importance matrix, so with ggml's reference quantizers). Requantizing the F16 weights with quantize_row must
// give the very same bytes, block for block: this pins both the block layouts and the quantizers to ggml's.
// Only the first rows of each tensor are checked, to keep the test fast.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "fixtures.h"
#include "gguf/gguf.h"
#include "tensor/quant.h"

namespace ts {
namespace {

constexpr uint64_t kRowsPerTensor = 24;

void expect_requantized_bytes_match(const std::string& f16_path, const std::string& quant_path) {
  auto f16 = gguf::File::open(f16_path);
  ASSERT_TRUE(f16.ok()) << f16.error().message;
  auto quant = gguf::File::open(quant_path);
  ASSERT_TRUE(quant.ok()) << quant.error().message;
  int checked = 0;
  for (const gguf::TensorInfo& t : quant.value().tensors()) {
    if (t.type == DType::F32 || t.type == DType::F16) continue;
    const gguf::TensorInfo* src = f16.value().tensor(t.name);
    ASSERT_NE(src, nullptr) << t.name;
    ASSERT_EQ(src->dims, t.dims) << t.name;
    const auto n = static_cast<int64_t>(t.dims[0]);
    const size_t rb = row_bytes(t.type, n), src_rb = row_bytes(src->type, n);
    std::vector<float> w(n), back(n);
    std::vector<uint8_t> mine(rb);
    double err2 = 0.0, w2 = 0.0;
    for (uint64_t r = 0; r < std::min(kRowsPerTensor, t.rows()); ++r) {
      dequantize_row(src->type, src->data + r * src_rb, w.data(), n);
      ASSERT_TRUE(quantize_row(t.type, w.data(), mine.data(), n)) << dtype_name(t.type);
      ASSERT_EQ(0, std::memcmp(mine.data(), t.data + r * rb, rb))
          << t.name << " (" << dtype_name(t.type) << ") row " << r << " differs from llama-quantize's bytes";
      dequantize_row(t.type, t.data + r * rb, back.data(), n);
      for (int64_t i = 0; i < n; ++i) {
        err2 += (static_cast<double>(back[i]) - w[i]) * (static_cast<double>(back[i]) - w[i]);
        w2 += static_cast<double>(w[i]) * w[i];
      }
    }
    // and the file's values are the F16 weights up to quantization noise (a layout error would give ~1)
    EXPECT_LT(std::sqrt(err2 / w2), t.type == DType::Q4_K ? 0.1 : 0.03) << t.name;
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

TEST(QuantGolden, Q8_0FileIsWhatQuantizeRowWritesFromTheF16File) {
  TS_REQUIRE_FIXTURE(f16, "models/tiny-llama-spm-F16.gguf");
  TS_REQUIRE_FIXTURE(q8, "models/tiny-llama-spm-Q8_0.gguf");
  expect_requantized_bytes_match(f16, q8);
}

TEST(QuantGolden, Q4_K_MFileIsWhatQuantizeRowWritesFromTheF16File) {
  TS_REQUIRE_FIXTURE(f16, "models/tiny-llama-spm-F16.gguf");
  TS_REQUIRE_FIXTURE(q4, "models/tiny-llama-spm-Q4_K_M.gguf");  // Q4_K and Q6_K tensors
  expect_requantized_bytes_match(f16, q4);
}

}  // namespace
}  // namespace ts
