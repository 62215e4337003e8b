// Rewriting a GGUF model with its weight matrices in another type (speculative drafts, size/accuracy comparisons).
//
// Every metadata key is copied except general.file_type (set to `file_type`) and general.alignment (kept through
// the writer's alignment); tensors with two or more dimensions are dequantized to fp32 row by row and quantized to
// `type`, or, when their rows do not fill its blocks, to Q8_0, then F16, then F32; vectors (norms, biases) and, with
// keep_embeddings, token_embd.weight / output.weight are copied unchanged.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "gguf/gguf.h"
#include "tensor/thread_pool.h"
#include "tokenscope/dtype.h"
#include "tokenscope/expected.h"

namespace ts {

struct RequantizeOptions {
  DType type = DType::Q8_0;
  uint32_t file_type = 7;  // general.file_type to write (llama_ftype)
  bool keep_embeddings = false;
};

// Returns the number of tensors written per type name.
Expected<std::map<std::string, int>> requantize(const gguf::File& in, const RequantizeOptions& opt,
                                                const std::string& out_path, ThreadPool& pool);

}  // namespace ts
