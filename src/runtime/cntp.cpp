// Cautious Next Token Prediction; see cntp.h for the rule, the defaults and where we differ from the authors' code.
#include "runtime/cntp.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "runtime/decoder_common.h"

namespace ts {

using sampling::Candidates;

int cntp_trials(double h, const CntpOptions& o) {
  const double span = o.entropy_high - o.entropy_low;
  const double x = span > 0 ? std::clamp((h - o.entropy_low) / span, 0.0, 1.0) : (h > o.entropy_low ? 1.0 : 0.0);
  return static_cast<int>(1 + (std::max(o.max_trials, 1) - 1) * x);  // int() truncates, as in the authors' code
}

bool cntp_is_stop(std::string_view bytes, const CntpOptions& o) {
  const size_t first = bytes.find_first_not_of(' ');
  if (first == std::string_view::npos || bytes.size() - first != 1) return false;
  return o.stops.find(bytes[first]) != std::string::npos;
}

double segment_perplexity(const std::vector<double>& logprobs) {
  if (logprobs.empty()) return 1;
  double s = 0;
  for (double lp : logprobs) s += lp;
  return std::exp(-s / static_cast<double>(logprobs.size()));
}

namespace {

Status check_options(const CntpOptions& o) {
  if (o.max_trials < 1) return Error::input("cntp: max trials must be at least 1, got " + std::to_string(o.max_trials));
  if (!(o.entropy_high > o.entropy_low))
    return Error::input("cntp: entropy range " + std::to_string(o.entropy_low) + ".." + std::to_string(o.entropy_high) +
                        " is empty");
  if (o.max_segment < 0)
    return Error::input("cntp: negative segment cap " + std::to_string(o.max_segment));
  return ok_status();
}

// One rollout: its fork of the chain, the records of its tokens, and their processed logprobs.
struct Rollout {
  sampling::Chain chain;
  std::vector<GenToken> records;
  std::vector<double> logprobs;
};

}  // namespace

Expected<CntpSummary> cntp_loop(const Engine& engine, LogitOracle& oracle, const std::vector<int32_t>& prompt,
                                sampling::Chain& chain, sampling::Rng& rng, const GenerateOptions& opt,
                                const CntpOptions& co, const GenSink& sink, const CntpStepSink& on_step) {
  const int64_t n_ctx = decoder::context_limit(engine, opt);
  if (auto s = decoder::check_request("cntp", prompt, n_ctx, opt); !s) return s.error();
  if (auto s = check_options(co); !s) return s.error();
  const int64_t V = engine.model->config().n_vocab;
  std::vector<int32_t> history = prompt, seq;
  std::vector<float> logits, z;
  CntpSummary sum;
  sum.prompt_tokens = static_cast<int64_t>(prompt.size());
  sum.stop = "length";
  decoder::Timer timer;
  bool done = false;
  // Emits committed tokens in order; false once generation has ended.
  auto emit = [&](GenToken t) {
    t.index = sum.generated;
    history.push_back(t.id);
    ++sum.generated;
    if (sink) sink(t);
    if (!opt.ignore_eos && is_end_of_generation(engine, t.id)) {
      sum.stop = "eos";
      done = true;
    }
  };
  while (!done && sum.generated < opt.n_new) {
    if (static_cast<int64_t>(history.size()) >= n_ctx) {
      sum.stop = "context";
      break;
    }
    if (auto s = oracle.logits_after(history, static_cast<int64_t>(history.size()) - 1, logits); !s)
      return s.error();
    timer.first_logits();
    const Candidates q = chain.apply(logits.data(), V, chain_context(engine, history, &rng));
    CntpStep step;
    step.index = sum.generated;
    step.entropy = sampling::entropy_nats(q);
    step.trials = cntp_trials(step.entropy, co);
    if (step.trials <= 1) {  // an ordinary step, exactly as generate()
      const int32_t id = chain.select(q, rng);
      if (id < 0) return Error::internal("cntp: the sampler chain left no candidate");
      chain.accept(id);
      GenToken t = make_record(logits.data(), V, q, id, opt.top_k);
      step.segments = {{id}};
      step.perplexities = {std::exp(-t.processed_logprob)};
      if (on_step) on_step(step);
      emit(std::move(t));
      continue;
    }
    int64_t budget = std::min(opt.n_new - sum.generated, n_ctx - static_cast<int64_t>(history.size()));
    if (co.max_segment > 0) budget = std::min<int64_t>(budget, co.max_segment);
    ++sum.branched_steps;
    std::optional<Rollout> best;
    double best_ppl = 0;
    for (int trial = 0; trial < step.trials; ++trial) {
      Rollout r{chain, {}, {}};  // a fork of the chain as it stands before this step
      seq = history;
      for (;;) {
        const float* zz = logits.data();
        Candidates d;
        if (r.records.empty()) {
          d = q;  // every rollout's first token comes from this step's distribution
        } else {
          if (auto s = oracle.logits_after(seq, static_cast<int64_t>(seq.size()) - 1, z); !s) return s.error();
          zz = z.data();
          d = r.chain.apply(zz, V, chain_context(engine, seq, &rng));
        }
        const int32_t id = r.chain.select(d, rng);
        if (id < 0) return Error::internal("cntp: the sampler chain left no candidate");
        r.chain.accept(id);
        r.records.push_back(make_record(zz, V, d, id, opt.top_k));
        r.logprobs.push_back(r.records.back().processed_logprob);
        seq.push_back(id);
        ++sum.rollout_tokens;
        const bool end = !opt.ignore_eos && is_end_of_generation(engine, id);
        if (end || cntp_is_stop(engine.tokenizer.token_bytes(id), co) ||
            static_cast<int64_t>(r.records.size()) >= budget)
          break;
      }
      ++sum.rollouts;
      const double ppl = segment_perplexity(r.logprobs);
      std::vector<int32_t> ids;
      for (const GenToken& t : r.records) ids.push_back(t.id);
      step.segments.push_back(std::move(ids));
      step.perplexities.push_back(ppl);
      if (!best || ppl < best_ppl) {  // strict: the first rollout wins ties
        best = std::move(r);
        best_ppl = ppl;
        step.chosen = trial;
      }
    }
    chain = std::move(best->chain);
    if (on_step) on_step(step);
    for (GenToken& t : best->records) {
      emit(std::move(t));
      if (done) break;
    }
  }
  timer.finish(sum);
  return sum;
}

Expected<CntpSummary> generate_cntp(const Engine& engine, const std::vector<int32_t>& prompt, sampling::Chain& chain,
                                    sampling::Rng& rng, const GenerateOptions& opt, const CntpOptions& co,
                                    ThreadPool& pool, const GenSink& sink, const CntpStepSink& on_step) {
  const int64_t n_ctx = decoder::context_limit(engine, opt);
  if (auto s = decoder::check_request("cntp", prompt, n_ctx, opt); !s) return s.error();
  decoder::CountingOracle oracle(*engine.model, std::min(n_ctx, static_cast<int64_t>(prompt.size()) + opt.n_new),
                                 pool);
  auto r = cntp_loop(engine, oracle, prompt, chain, rng, opt, co, sink, on_step);
  if (r.ok()) r->positions_evaluated = oracle.positions_evaluated();
  return r;
}

}  // namespace ts
