// A decoder-only transformer (llama, qwen2, qwen3) over weights mapped from a GGUF file, and its forward pass.
//
// Weights are typed views into the mapping (never copied), except the small norm vectors and biases, which are
// dequantized to fp32 once at load. Activations are fp32. The weight matrix products run at the model's precision
// (tensor/matmul.h): by default Precision::kInt16, which rounds activations to 16 bits per block of 32 against the
// stored integer codes (mean |Δlogprob| 4e-5 / 7e-5 against the fixtures' float64 forward for Q8_0 / Q4_K_M, some
// 250 times closer than llama.cpp; 1.3-1.6x kExact's prompt speed, and faster generation), and where the weight type
// or CPU has no integer form (F16/BF16/F32 weights, no AVX-512 VNNI) computes exactly as kExact; kExact, each product
// exact to fp32 rounding whatever the stored type (the reference); Precision::kFast to 8 bits as llama.cpp does.
// Attention takes one fp32 summation order at every number of query rows (matmul_ordered), so with kInt16, whose
// integer products are row-count independent too, a position's logits are the same bits however many positions its
// forward call evaluates (generate vs score; tests/model/batch_invariance_test.cpp). Not so with kExact, nor where
// kInt16 falls back to it (no AVX-512 VNNI, F16/BF16/F32 weights): those products take vec_dot for 1-4 rows and the
// GEMM for more (about 1e-5 apart in the fixtures' logits).
// forward() is const and keeps its scratch per call, so one Model can serve several sequences (each with its own
// KVCache) from different threads. forward_batch() evaluates several sequences in one pass: their rows are stacked
// so that each weight matrix is read once for all of them (generation is memory-bound), while RoPE, the KV append
// and attention run per sequence against its own cache. A sequence's results do not depend on what it is batched
// with: every product is computed by the kernel that a forward() of that sequence alone would use (see run()), so
// forward_batch gives bit for bit the logits and cache contents of separate forward() calls.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "model/config.h"
#include "model/kv_cache.h"
#include "tensor/matmul.h"
#include "tensor/thread_pool.h"
#include "tokenscope/expected.h"

namespace ts {

struct TreeMask;  // model/attention.h

struct LayerWeights {
  std::vector<float> attn_norm;           // [n_embd]
  WeightView wq, wk, wv, wo;              // [n_head*hd, n_embd], [n_kv*hd, n_embd] ×2, [n_embd, n_head*hd]
  std::vector<float> bq, bk, bv;          // qwen2 biases, empty otherwise
  std::vector<float> q_norm, k_norm;      // qwen3 per-head norms [hd], empty otherwise
  std::vector<float> ffn_norm;            // [n_embd]
  WeightView w_gate, w_up, w_down;        // [n_ff, n_embd] ×2, [n_embd, n_ff]
};

// One sequence's part of a batched forward pass (Model::forward_batch).
struct SeqBatch {
  const int32_t* tokens = nullptr;      // n new tokens, evaluated at positions cache->size() .. cache->size()+n-1
  int64_t n = 0;                        // 0: the sequence takes no part
  KVCache* cache = nullptr;             // the sequence's own cache; the n keys/values are appended
  float* logits = nullptr;              // logit_rows.size() (or n) rows of n_vocab floats; null: no logits wanted
  std::span<const int64_t> logit_rows;  // indices into 0..n; empty = all n rows
};

class Model {
 public:
  // Validates every tensor's presence, type and shape against the config; errors name file, tensor and shape.
  // `precision` is the model's first (set_precision changes it later). Where the file's bytes are our own copy and
  // the precision is kInt16 or kFast, the Q8_0/Q4_K/Q6_K product matrices are rewritten into the interleaved layout
  // (tensor/interleave.h) that their int16 GEMV and integer GEMMs read directly; kExact keeps the row layout, which
  // its products read without unpacking. Either layout gives every precision the same bits.
  static Expected<std::unique_ptr<Model>> load(std::shared_ptr<const gguf::File> file,
                                               Precision precision = Precision::kInt16);

  const ModelConfig& config() const { return config_; }
  const gguf::File& file() const { return *file_; }

  // Precision of the weight matrix products in every later forward pass (see tensor/matmul.h): kInt16 (the default:
  // int16 activations where the weight type and CPU allow, at every row count), kExact (fp32 activations; the CLI's
  // --precision exact) or kFast (int8 activations for prompt-sized products, 13-bit weights and activations for float
  // weights; the CLI's --fast). Attention always runs
  // in fp32.
  // Set it before sharing the model between threads.
  void set_precision(Precision p) { precision_ = p; }
  Precision precision() const { return precision_; }

  // Evaluates tokens[0..n) at positions cache.size() .. cache.size()+n-1, appends their keys/values to `cache`,
  // and writes logits for the positions listed in `logit_rows` (indices into 0..n; empty = all rows) to `logits`
  // (row-major, logit_rows.size() or n rows of n_vocab floats). Token ids must be < n_vocab (checked).
  Status forward(const int32_t* tokens, int64_t n, KVCache& cache, float* logits, ThreadPool& pool,
                 const std::vector<int64_t>& logit_rows = {}) const;

  // forward() of every sequence in `seqs` in one pass: each weight matrix product runs once over the rows of all
  // of them. Results equal separate forward() calls bit for bit. Every sequence is checked as forward() checks it
  // (and no two may share a cache) before any is evaluated, so an error leaves every cache as it was.
  Status forward_batch(std::span<const SeqBatch> seqs, ThreadPool& pool) const;

  // Evaluates a token tree after the committed positions (SpecInfer's tree-masked pass). The tree's nodes are
  // 0..n_old+n−1 with parents[i] in −1..i−1 (−1: a root, attached after the committed positions); the first n_old
  // are already in the cache (its last n_old slots, from earlier forward_tree calls) and tokens[0..n) are the new
  // ones. With start = cache.size() − n_old, node i takes cache slot start + i (tree order) and RoPE position
  // start + depth(i) (a root has depth 0), and attends to slots 0..start−1 and to its ancestors and itself, so its
  // logits are those of a plain causal forward of its root-to-node path. Writes logits for `logit_rows` (indices
  // into the n new nodes; empty = all) as forward() does and appends the n keys/values. Keep an accepted path with
  // KVCache::keep_path(start, path).
  Status forward_tree(const int32_t* tokens, const int32_t* parents, int64_t n, KVCache& cache, float* logits,
                      ThreadPool& pool, const std::vector<int64_t>& logit_rows = {}, int64_t n_old = 0) const;

 private:
  Model() = default;
  // One sequence of a pass: logit rows resolved (never "empty = all"), positions null = cache.size() + i, tree
  // null = causal attention.
  struct SeqRun {
    const int32_t* tokens = nullptr;
    int64_t n = 0;
    KVCache* cache = nullptr;
    float* logits = nullptr;
    std::vector<int64_t> rows;
    const int64_t* positions = nullptr;
    const TreeMask* tree = nullptr;
  };
  // The forward pass proper over one or more sequences (n > 0 each, inputs checked).
  void run(std::span<const SeqRun> seqs, ThreadPool& pool) const;
  std::shared_ptr<const gguf::File> file_;
  ModelConfig config_;
  WeightView token_embd_;
  std::vector<LayerWeights> layers_;
  std::vector<float> output_norm_;
  WeightView output_;
  std::vector<float> rope_inv_freq_;  // [rope_dim/2]: freq_scale * base^(-2i/rope_dim)
  Precision precision_ = Precision::kInt16;
};

}  // namespace ts
