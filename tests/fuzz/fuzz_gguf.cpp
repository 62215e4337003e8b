// libFuzzer target: the GGUF reader on arbitrary bytes (File::from_bytes, the in-memory twin of the mmap reader),
// then what a loader reads from a file that parsed: every metadata value printed, the typed getters, the tensor
// table, the tokenizer built from tokenizer.ggml.* (and a short encode/decode with it) and the chat template (parsed
// and rendered under tight limits). Any input must give a value or an Error — never a crash, a sanitizer report or
// an exception. Seeds: tests/fuzz/corpus/fuzz_gguf, written by make_gguf_seeds with the project's writer.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "gguf/gguf.h"
#include "tokenizer/chat_template/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_gguf: invariant broken: %s\n", what);
  std::abort();
}

void read_metadata(const ts::gguf::File& f) {
  for (const auto& [key, v] : f.metadata()) {
    (void)v.to_string();
    (void)v.array_size();
    if (v.is_integer()) (void)v.as_int();
    if (v.is_integer() || v.is_float()) (void)v.as_double();
    if (f.find(key) == nullptr) fail("find() misses a key of metadata()");
    (void)f.get_string(key);
    (void)f.get_int(key);
    (void)f.get_float(key);
    (void)f.get_bool(key);
    (void)f.get_string_array(key);
    (void)f.get_int_array(key);
    (void)f.get_float_array(key);
  }
  for (const ts::gguf::TensorInfo& t : f.tensors()) {
    (void)t.rows();
    if (f.tensor(t.name) == nullptr) fail("tensor() misses a tensor of tensors()");
    // the reader promises the data lies inside the image: touch its first and last byte (ASan checks the bounds)
    if (t.n_bytes > 0) {
      volatile uint8_t first = t.data[0], last = t.data[t.n_bytes - 1];
      (void)first;
      (void)last;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto f = ts::gguf::File::from_bytes(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.gguf");
  if (!f) {
    if (f.error().message.empty()) fail("an error without a message");
    return 0;
  }
  read_metadata(*f);
  if (auto tok = ts::Tokenizer::from_gguf(*f)) {
    const ts::Encoding e = tok->encode("Hello world, <s> \xE2\x96\x81\xC3\xA9 123\n\xff");
    for (int32_t id : e.ids)
      if (id < 0 || id >= tok->vocab_size()) fail("encode gave an id out of range");
    (void)tok->decode(e.ids);
  }
  if (auto ct = ts::chat_template_from_gguf(*f)) {
    if (auto tpl = ts::ChatTemplate::parse(ct->source)) {
      ts::ChatRenderOptions opt;
      opt.now = std::tm{};
      opt.limits.max_output_bytes = 1 << 16;
      opt.limits.max_steps = 100000;
      const nlohmann::ordered_json messages = nlohmann::ordered_json::array(
          {{{"role", "system"}, {"content", "Be brief."}}, {{"role", "user"}, {"content", "Hi"}}});
      (void)tpl->render(ts::chat_context(messages, true, ct->bos_token, ct->eos_token), opt);
    }
  }
  return 0;
}
