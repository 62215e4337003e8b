// What the entropy-gated decoders (entropix.h, cntp.h, ead.h) share with generate(): the context limit, the checks on
// the prompt and the token budget, the one-token step record, and the timer that splits prompt time from generation
// time. Internal to src/runtime.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/generator.h"
#include "runtime/model_sequence.h"
#include "runtime/speculative.h"

namespace ts::decoder {

// The context a run may fill: opt.ctx, capped by the model's training context (0: the training context).
inline int64_t context_limit(const Engine& e, const GenerateOptions& opt) {
  const int64_t train = e.model->config().n_ctx_train;
  return opt.ctx > 0 ? std::min(opt.ctx, train) : train;
}

// The errors generate() gives, worded the same, with `who` naming the decoder.
inline Status check_request(const std::string& who, const std::vector<int32_t>& prompt, int64_t n_ctx,
                            const GenerateOptions& opt) {
  const int64_t n = static_cast<int64_t>(prompt.size());
  if (n == 0) return Error::input(who + ": empty prompt (nothing to continue; the model adds no BOS)");
  if (n >= n_ctx)
    return Error::input(who + ": prompt of " + std::to_string(n) + " tokens fills the context of " +
                        std::to_string(n_ctx));
  if (opt.n_new < 0) return Error::input(who + ": negative token count " + std::to_string(opt.n_new));
  return ok_status();
}

// Prompt time ends at the first logits; generation time runs from there to finish().
class Timer {
 public:
  Timer() : t0_(Clock::now()), t_gen_(t0_) {}
  void first_logits() {
    if (!started_) t_gen_ = Clock::now(), started_ = true;
  }
  void finish(GenerateSummary& s) const {
    const auto t1 = Clock::now();
    s.prompt_seconds = std::chrono::duration<double>(t_gen_ - t0_).count();
    s.seconds = std::chrono::duration<double>(t1 - t_gen_).count();
  }

 private:
  using Clock = std::chrono::steady_clock;
  Clock::time_point t0_, t_gen_;
  bool started_ = false;
};

// A processed distribution of one token with p = 1 (argmax steps, inserted tokens).
inline sampling::Candidates one_hot(int32_t id, float logit = 0.0f) {
  sampling::Candidates c;
  c.data.push_back({id, logit, 1.0f});
  c.sorted = true;
  return c;
}

// ModelOracle that also reports the forward positions it ran (the decoders' cost figure).
class CountingOracle : public LogitOracle {
 public:
  CountingOracle(const Model& model, int64_t capacity, ThreadPool& pool) : seq_(model, capacity), pool_(&pool) {}
  Status logits_after(std::span<const int32_t> tokens, int64_t from, std::vector<float>& out) override {
    return seq_.logits_after(tokens, from, out, *pool_);
  }
  int64_t positions_evaluated() const { return seq_.positions_evaluated(); }

 private:
  ModelSequence seq_;
  ThreadPool* pool_;
};

}  // namespace ts::decoder
