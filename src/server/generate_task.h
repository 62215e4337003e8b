// Generation for /v1/completions and /v1/chat/completions: one or more sequences (choices), each a prompt and a
// sampler chain, decoded step by step inside the Scheduler as a BatchedTask (scheduler.h): each round gather()
// queues one step per sequence in the round's batch and scatter() takes the results.
//
// A sequence first evaluates its prompt in chunks, one chunk per round when it gets the round's prompt chunk
// (kSharedChunk positions while anything else runs, kAloneChunk alone). With prompt_top_k >= 0 every chunk's rows
// are kept and the prompt tokens' statistics are emitted (kPrompt): row j of the prompt ids[0..n) predicts ids[j+1],
// exactly the rows score_sequence() gives for a sequence that fits the context. The last prompt row is the first
// generated token's distribution. Then each round draws one token: logits → chain.apply → chain.select →
// chain.accept, recorded with make_record (raw statistics of the model's softmax and the processed distribution),
// as runtime/generator.cpp does, and queues that token's forward step for the next round; it stops at an
// end-of-generation token (unless ignore_eos), at max_new tokens, or when the context is full. Each sequence has
// its own KV cache, and forward_batch computes it bit for bit as alone, so its tokens do not depend on the batch.
//
// Sequences with the same prompt (n > 1) evaluate it once: a sequence with same_prompt_as = j copies sequence j's
// cache and last row once j's prompt is done. With a draft model, a sequence's generation runs as one step through
// generate_speculative() (the other tasks wait meanwhile).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "runtime/engine.h"
#include "runtime/speculative.h"
#include "sampling/chain.h"
#include "server/scheduler.h"

namespace ts::server {

struct SeqRequest {
  std::vector<int32_t> prompt;
  int prompt_top_k = -1;    // >= 0: emit the prompt tokens' statistics with this many alternatives
  int same_prompt_as = -1;  // an earlier sequence with the same prompt (and prompt_top_k < 0 here)
  sampling::Chain chain;
  uint64_t seed = 0;
};

struct GenerateRequest {
  const Engine* engine = nullptr;
  std::vector<SeqRequest> seqs;
  int64_t max_new = 16;
  int64_t n_ctx = 0;  // the context a sequence may fill (prompt + generated); must hold every prompt
  int top_k = 0;      // alternatives recorded per generated token
  bool ignore_eos = false;
  const Engine* draft = nullptr;  // speculative decoding with this draft model
  SpeculativeOptions spec;
};

std::unique_ptr<Task> make_generate_task(GenerateRequest req);

}  // namespace ts::server
