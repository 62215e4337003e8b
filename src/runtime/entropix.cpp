// Entropix-style entropy/varentropy decoding; see entropix.h for the states, formulas and departures.
#include "runtime/entropix.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "analysis/token_stats.h"
#include "runtime/decoder_common.h"
#include "sampling/samplers.h"

namespace ts {

using sampling::Candidates;

const char* entropix_state_name(EntropixState s) {
  switch (s) {
    case EntropixState::kFlowing: return "flowing";
    case EntropixState::kTreading: return "treading";
    case EntropixState::kForks: return "forks";
    case EntropixState::kMist: return "mist";
    case EntropixState::kAdaptive: return "adaptive";
  }
  return "?";
}

EntropixState entropix_state(double h, double v, const EntropixOptions& o) {
  if (h < o.low_ent && v < o.low_vent) return EntropixState::kFlowing;
  if (h > o.high_ent && v < o.low_vent) return EntropixState::kTreading;
  if (h < o.high_ent && v > o.high_vent) return EntropixState::kForks;
  if (h > o.med_ent && v > o.high_vent) return EntropixState::kMist;
  return EntropixState::kAdaptive;
}

EntropixAction entropix_action(double h, double v, int32_t previous_token, const EntropixOptions& o,
                               const EntropixAttention& a) {
  EntropixAction r;
  r.state = entropix_state(h, v, o);
  r.temp = o.temp;
  r.top_p = o.top_p;
  r.top_k = o.top_k;
  r.min_p = o.min_p;
  switch (r.state) {
    case EntropixState::kFlowing:
      r.argmax = true;
      break;
    case EntropixState::kTreading:
      if (o.clarify_token >= 0 && previous_token != o.clarify_token) {
        r.insert = true;
      } else {
        r.temp = std::min(1.5, o.temp * (1.3 + 0.2 * a.entropy));
      }
      break;
    case EntropixState::kForks:
      r.temp = std::min(1.5, o.temp * (1.2 + 0.3 * a.interaction));
      // int() in the reference truncates toward zero
      r.top_k = std::max(5, static_cast<int>(std::trunc(o.top_k * (1 + 0.5 * (1 - a.agreement)))));
      break;
    case EntropixState::kMist:
      r.temp = std::max(2.0, o.temp * (2.0 + 0.5 * a.varentropy));
      r.top_p = std::max(0.5, o.top_p - 0.2 * a.entropy);
      break;
    case EntropixState::kAdaptive: {
      const double logit_u = h + v, attn_u = a.entropy + a.varentropy;
      r.temp = o.temp * (1 + 0.3 * logit_u + 0.2 * attn_u - 0.2 * a.agreement);
      r.top_p = std::clamp(o.top_p * (1 + 0.1 * a.varentropy), 0.1, 1.0);
      r.top_k = static_cast<int>(
          std::clamp(std::round(o.top_k * (1 + 0.3 * a.interaction - 0.2 * a.agreement)), 1.0, 100.0));
      r.min_p = std::clamp(o.min_p * (1 - 0.5 * logit_u), 0.01, 0.5);
      r.n_samples = std::max(1, o.n_adaptive_samples);
      break;
    }
  }
  return r;
}

void best_of_n(Candidates& q, int n) {
  if (n <= 1 || q.empty()) return;
  // most probable first; equal p keeps the canonical (lower id first) order, so ties go to the lower id
  std::stable_sort(q.data.begin(), q.data.end(), [](const auto& x, const auto& y) { return x.p > y.p; });
  std::vector<double> t(q.size() + 1, 0.0);  // tails: t[i] = Σ_{j≥i} q_j, t[size] = 0
  for (size_t i = q.size(); i-- > 0;) t[i] = t[i + 1] + q.data[i].p;
  const double total = t[0];  // Σq, 1 up to rounding: normalise so the law sums to 1 exactly
  for (size_t i = 0; i < q.size(); ++i)
    q.data[i].p = static_cast<float>(std::pow(t[i] / total, n) - std::pow(t[i + 1] / total, n));
  std::erase_if(q.data, [](const auto& x) { return !(x.p > 0); });
}

Candidates entropix_distribution(Candidates c, const EntropixAction& a) {
  const sampling::Context none;
  sampling::Temperature(static_cast<float>(a.temp)).apply(c, none);
  sampling::MinP(static_cast<float>(a.min_p)).apply(c, none);
  sampling::TopK(a.top_k).apply(c, none);
  sampling::TopP(static_cast<float>(a.top_p)).apply(c, none);
  sampling::softmax(c);
  std::erase_if(c.data, [](const auto& x) { return !(x.p > 0); });
  sampling::sort_desc(c);
  best_of_n(c, a.n_samples);
  return c;
}

namespace {

Status check_options(const EntropixOptions& o, int64_t n_vocab) {
  if (!(o.temp > 0)) return Error::input("entropix: temperature must be positive, got " + std::to_string(o.temp));
  if (o.clarify_token >= n_vocab)
    return Error::input("entropix: clarify token " + std::to_string(o.clarify_token) + " outside the vocabulary of " +
                        std::to_string(n_vocab));
  if (o.n_adaptive_samples < 1)
    return Error::input("entropix: adaptive samples must be at least 1, got " + std::to_string(o.n_adaptive_samples));
  return ok_status();
}

}  // namespace

Expected<EntropixSummary> entropix_loop(const Engine& engine, LogitOracle& oracle, const std::vector<int32_t>& prompt,
                                        sampling::Chain& chain, sampling::Rng& rng, const GenerateOptions& opt,
                                        const EntropixOptions& eo, const GenSink& sink,
                                        const EntropixStepSink& on_step) {
  const int64_t n_ctx = decoder::context_limit(engine, opt);
  if (auto s = decoder::check_request("entropix", prompt, n_ctx, opt); !s) return s.error();
  const int64_t V = engine.model->config().n_vocab;
  if (auto s = check_options(eo, V); !s) return s.error();
  constexpr double kLn2 = 0.69314718055994530942;
  std::vector<int32_t> history = prompt;
  std::vector<float> logits;
  EntropixSummary sum;
  sum.prompt_tokens = static_cast<int64_t>(prompt.size());
  sum.stop = "length";
  decoder::Timer timer;
  for (int64_t i = 0; i < opt.n_new; ++i) {
    if (static_cast<int64_t>(history.size()) >= n_ctx) {
      sum.stop = "context";
      break;
    }
    if (auto s = oracle.logits_after(history, static_cast<int64_t>(history.size()) - 1, logits); !s)
      return s.error();
    timer.first_logits();
    const TokenStats raw = token_stats(logits.data(), V, -1, 0);
    EntropixStep step;
    step.index = i;
    step.entropy_bits = raw.entropy / kLn2;
    step.varentropy_bits = raw.varentropy / (kLn2 * kLn2);
    step.action = entropix_action(step.entropy_bits, step.varentropy_bits, history.back(), eo);
    const EntropixAction& a = step.action;
    Candidates base = chain.apply(logits.data(), V, chain_context(engine, history, &rng));
    Candidates dist;
    int32_t id = -1;
    if (a.insert) {
      id = eo.clarify_token;
      dist = decoder::one_hot(id, logits[id]);
      ++sum.inserted;
    } else if (a.argmax) {
      id = sampling::select_most_probable(base);
      if (id >= 0) dist = decoder::one_hot(id, logits[id]);
    } else {
      dist = entropix_distribution(std::move(base), a);
      id = sampling::sample_inverse_cdf(dist, rng);
    }
    if (id < 0) return Error::internal("entropix: the sampler chain left no candidate");
    chain.accept(id);
    GenToken t = make_record(logits.data(), V, dist, id, opt.top_k);
    t.index = i;
    history.push_back(id);
    ++sum.generated;
    ++sum.per_state[static_cast<int>(a.state)];
    if (on_step) on_step(step);
    if (sink) sink(t);
    if (!opt.ignore_eos && is_end_of_generation(engine, id)) {
      sum.stop = "eos";
      break;
    }
  }
  timer.finish(sum);
  return sum;
}

Expected<EntropixSummary> generate_entropix(const Engine& engine, const std::vector<int32_t>& prompt,
                                            sampling::Chain& chain, sampling::Rng& rng, const GenerateOptions& opt,
                                            const EntropixOptions& eo, ThreadPool& pool, const GenSink& sink,
                                            const EntropixStepSink& on_step) {
  const int64_t n_ctx = decoder::context_limit(engine, opt);
  if (auto s = decoder::check_request("entropix", prompt, n_ctx, opt); !s) return s.error();
  ModelOracle oracle(*engine.model, std::min(n_ctx, static_cast<int64_t>(prompt.size()) + opt.n_new), pool);
  return entropix_loop(engine, oracle, prompt, chain, rng, opt, eo, sink, on_step);
}

}  // namespace ts
