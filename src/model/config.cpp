#include "model/config.h"

#include <algorithm>
#include <cmath>

namespace ts {

const std::vector<std::string>& supported_architectures() {
  static const std::vector<std::string> k = {"llama", "qwen2", "qwen3"};
  return k;
}

namespace {

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

Expected<ModelConfig> read_config(const gguf::File& f) {
  ModelConfig c;
  auto arch = f.get_string("general.architecture");
  if (!arch) return arch.error();
  c.arch = *arch;
  const auto& sup = supported_architectures();
  if (std::find(sup.begin(), sup.end(), c.arch) == sup.end())
    return Error::input(f.path() + ": general.architecture: unsupported architecture '" + c.arch +
                        "' (supported: " + join(sup) + ")");
  c.name = f.get_string_or("general.name", "");
  const std::string p = c.arch + ".";
  auto need = [&](const char* key, int64_t& out) -> Status {
    auto v = f.get_int(p + key);
    if (!v) return v.error();
    if (*v <= 0 || *v > (int64_t(1) << 24))
      return Error::input(f.path() + ": " + p + key + ": value " + std::to_string(*v) + " out of range");
    out = *v;
    return ok_status();
  };
  for (auto [key, out] : {std::pair{"embedding_length", &c.n_embd}, {"block_count", &c.n_layer},
                          {"attention.head_count", &c.n_head}, {"feed_forward_length", &c.n_ff}}) {
    if (auto s = need(key, *out); !s) return s.error();
  }
  c.n_head_kv = f.get_int_or(p + "attention.head_count_kv", c.n_head);
  c.head_dim = f.get_int_or(p + "attention.key_length", c.n_embd / c.n_head);
  const int64_t v_len = f.get_int_or(p + "attention.value_length", c.head_dim);
  c.n_ctx_train = f.get_int_or(p + "context_length", 2048);
  c.rms_eps = f.get_float_or(p + "attention.layer_norm_rms_epsilon", 1e-5);
  c.rope_base = f.get_float_or(p + "rope.freq_base", 10000.0);
  c.rope_dim = f.get_int_or(p + "rope.dimension_count", c.head_dim);
  const std::string scaling = f.get_string_or(p + "rope.scaling.type", "");
  const double factor = f.get_float_or(p + "rope.scaling.factor", 0.0);
  if (scaling == "linear" && factor > 0) c.rope_freq_scale = 1.0 / factor;
  else if (!scaling.empty() && scaling != "none" && scaling != "linear")
    return Error::input(f.path() + ": " + p + "rope.scaling.type: unsupported value '" + scaling +
                        "' (supported: none, linear)");
  if (f.find(p + "rope.scale_linear")) {  // older files
    const double s = f.get_float_or(p + "rope.scale_linear", 1.0);
    if (s > 0) c.rope_freq_scale = 1.0 / s;
  }

  if (c.n_head_kv <= 0 || c.n_head % c.n_head_kv != 0)
    return Error::input(f.path() + ": " + p + "attention.head_count_kv: value " + std::to_string(c.n_head_kv) +
                        " does not divide head_count " + std::to_string(c.n_head));
  if (c.head_dim <= 0 || c.head_dim % 2 != 0 || v_len != c.head_dim)
    return Error::input(f.path() + ": " + p + "attention.key_length: value " + std::to_string(c.head_dim) +
                        " unsupported (must be even and equal value_length)");
  if (c.rope_dim <= 0 || c.rope_dim > c.head_dim || c.rope_dim % 2 != 0)
    return Error::input(f.path() + ": " + p + "rope.dimension_count: value " + std::to_string(c.rope_dim) +
                        " out of range 2.." + std::to_string(c.head_dim));
  if (!(c.rope_base > 0) || !std::isfinite(c.rope_base))
    return Error::input(f.path() + ": " + p + "rope.freq_base: value " + std::to_string(c.rope_base) + " invalid");
  if (!(c.rms_eps >= 0) || !std::isfinite(c.rms_eps))
    return Error::input(f.path() + ": " + p + "attention.layer_norm_rms_epsilon: invalid value");

  if (c.arch == "llama") {
    c.rope = RopeKind::kNorm;
  } else if (c.arch == "qwen2") {
    c.rope = RopeKind::kNeox;
    c.qkv_bias = true;
  } else if (c.arch == "qwen3") {
    c.rope = RopeKind::kNeox;
    c.qk_norm = true;
  }
  const gguf::TensorInfo* emb = f.tensor("token_embd.weight");
  if (!emb) return Error::input(f.path() + ": tensor 'token_embd.weight': missing");
  if (emb->dims.size() != 2 || static_cast<int64_t>(emb->dims[0]) != c.n_embd)
    return Error::input(f.path() + ": tensor 'token_embd.weight': shape does not match embedding_length " +
                        std::to_string(c.n_embd));
  c.n_vocab = static_cast<int64_t>(emb->dims[1]);
  c.tied_output = f.tensor("output.weight") == nullptr;
  return c;
}

}  // namespace ts
