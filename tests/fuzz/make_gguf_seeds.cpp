// Writes the seed GGUF files of fuzz_gguf into a directory, with the project's gguf::Writer, so the seeds follow the
// format the reader expects: a SentencePiece and a byte-level BPE vocabulary with a chat template (fuzz_vocab.h), a
// file with every value type (nested arrays, 64-bit and signed integers, floats, a bool) and two small tensors
// (F32 and Q8_0) under alignment 64, and an empty one. Each is a few KB at most.
//   make_gguf_seeds DIR
#include <cstdio>
#include <string>

#include "fuzz_vocab.h"

namespace {

ts::gguf::Writer values_writer() {
  using ts::gguf::Value;
  using ts::gguf::ValueType;
  ts::gguf::Writer w;
  w.set_alignment(64);
  w.add_string("general.architecture", "llama");
  w.add_string("general.name", "fuzz seed \xC3\xA9");
  w.add_u32("llama.context_length", 64);
  w.add_i32("llama.rope.dimension_count", -4);
  w.add_u64("general.size", 1ull << 40);
  w.add_f32("llama.rope.freq_base", 10000.0f);
  w.add_bool("general.flag", true);
  w.add_f32_array("general.floats", {0.5, -1.0, 3.25});
  w.add_i32_array("general.ints", {1, -2, 3});
  w.add_string_array("general.strings", {"a", "", "\xE2\x96\x81x"});
  Value nested;
  nested.type = ValueType::ARRAY;
  nested.elem_type = ValueType::ARRAY;
  for (int i = 0; i < 2; ++i) {
    Value inner;
    inner.type = ValueType::ARRAY;
    inner.elem_type = ValueType::INT16;
    inner.ints = {i, -i, 7};
    nested.nested.push_back(inner);
  }
  w.add("general.nested", nested);
  Value f64;
  f64.type = ValueType::FLOAT64;
  f64.f = 2.5;
  w.add("general.f64", f64);
  std::string f32(4 * 8, '\0');
  for (size_t i = 0; i < f32.size(); i += 4) f32[i + 3] = 0x3f;  // 0.5f
  w.add_tensor("token_embd.weight", ts::DType::F32, {4, 2}, f32);
  const size_t q8 = ts::row_bytes(ts::DType::Q8_0, 32);
  w.add_tensor("output.weight", ts::DType::Q8_0, {32, 1}, std::string(q8, '\x01'));
  return w;
}

bool write(const ts::gguf::Writer& w, const std::string& path) {
  const std::string bytes = w.to_bytes();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) {
    std::fprintf(stderr, "make_gguf_seeds: cannot write %s\n", path.c_str());
    if (f) std::fclose(f);
    return false;
  }
  std::fclose(f);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_gguf_seeds DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  bool ok = write(ts::fuzz::spm_vocab_writer(), dir + "/spm_vocab.gguf");
  ok = write(ts::fuzz::bpe_vocab_writer("qwen2"), dir + "/bpe_vocab.gguf") && ok;
  ok = write(values_writer(), dir + "/values.gguf") && ok;
  ok = write(ts::gguf::Writer(), dir + "/empty.gguf") && ok;
  return ok ? 0 : 1;
}
