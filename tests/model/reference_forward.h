// A naive float64 forward pass of llama / qwen2 / qwen3, written from the architecture definitions (HF transformers'
// LlamaForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM) and independent of src/model: it reads the hyperparameters
// from the GGUF keys itself, reads every weight through ts::dequantize_row (the exact stored values), and computes in
// double. Tests compare ts::Model::forward with it.
//
// For each position t (tokens at positions 0..n-1, causal, no cache):
//   x = token_embd[token]
//   per layer:  h = rmsnorm(x) ⊙ attn_norm;  q = Wq h (+bq), k = Wk h (+bk), v = Wv h (+bv)          qwen2: biases
//               per head: q_h = rmsnorm(q_h) ⊙ q_norm, k_h = rmsnorm(k_h) ⊙ k_norm                  qwen3 only
//               q_h, k_h = rope(·, t);  a_h = Σ_{j≤t} softmax_j(q_h·k_{j,g(h)} / √head_dim) v_{j,g(h)}
//               x += Wo a;  h = rmsnorm(x) ⊙ ffn_norm;  x += Wdown (silu(Wgate h) ⊙ Wup h)
//   logits = Wout (rmsnorm(x) ⊙ output_norm)          Wout = token_embd when output.weight is absent (tied)
// rmsnorm(x) = x / √(mean(x²) + eps); g(h) = h / (n_head / n_head_kv) (GQA/MQA).
// rope rotates pair i < rope_dim/2 by angle t · freq_scale · base^(-2i/rope_dim), freq_scale = 1/factor for
// rope.scaling.type "linear"; dims past rope_dim pass through. The pair is (2i, 2i+1) for NORM, (i, i+rope_dim/2)
// for NEOX (HF's rotate_half). HF llama uses rotate_half, but llama.cpp's converter permutes the rows of each
// Q/K head (HF row j·hd/2 + i → GGUF row 2i + j), so on GGUF weights llama is NORM; qwen2/qwen3 keep HF's layout
// and are NEOX.
#pragma once

#include <cstdint>
#include <vector>

#include "gguf/gguf.h"

namespace ts::test {

enum class RefRope {
  kArch,      // NORM for llama, NEOX for qwen2/qwen3: what GGUF files mean
  kNorm,      // force adjacent pairs
  kNeox,      // force half-split pairs (wrong for llama: tests use it to show the comparison is sensitive)
  kHfLayout,  // llama only, full rotary: undo the converter's Q/K row permutation, then rotate_half as HF does
};

// Logits [tokens.size() × n_vocab], row-major. Fails a gtest assertion (and returns {}) on a malformed file.
std::vector<double> reference_forward(const gguf::File& f, const std::vector<int32_t>& tokens,
                                      RefRope rope = RefRope::kArch);

}  // namespace ts::test
