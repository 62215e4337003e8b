// Entropy Adaptive Decoding; see ead.h for the rule and the defaults.
#include "runtime/ead.h"

#include <algorithm>
#include <cmath>

#include "analysis/token_stats.h"
#include "runtime/decoder_common.h"

namespace ts {

EadModel EadSwitch::observe(double h) {
  window_.push_back(h);
  while (static_cast<int64_t>(window_.size()) > std::max(o_.window, 1)) window_.pop_front();
  double s = 0;
  for (double x : window_) s += x;
  mean_ = s / static_cast<double>(window_.size());
  ++stay_;
  if (current_ == EadModel::kSmall && mean_ > o_.threshold) {
    current_ = EadModel::kLarge;
    stay_ = 0;
  } else if (current_ == EadModel::kLarge && mean_ <= o_.threshold && stay_ >= o_.min_stay) {
    current_ = EadModel::kSmall;
    stay_ = 0;
  }
  return current_;
}

namespace {

Status check_options(const EadOptions& o) {
  if (o.window < 1) return Error::input("ead: window must be at least 1 token, got " + std::to_string(o.window));
  if (std::isnan(o.threshold)) return Error::input("ead: entropy threshold is NaN");
  return ok_status();
}

}  // namespace

Expected<EadSummary> ead_loop(const Engine& vocab, LogitOracle& large, LogitOracle& small,
                              const std::vector<int32_t>& prompt, sampling::Chain& chain, sampling::Rng& rng,
                              const GenerateOptions& opt, const EadOptions& eo, const GenSink& sink,
                              const EadStepSink& on_step) {
  const int64_t n_ctx = decoder::context_limit(vocab, opt);
  if (auto s = decoder::check_request("ead", prompt, n_ctx, opt); !s) return s.error();
  if (auto s = check_options(eo); !s) return s.error();
  constexpr double kLn2 = 0.69314718055994530942;
  const int64_t V = vocab.model->config().n_vocab;
  EadSwitch sw(eo);
  std::vector<int32_t> history = prompt;
  std::vector<float> logits;
  EadSummary sum;
  sum.prompt_tokens = static_cast<int64_t>(prompt.size());
  sum.stop = "length";
  decoder::Timer timer;
  for (int64_t i = 0; i < opt.n_new; ++i) {
    if (static_cast<int64_t>(history.size()) >= n_ctx) {
      sum.stop = "context";
      break;
    }
    EadStep step;
    step.index = i;
    step.model = sw.current();
    LogitOracle& m = step.model == EadModel::kLarge ? large : small;
    // the full history: a model that sat out the last tokens prefills them here, batched
    if (auto s = m.logits_after(history, static_cast<int64_t>(history.size()) - 1, logits); !s) return s.error();
    timer.first_logits();
    const sampling::Candidates dist = chain.apply(logits.data(), V, chain_context(vocab, history, &rng));
    const int32_t id = chain.select(dist, rng);
    if (id < 0) return Error::internal("ead: the sampler chain left no candidate");
    chain.accept(id);
    GenToken t = make_record(logits.data(), V, dist, id, opt.top_k);
    t.index = i;
    // the record already holds the raw entropy unless raw statistics were switched off
    const double h_nats = opt.top_k >= 0 ? t.raw.entropy : token_stats(logits.data(), V, -1, 0).entropy;
    step.entropy_bits = h_nats / kLn2;
    step.next = sw.observe(step.entropy_bits);
    step.mean_bits = sw.mean();
    history.push_back(id);
    ++sum.generated;
    if (step.model == EadModel::kLarge) ++sum.large_tokens;
    if (step.next != step.model) ++sum.switches;
    if (on_step) on_step(step);
    if (sink) sink(t);
    if (!opt.ignore_eos && is_end_of_generation(vocab, id)) {
      sum.stop = "eos";
      break;
    }
  }
  timer.finish(sum);
  return sum;
}

Expected<EadSummary> generate_ead(const Engine& large, const Engine& small, const std::vector<int32_t>& prompt,
                                  sampling::Chain& chain, sampling::Rng& rng, const GenerateOptions& opt,
                                  const EadOptions& eo, ThreadPool& pool, const GenSink& sink,
                                  const EadStepSink& on_step) {
  const int64_t n_ctx = decoder::context_limit(large, opt);
  if (auto s = decoder::check_request("ead", prompt, n_ctx, opt); !s) return s.error();
  if (auto s = check_same_vocabulary(large, small, "ead small model"); !s) return s.error();
  const int64_t cap = std::min(n_ctx, static_cast<int64_t>(prompt.size()) + opt.n_new);
  if (small.model->config().n_ctx_train < cap)
    return Error::input("ead: the small model's context (" + std::to_string(small.model->config().n_ctx_train) +
                        ") is shorter than " + std::to_string(cap) + " tokens");
  decoder::CountingOracle l(*large.model, cap, pool), s(*small.model, cap, pool);
  auto r = ead_loop(large, l, s, prompt, chain, rng, opt, eo, sink, on_step);
  if (r.ok()) {
    r->large_positions = l.positions_evaluated();
    r->small_positions = s.positions_evaluated();
  }
  return r;
}

}  // namespace ts
