// F32 rows: n little-endian IEEE binary32 values (ggml type 0). Dequantize and quantize are copies.
#include <cstring>

#include "tensor/quant_impl.h"

namespace ts::quant {

void dequantize_f32_ref(const void* src, float* dst, int64_t n) {
  std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}

void quantize_f32_ref(const float* src, void* dst, int64_t n) {
  std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}

}  // namespace ts::quant
