// Sampling generation with the distribution of every generated token on record: raw (the model's softmax) and
// processed (what the sampler chain left and drew from).
//
// generate() appends up to n_new tokens to the prompt. At each step the target's logits z give the raw statistics
// (token_stats: logprob, rank, entropy, varentropy, top-k of softmax(z)), the chain gives the processed distribution
// P = chain.apply(z, ctx), the chain's selector draws the token from P with the seeded Rng, and chain.accept(token)
// advances the chain's state. Generation stops at n_new tokens, at an end-of-generation token (unless
// ignore_eos), or when the context is full.
//
// The speculative decoders (speculative.h) produce the same GenToken records, so every front end prints both alike.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "analysis/token_stats.h"
#include "runtime/engine.h"
#include "sampling/chain.h"
#include "sampling/rng.h"
#include "tensor/thread_pool.h"
#include "tokenscope/expected.h"

namespace ts {

struct GenerateOptions {
  int64_t n_new = 128;
  int top_k = 5;           // alternatives recorded per token, for both distributions; < 0: record only the id
                           // and its processed logprob (no raw statistics)
  bool ignore_eos = false;
  int64_t ctx = 0;         // context limit; 0: the model's training context
};

struct GenToken {
  int64_t index = 0;          // 0 = first generated token
  int32_t id = -1;
  TokenStats raw;             // of the target's softmax; raw.logprob/rank are the chosen token's
  double processed_logprob = 0;  // log P(id) under the chain's processed distribution
  int64_t kept = 0;           // size of the processed distribution's support
  double processed_entropy = 0;  // nats
  std::vector<TopEntry> processed_top;  // most probable first
  bool changed = false;       // the chain chose something other than the raw argmax
  // speculative runs: whether this token was proposed by the drafter, and whether the target accepted it (a token
  // the target drew itself, after a rejection or as the bonus, has drafted = false)
  bool drafted = false;
  bool accepted = false;
};

struct GenerateSummary {
  int64_t prompt_tokens = 0;
  int64_t generated = 0;
  double seconds = 0;              // generation only (after the prompt's first pass)
  double prompt_seconds = 0;
  std::string stop;                // "length", "eos", "context"
  // speculative runs
  int64_t drafted = 0, accepted = 0, target_passes = 0;
};

using GenSink = std::function<void(const GenToken&)>;

// Fills a GenToken from the target logits z, the processed distribution and the chosen token.
GenToken make_record(const float* z, int64_t n_vocab, const sampling::Candidates& processed, int32_t id, int top_k);

// The context of the chain at a step: history = prompt + generated so far.
sampling::Context chain_context(const Engine& engine, const std::vector<int32_t>& history, sampling::Rng* rng);

// True for the tokens that end generation (the model's EOS and the tokenizer's other end-of-generation tokens).
bool is_end_of_generation(const Engine& engine, int32_t id);

Expected<GenerateSummary> generate(const Engine& engine, const std::vector<int32_t>& prompt, sampling::Chain& chain,
                                   sampling::Rng& rng, const GenerateOptions& opt, ThreadPool& pool,
                                   const GenSink& sink);

}  // namespace ts
