// One /v1/completions or /v1/chat/completions request while it runs: the events of its GenerateTask turned into
// OpenAI's response, whole or as stream chunks.
//
// Legacy completions (OpenAI's shape, §5.2 of docs/decoding.md):
//   choices[i] = {"text", "index", "logprobs": null | {"tokens", "token_logprobs", "top_logprobs", "text_offset"},
//                 "finish_reason": "stop" | "length"}
//   tokens[j] is the token's text (a control token: its vocabulary text), token_logprobs[j] its natural-log
//   probability under the model's own distribution (before the sampler chain, as vLLM and llama.cpp report),
//   top_logprobs[j] a {text: logprob} object of the `logprobs` most likely tokens plus the chosen one, text_offset[j]
//   the offset of the token in `text` in Unicode code points. With echo the prompt's tokens come first, the first
//   with null logprob and null top_logprobs; text starts with the prompt.
// Chat: choices[i] = {"index", "message": {"role": "assistant", "content"}, "logprobs": null | {"content": [{"token",
//   "logprob", "bytes", "top_logprobs": [{"token", "logprob", "bytes"}]}], "refusal": null}, "finish_reason"}.
// The tokenscope extension adds, per token: legacy logprobs.tokenscope = {"ids", "rank", "entropy", "processed"}
// (parallel arrays; null for the first echoed token); chat content entries get "id", "rank", "entropy",
// "processed". processed = {"p_logprob", "kept", "p_entropy", "changed", "p_top"}: the sampler chain's
// distribution and whether the chain chose other than the model's most likely token.
// End-of-generation tokens end a choice ("stop") and are not part of its text or logprobs; stop strings cut the
// text where they begin and drop the tokens that lie wholly inside them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "runtime/engine.h"
#include "server/api.h"
#include "server/requests.h"
#include "server/scheduler.h"
#include "server/text_stream.h"

namespace ts::server {

enum class ApiKind { kCompletion, kChat };

struct RunOptions {
  ApiKind kind = ApiKind::kCompletion;
  int logprobs = -1;  // alternatives per token; -1: no logprobs
  bool echo = false;
  Extension ext;
  int n = 1;
  bool include_usage = false;
  std::string model;
  std::vector<std::string> stop;
};

struct PromptInfo {
  std::vector<int32_t> ids;
  std::string text;               // what echo returns
  std::vector<uint32_t> offsets;  // byte offset of each token in text
  std::vector<ScoredToken> stats; // echo: positions 1..n−1, filled from kPrompt events
};

// Bytes a token adds to the text (control tokens: none), and the text logprobs show for it.
std::string token_piece(const Engine& e, int32_t id);
std::string token_display(const Engine& e, int32_t id);

class CompletionRun {
 public:
  CompletionRun(const Engine& e, RunOptions opt, std::vector<PromptInfo> prompts);

  int n_choices() const { return static_cast<int>(choices_.size()); }
  const std::vector<PromptInfo>& prompts() const { return prompts_; }

  // Applies one event (tokens, finishes, prompt statistics); a stop string found here stops the sequence in `job`.
  // When streaming, the chunks it produces are appended to `chunks`.
  void apply(const Event& ev, Job& job, std::vector<Json>* chunks);

  Json response() const;     // the whole response, after kDone
  Json usage_chunk() const;  // streaming with include_usage: the last chunk
  int64_t prompt_tokens() const;
  int64_t completion_tokens() const;

 private:
  struct Choice {
    int prompt = 0;
    TextAssembler text;
    std::vector<GenToken> tokens;  // in text order; the first text.token_count() are kept
    std::string finish;            // "", "stop", "length"
    int64_t counted = 0;           // tokens generated (usage), up to the stop
    bool opened = false;           // streaming: first chunk (echo / role) sent
  };
  struct Entry;

  Json base(bool chunk) const;
  std::vector<Entry> prompt_entries(const PromptInfo& p) const;
  Entry gen_entry(const GenToken& t, int64_t char_offset) const;
  Json legacy_logprobs(const std::vector<Entry>& entries) const;
  Json chat_logprobs(const std::vector<Entry>& entries) const;
  std::vector<Entry> released_entries(const Choice& c, size_t first, size_t end) const;
  void open_choice(int i, std::vector<Json>* chunks);
  Json chunk_for(int i, const std::string& text, const std::vector<Entry>& entries, const std::string& finish) const;
  static std::string finish_reason(const std::string& reason);

  const Engine& e_;
  RunOptions opt_;
  std::vector<PromptInfo> prompts_;
  std::vector<Choice> choices_;
  std::string id_;
  int64_t created_ = 0;
};

}  // namespace ts::server
