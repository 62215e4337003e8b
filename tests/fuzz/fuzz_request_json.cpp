// libFuzzer target: an HTTP request body → the parsed request, through every parser of the server's routes
// (src/server/requests.h: completions and its sampler chain, chat, score, tokenize, detokenize;
// src/server/analysis_requests.h: analyze, detect). The contract: any body gives a parsed struct or an ApiError —
// a 4xx with a message — and the error's JSON text can always be written (messages quote user bytes, which may be
// invalid UTF-8); never a crash, a sanitizer report or an exception. The parsed values must lie in their ranges, and
// the sampler chain a request asks for must parse back from its spec and, run over a small distribution, choose a
// token it kept.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>

#include "server/analysis_requests.h"
#include "server/requests.h"

namespace {

using namespace ts::server;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_request_json: invariant broken: %s\n", what);
  std::abort();
}

void check_error(const ApiError& e) {
  if (e.status < 400 || e.status > 499) fail("a request error outside 4xx");
  if (e.message.empty()) fail("an error without a message");
  const std::string text = json_text(error_json(e));
  if (text.find("\"error\"") == std::string::npos) fail("error JSON without \"error\"");
}

template <class T, class F>
void run(const Parsed<T>& p, F&& check) {
  if (!p) return check_error(p.error());
  check(*p);
}

void check_sampling(const SamplingFields& s) {
  if (s.n < 1 || s.n > kMaxChoices) fail("n out of range");
  if (s.max_tokens && *s.max_tokens < 0) fail("negative max_tokens");
  if (s.stop.size() > 4) fail("more than 4 stop strings");
  if (s.temperature && !(*s.temperature >= 0 && *s.temperature <= 2)) fail("temperature out of range");
  if (s.top_p && !(*s.top_p >= 0 && *s.top_p <= 1)) fail("top_p out of range");
  auto chain = build_chain(s);  // the sampler chain a valid request asks for
  if (!chain) return check_error(chain.error());
  // spec() writes the explicit chain, which parses back to itself (chain.h)
  auto again = ts::sampling::Chain::parse(chain->spec());
  if (!again || again->spec() != chain->spec()) fail("the chain's spec does not parse back to itself");
  // Run it as a generation step would, over a small fixed distribution (ties, a -inf, ids the request's logit_bias
  // may name beyond the vocabulary): the chosen token must be one the processed distribution kept.
  constexpr int64_t kVocab = 48;
  float logits[kVocab];
  for (int64_t i = 0; i < kVocab; ++i) logits[i] = static_cast<float>((i * 7) % 11) * 0.5f - 2.0f;
  logits[5] = -std::numeric_limits<float>::infinity();
  const int32_t history[] = {1, 2, 2, 3, 40, 2, 7};
  ts::sampling::Rng rng(s.seed.value_or(1));
  ts::sampling::Context ctx;
  ctx.history = history;
  ctx.rng = &rng;
  for (int step = 0; step < 3; ++step) {
    const ts::sampling::Candidates c = chain->apply(logits, kVocab, ctx);
    if (c.empty()) continue;
    const int32_t tok = chain->select(c, rng);
    bool kept = false;
    for (const ts::sampling::Candidate& x : c.data) kept = kept || x.id == tok;
    if (!kept || tok < 0 || tok >= kVocab) fail("the chain chose a token outside its processed distribution");
    chain->accept(tok);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  auto j = parse_body(body);
  if (!j) {
    check_error(j.error());
    return 0;
  }
  if (!j->is_object()) fail("parse_body accepted a non-object");
  run(parse_completion(*j), [](const CompletionBody& b) {
    check_sampling(b.s);
    if (b.prompts.empty()) fail("completion without a prompt");
    if (b.logprobs < -1 || b.logprobs > kMaxLogprobs) fail("logprobs out of range");
    for (const PromptInput& p : b.prompts)
      for (int32_t id : p.ids)
        if (id < 0) fail("negative token id");
  });
  run(parse_chat(*j), [](const ChatBody& b) {
    check_sampling(b.s);
    if (!b.messages.is_array() || b.messages.empty()) fail("chat without messages");
    for (const Json& m : b.messages)
      if (!m.is_object() || !m.contains("role") || !m["role"].is_string()) fail("a message without a string role");
    if (b.top_logprobs < 0 || b.top_logprobs > kMaxLogprobs) fail("top_logprobs out of range");
  });
  run(parse_score(*j), [](const ScoreBody& b) {
    if (b.top < 0 || b.top > kMaxLogprobs) fail("top out of range");
    for (int32_t id : b.ids)
      if (id < 0) fail("negative token id");
  });
  run(parse_tokenize(*j), [](const TokenizeBody&) {});
  run(parse_detokenize(*j), [](const DetokenizeBody& b) {
    for (int32_t id : b.tokens)
      if (id < 0) fail("negative token id");
  });
  run(parse_analyze(*j), [](const AnalyzeBody& b) {
    if (b.window < 1 || !(b.top_fraction >= 0 && b.top_fraction <= 1)) fail("analyze option out of range");
  });
  run(parse_detect(*j), [](const DetectBody& b) {
    if (b.docs.empty() || b.methods.empty()) fail("detect without documents or methods");
  });
  return 0;
}
