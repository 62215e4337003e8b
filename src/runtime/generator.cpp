// Sampling generation; see generator.h for the contract.
#include "runtime/generator.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "runtime/model_sequence.h"

namespace ts {

using sampling::Candidates;

GenToken make_record(const float* z, int64_t n_vocab, const Candidates& processed, int32_t id, int top_k) {
  GenToken t;
  t.id = id;
  const float p = sampling::prob_of(processed, id);
  t.processed_logprob = p > 0 ? std::log(static_cast<double>(p)) : -INFINITY;
  t.kept = static_cast<int64_t>(processed.size());
  if (top_k < 0) return t;  // the token and its processed probability only (statistical tests)
  t.raw = token_stats(z, n_vocab, id, std::max(top_k, 1));
  const int32_t raw_best = t.raw.top.empty() ? -1 : t.raw.top.front().id;
  if (top_k <= 0) t.raw.top.clear();
  t.changed = id != raw_best;
  t.processed_entropy = sampling::entropy_nats(processed);
  if (top_k > 0) {
    std::vector<sampling::Candidate> best(processed.data.begin(), processed.data.end());
    const size_t k = std::min<size_t>(static_cast<size_t>(top_k), best.size());
    std::partial_sort(best.begin(), best.begin() + static_cast<std::ptrdiff_t>(k), best.end(),
                      [](const auto& a, const auto& b) { return a.p > b.p || (a.p == b.p && a.id < b.id); });
    for (size_t i = 0; i < k; ++i) t.processed_top.push_back({best[i].id, std::log(static_cast<double>(best[i].p))});
  }
  return t;
}

sampling::Context chain_context(const Engine& engine, const std::vector<int32_t>& history, sampling::Rng* rng) {
  sampling::Context ctx;
  ctx.history = history;
  const Tokenizer* tok = &engine.tokenizer;
  ctx.token_text = [tok](int32_t id) { return tok->token_bytes(id); };
  ctx.rng = rng;
  return ctx;
}

bool is_end_of_generation(const Engine& engine, int32_t id) {
  const Tokenizer& t = engine.tokenizer;
  if (id == t.eos_id()) return true;
  if (t.token_kind(id) != TokenKind::kControl) return false;
  // Chat models end a turn with one of these control tokens (the set llama.cpp also treats as end of generation).
  static const char* const kEnd[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
                                     "<|end_of_text|>", "<|return|>", "<|eom_id|>", "</s>"};
  const std::string& s = t.token_text(id);
  return std::any_of(std::begin(kEnd), std::end(kEnd), [&](const char* e) { return s == e; });
}

Expected<GenerateSummary> generate(const Engine& engine, const std::vector<int32_t>& prompt, sampling::Chain& chain,
                                   sampling::Rng& rng, const GenerateOptions& opt, ThreadPool& pool,
                                   const GenSink& sink) {
  const Model& model = *engine.model;
  const int64_t n_ctx = opt.ctx > 0 ? std::min(opt.ctx, model.config().n_ctx_train) : model.config().n_ctx_train;
  const int64_t n = static_cast<int64_t>(prompt.size());
  if (n == 0) return Error::input("generate: empty prompt (nothing to continue; the model adds no BOS)");
  if (n >= n_ctx)
    return Error::input("generate: prompt of " + std::to_string(n) + " tokens fills the context of " +
                        std::to_string(n_ctx));
  if (opt.n_new < 0) return Error::input("generate: negative token count " + std::to_string(opt.n_new));
  const int64_t V = model.config().n_vocab;
  ModelSequence seq(model, std::min(n_ctx, n + opt.n_new));
  std::vector<int32_t> history = prompt;
  std::vector<float> logits;
  GenerateSummary sum;
  sum.prompt_tokens = n;
  sum.stop = "length";
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  auto t_gen = t0;
  for (int64_t i = 0; i < opt.n_new; ++i) {
    if (static_cast<int64_t>(history.size()) >= n_ctx) {
      sum.stop = "context";
      break;
    }
    if (auto s = seq.logits_after(history, static_cast<int64_t>(history.size()) - 1, logits, pool); !s)
      return s.error();
    if (i == 0) t_gen = Clock::now();
    const sampling::Context ctx = chain_context(engine, history, &rng);
    Candidates dist = chain.apply(logits.data(), V, ctx);
    const int32_t id = chain.select(dist, rng);
    if (id < 0) return Error::internal("generate: the sampler chain left no candidate");
    chain.accept(id);
    GenToken t = make_record(logits.data(), V, dist, id, opt.top_k);
    t.index = i;
    history.push_back(id);
    ++sum.generated;
    if (sink) sink(t);
    if (!opt.ignore_eos && is_end_of_generation(engine, id)) {
      sum.stop = "eos";
      break;
    }
  }
  const auto t1 = Clock::now();
  sum.prompt_seconds = std::chrono::duration<double>(t_gen - t0).count();
  sum.seconds = std::chrono::duration<double>(t1 - t_gen).count();
  return sum;
}

}  // namespace ts
