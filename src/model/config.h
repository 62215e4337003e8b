// Hyperparameters of a decoder-only transformer, read from a GGUF file's `{arch}.*` keys.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "tokenscope/expected.h"

namespace ts {

enum class RopeKind { kNorm, kNeox };  // NORM: rotate adjacent pairs (2i, 2i+1); NEOX: pairs (i, i + rope_dim/2)

struct ModelConfig {
  std::string arch;           // "llama", "qwen2", "qwen3"
  std::string name;           // general.name, if any
  int64_t n_vocab = 0;        // rows of token_embd.weight
  int64_t n_embd = 0;         // {arch}.embedding_length
  int64_t n_layer = 0;        // {arch}.block_count
  int64_t n_head = 0;         // {arch}.attention.head_count
  int64_t n_head_kv = 0;      // {arch}.attention.head_count_kv (default n_head)
  int64_t head_dim = 0;       // {arch}.attention.key_length (default n_embd / n_head)
  int64_t n_ff = 0;           // {arch}.feed_forward_length
  int64_t n_ctx_train = 0;    // {arch}.context_length
  double rms_eps = 1e-5;      // {arch}.attention.layer_norm_rms_epsilon
  double rope_base = 10000.0; // {arch}.rope.freq_base
  double rope_freq_scale = 1; // 1 / {arch}.rope.scaling.factor when rope.scaling.type == "linear"
  int64_t rope_dim = 0;       // {arch}.rope.dimension_count (default head_dim)
  RopeKind rope = RopeKind::kNorm;
  bool qkv_bias = false;      // qwen2: q/k/v projections carry a bias
  bool qk_norm = false;       // qwen3: per-head RMSNorm of q and k before RoPE
  bool tied_output = false;   // no output.weight: logits use token_embd.weight
};

// The architectures this engine runs, for messages.
const std::vector<std::string>& supported_architectures();

// Reads and validates the hyperparameters; an unknown architecture is refused with the list of supported ones.
Expected<ModelConfig> read_config(const gguf::File& file);

}  // namespace ts
