// Request bodies of the HTTP API, parsed and validated into plain structs (no model needed, so a fuzzer can drive
// them). Every error is a 400 in OpenAI's shape naming the field (`param`) and the value or range.
//
// /v1/completions: prompt (string | [string] | [int] | [[int]]), max_tokens (default 16), temperature (0..2, default
// 1), top_p (0..1, default 1), frequency_penalty / presence_penalty (-2..2), logit_bias ({"id": -100..100}), seed,
// stop (string | up to 4 strings), n (1..16), logprobs (null | 0..100), echo, stream, stream_options.include_usage,
// and the extension "tokenscope": {"entropy", "rank", "processed", "samplers", "ignore_eos"}.
// /v1/chat/completions: messages (objects with a string `role`), logprobs (bool), top_logprobs (0..100, needs
// logprobs), max_tokens / max_completion_tokens (default: the rest of the context), the same sampling fields.
// The sampler chain: "tokenscope.samplers" when given (then temperature/top_p/penalties must not be), otherwise
// logit_bias → penalties → temp → top_p → dist in that order (OpenAI's and Hugging Face's: temperature before
// top-p; temperature 0 is greedy).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sampling/chain.h"
#include "server/api.h"

namespace ts::server {

struct Extension {
  bool entropy = false, rank = false;
  bool processed = false;  // also the sampler chain's distribution per token (p_logprob, kept, p_entropy, changed)
  bool ignore_eos = false;
  std::string samplers;    // a chain spec (sampling/chain.h); empty: from the OpenAI fields
  bool any() const { return entropy || rank || processed; }
};

struct SamplingFields {
  std::string model;
  std::optional<double> temperature, top_p, frequency_penalty, presence_penalty;
  std::vector<std::pair<int32_t, double>> logit_bias;
  std::optional<uint64_t> seed;
  std::vector<std::string> stop;
  std::optional<int64_t> max_tokens;  // absent: the route's default
  int n = 1;
  bool stream = false, include_usage = false;
  Extension ext;
};

struct PromptInput {
  bool is_ids = false;
  std::string text;
  std::vector<int32_t> ids;
};

struct CompletionBody {
  SamplingFields s;
  std::vector<PromptInput> prompts;
  int logprobs = -1;  // -1: null (no logprobs)
  bool echo = false;
};

struct ChatBody {
  SamplingFields s;
  Json messages;  // validated: a non-empty array of objects with a string "role"
  bool logprobs = false;
  int top_logprobs = 0;
  bool add_generation_prompt = true;
};

struct ScoreBody {
  std::string model;
  bool is_ids = false;
  std::string text;
  std::vector<int32_t> ids;
  int top = 5;
  bool parse_special = false;  // as the CLI's score: special-token text is taken literally
  bool pieces = false;         // add each token's and alternative's decoded text ("piece")
};

struct TokenizeBody {
  std::string content;
  bool add_special = true, parse_special = true, with_pieces = false;
};

struct DetokenizeBody {
  std::vector<int32_t> tokens;
};

inline constexpr int kMaxChoices = 16;  // n, and prompts × n
inline constexpr int kMaxLogprobs = 100;

Parsed<CompletionBody> parse_completion(const Json& j);
Parsed<ChatBody> parse_chat(const Json& j);
Parsed<ScoreBody> parse_score(const Json& j);
Parsed<TokenizeBody> parse_tokenize(const Json& j);
Parsed<DetokenizeBody> parse_detokenize(const Json& j);

// The sampler chain the fields ask for (see the header comment). Errors: the chain spec's message, or a conflict.
Parsed<sampling::Chain> build_chain(const SamplingFields& s);

}  // namespace ts::server
