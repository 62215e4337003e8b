// Helpers to build GGUF images in memory for tests: a byte-level builder for hand-made (often deliberately broken)
// files, a small valid model image made by gguf::Writer, and a temp-file writer (into the test program's own
// directory, fixtures.h's process_temp_dir()).
//
// GgufBytes appends little-endian fields exactly as the GGUF layout in src/gguf/gguf.h describes them, with no checks,
// so a test can put any value in any field.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "fixtures.h"
#include "gguf/gguf.h"

namespace ts::test {

class GgufBytes {
 public:
  template <class T>
  GgufBytes& put(T v) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    bytes.append(b, sizeof(T));
    return *this;
  }
  GgufBytes& u8(uint8_t v) { return put(v); }
  GgufBytes& u32(uint32_t v) { return put(v); }
  GgufBytes& u64(uint64_t v) { return put(v); }
  GgufBytes& raw(std::string_view b) { bytes.append(b); return *this; }
  GgufBytes& zeros(size_t n) { bytes.append(n, '\0'); return *this; }
  GgufBytes& str(std::string_view s) { u64(s.size()); return raw(s); }
  GgufBytes& header(uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    return raw("GGUF").u32(version).u64(n_tensors).u64(n_kv);
  }
  // Key and value type; the caller appends the value.
  GgufBytes& key(std::string_view k, gguf::ValueType t) { return str(k).u32(static_cast<uint32_t>(t)); }
  GgufBytes& kv_u32(std::string_view k, uint32_t v) { return key(k, gguf::ValueType::UINT32).u32(v); }
  GgufBytes& kv_string(std::string_view k, std::string_view v) { return key(k, gguf::ValueType::STRING).str(v); }
  GgufBytes& tensor_info(std::string_view name, const std::vector<uint64_t>& dims, uint32_t type_id,
                         uint64_t offset) {
    str(name).u32(static_cast<uint32_t>(dims.size()));
    for (uint64_t d : dims) u64(d);
    return u32(type_id).u64(offset);
  }
  GgufBytes& pad_to(size_t alignment) {
    if (bytes.size() % alignment) zeros(alignment - bytes.size() % alignment);
    return *this;
  }
  std::string bytes;
};

// A small valid model: a few keys of several types, an F32 [4, 2] tensor and a Q8_0 [32, 1] tensor.
inline std::string small_gguf_image(uint64_t alignment = 32) {
  gguf::Writer w;
  w.set_alignment(alignment);
  w.add_string("general.architecture", "llama");
  w.add_u32("llama.embedding_length", 4);
  w.add_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  w.add_bool("tokenizer.ggml.add_bos_token", true);
  w.add_string_array("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "a", "b"});
  w.add_f32_array("tokenizer.ggml.scores", {0.0, -1.0, -2.0, -3.0, -4.0});
  w.add_i32_array("tokenizer.ggml.token_type", {2, 3, 3, 1, 1});
  std::string f32(4 * 2 * 4, '\0');
  for (size_t k = 0; k < f32.size(); ++k) f32[k] = static_cast<char>(k);
  w.add_tensor("token_embd.weight", DType::F32, {4, 2}, f32);
  w.add_tensor("blk.0.attn_q.weight", DType::Q8_0, {32, 1}, std::string(34, '\x11'));
  return w.to_bytes();
}

// Writes bytes to a file in the test program's temp directory and returns its path.
inline std::string write_temp_file(const std::string& name, std::string_view bytes) {
  const std::string path = process_temp_dir().file(name);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

}  // namespace ts::test
