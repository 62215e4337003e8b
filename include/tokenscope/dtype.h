// Tensor element types as GGUF stores them (ggml type ids) and their block geometry.
//
// A row of n elements of a block type occupies n / block_elems blocks of block_bytes bytes each.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace ts {

enum class DType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  BF16 = 30,
};

struct DTypeTraits {
  DType type;
  std::string_view name;
  uint32_t block_elems;  // elements per block (1 for F32/F16/BF16)
  uint32_t block_bytes;  // bytes per block
  bool supported;        // the engine can dequantize / multiply it
};

// Traits of a ggml type id, or nullopt for an id this program does not know.
// Block layouts: see the one file per format in src/tensor/ (quant_*.cpp).
inline std::optional<DTypeTraits> dtype_traits(uint32_t ggml_type_id) {
  static constexpr DTypeTraits kTable[] = {
      {DType::F32, "F32", 1, 4, true},       {DType::F16, "F16", 1, 2, true},
      {DType::Q4_0, "Q4_0", 32, 18, true},   {DType::Q4_1, "Q4_1", 32, 20, true},
      {DType::Q5_0, "Q5_0", 32, 22, true},   {DType::Q5_1, "Q5_1", 32, 24, true},
      {DType::Q8_0, "Q8_0", 32, 34, true},   {DType::Q8_1, "Q8_1", 32, 36, false},
      {DType::Q2_K, "Q2_K", 256, 84, true},  {DType::Q3_K, "Q3_K", 256, 110, true},
      {DType::Q4_K, "Q4_K", 256, 144, true}, {DType::Q5_K, "Q5_K", 256, 176, true},
      {DType::Q6_K, "Q6_K", 256, 210, true}, {DType::Q8_K, "Q8_K", 256, 292, false},
      {DType::BF16, "BF16", 1, 2, true},
  };
  for (const auto& t : kTable)
    if (static_cast<uint32_t>(t.type) == ggml_type_id) return t;
  return std::nullopt;
}
inline DTypeTraits traits(DType t) { return *dtype_traits(static_cast<uint32_t>(t)); }
inline std::string_view dtype_name(DType t) { return traits(t).name; }

// Bytes of a row of n elements; n must be a multiple of the block size.
inline size_t row_bytes(DType t, int64_t n) {
  const DTypeTraits tr = traits(t);
  return static_cast<size_t>(n / tr.block_elems) * tr.block_bytes;
}

}  // namespace ts
