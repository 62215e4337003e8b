// Lossless speculative decoding; see speculative.h for the rules.
#include "runtime/speculative.h"

#include "runtime/decoder_common.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace ts {

using sampling::Candidates;

Verdict verify_with_q(const Candidates& p, const Candidates& q, int32_t x, sampling::Rng& rng,
                      std::vector<float>& scratch) {
  const double px = sampling::prob_of(p, x);
  const double qx = sampling::prob_of(q, x);
  const double r = rng.uniform();
  if (qx <= 0 || r * qx < px) return {x, true};  // r < min(1, p/q); qx = 0 cannot happen for x ~ q
  // residual max(0, p − q), normalised, drawn by inverse CDF over p's support (outside it the residual is 0)
  int32_t max_id = 0;
  for (const auto& c : q.data) max_id = std::max(max_id, c.id);
  for (const auto& c : p.data) max_id = std::max(max_id, c.id);
  scratch.assign(static_cast<size_t>(max_id) + 1, 0.0f);
  sampling::to_dense(q, scratch);
  double total = 0;
  for (const auto& c : p.data) total += std::max(0.0, static_cast<double>(c.p) - scratch[c.id]);
  if (!(total > 0)) return {x, true};  // p ≤ q nowhere positive: only possible if p == q, where x is right
  const double u = rng.uniform() * total;
  double acc = 0;
  int32_t last = -1;
  for (const auto& c : p.data) {
    const double w = std::max(0.0, static_cast<double>(c.p) - scratch[c.id]);
    if (w <= 0) continue;
    acc += w;
    last = c.id;
    if (u < acc) return {c.id, c.id == x};
  }
  return {last, last == x};  // rounding at the top end
}

Verdict verify_one_hot(const Candidates& p, int32_t x, const sampling::Chain& chain, sampling::Rng& rng) {
  const int32_t y = chain.select(p, rng);
  return {y, y == x};
}

std::vector<int32_t> ngram_draft(const std::vector<int32_t>& h, int n_min, int n_max, int k) {
  const int64_t len = static_cast<int64_t>(h.size());
  if (k <= 0) return {};
  for (int64_t n = std::max(n_max, 1); n >= std::max(n_min, 1); --n) {
    if (len < n + 1) continue;
    const int32_t* suffix = h.data() + len - n;
    for (int64_t j = len - n - 1; j >= 0; --j) {  // latest earlier occurrence first
      if (!std::equal(suffix, suffix + n, h.data() + j)) continue;
      const int64_t from = j + n;
      const int64_t to = std::min(len, from + k);
      return std::vector<int32_t>(h.begin() + from, h.begin() + to);
    }
  }
  return {};
}

Status check_same_vocabulary(const Engine& target, const Engine& draft, const std::string& draft_name) {
  const Tokenizer& a = target.tokenizer;
  const Tokenizer& b = draft.tokenizer;
  if (target.model->config().n_vocab != draft.model->config().n_vocab || a.vocab_size() != b.vocab_size())
    return Error::input(draft_name + ": draft vocabulary has " + std::to_string(b.vocab_size()) +
                        " tokens, the target's " + std::to_string(a.vocab_size()));
  for (int32_t id = 0; id < a.vocab_size(); ++id)
    if (a.token_text(id) != b.token_text(id))
      return Error::input(draft_name + ": draft vocabulary differs from the target's at id " + std::to_string(id) +
                          " ('" + b.token_text(id) + "' vs '" + a.token_text(id) + "')");
  return ok_status();
}

namespace {

// generate()'s request errors (decoder_common.h), plus the draft length.
Status check_prompt(const std::vector<int32_t>& prompt, int64_t n_ctx, const GenerateOptions& opt,
                    const SpeculativeOptions& spec) {
  if (auto s = decoder::check_request("generate", prompt, n_ctx, opt); !s) return s;
  if (spec.n_draft < 1) return Error::input("generate: --spec-n must be at least 1");
  return ok_status();
}

}  // namespace

Expected<GenerateSummary> generate_speculative(const Engine& target, const std::vector<int32_t>& prompt,
                                               sampling::Chain& chain, sampling::Rng& rng,
                                               const GenerateOptions& opt, const SpeculativeOptions& spec,
                                               ThreadPool& pool, const GenSink& sink) {
  const int64_t n_ctx = decoder::context_limit(target, opt);
  if (auto s = check_prompt(prompt, n_ctx, opt, spec); !s) return s.error();
  const int64_t cap = std::min(n_ctx, static_cast<int64_t>(prompt.size()) + opt.n_new + 1);
  ModelOracle t(*target.model, cap, pool);
  std::unique_ptr<ModelOracle> d;
  if (spec.draft) {
    if (spec.draft->model->config().n_ctx_train < cap - 1)
      return Error::input("generate: the draft model's context (" +
                          std::to_string(spec.draft->model->config().n_ctx_train) + ") is shorter than " +
                          std::to_string(cap - 1) + " tokens");
    d = std::make_unique<ModelOracle>(*spec.draft->model, cap, pool);
  }
  return speculative_loop(target, t, d.get(), prompt, chain, rng, opt, spec, sink);
}

Expected<GenerateSummary> speculative_loop(const Engine& target, LogitOracle& tseq, LogitOracle* dseq,
                                           const std::vector<int32_t>& prompt, sampling::Chain& chain,
                                           sampling::Rng& rng, const GenerateOptions& opt,
                                           const SpeculativeOptions& spec, const GenSink& sink) {
  const int64_t n_ctx = decoder::context_limit(target, opt);
  if (auto s = check_prompt(prompt, n_ctx, opt, spec); !s) return s.error();
  if (dseq && !spec.draft) return Error::internal("speculative_loop: a draft oracle needs spec.draft");
  const int64_t n = static_cast<int64_t>(prompt.size());
  const int64_t V = target.model->config().n_vocab;
  sampling::Rng drng(spec.draft_seed);
  std::vector<int32_t> history = prompt;
  std::vector<float> tl, dl, scratch;
  GenerateSummary sum;
  sum.prompt_tokens = n;
  sum.stop = "length";
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  auto t_gen = t0;
  bool done = false;
  while (!done && sum.generated < opt.n_new) {
    const int64_t room = n_ctx - static_cast<int64_t>(history.size());
    if (room <= 0) {
      sum.stop = "context";
      break;
    }
    const int64_t k_max = std::min<int64_t>({spec.n_draft, opt.n_new - sum.generated - 1, room - 1});
    // 1. draft
    std::vector<int32_t> drafts;
    std::vector<Candidates> qs;
    if (k_max > 0 && dseq) {
      sampling::Chain dchain = chain;
      std::vector<int32_t> tmp = history;
      double all_accepted = 1;
      for (int64_t i = 0; i < k_max; ++i) {
        if (auto s = dseq->logits_after(tmp, static_cast<int64_t>(tmp.size()) - 1, dl); !s) return s.error();
        Candidates q = dchain.apply(dl.data(), V, chain_context(*spec.draft, tmp, &drng));
        const int32_t x = spec.greedy_draft ? sampling::select_most_probable(q) : dchain.select(q, drng);
        if (x < 0) break;
        all_accepted *= sampling::prob_of(q, x);
        dchain.accept(x);
        tmp.push_back(x);
        drafts.push_back(x);
        if (!spec.greedy_draft) qs.push_back(std::move(q));
        if (spec.stop_h > 0 && spec.stop_h < 1 && 1 - all_accepted > spec.stop_h) break;
      }
    } else if (k_max > 0) {
      drafts = ngram_draft(history, spec.ngram_min, spec.ngram_max, static_cast<int>(k_max));
    }
    // 2. one target pass over the last committed token and the drafts
    const int64_t base = static_cast<int64_t>(history.size());
    std::vector<int32_t> seq = history;
    seq.insert(seq.end(), drafts.begin(), drafts.end());
    if (auto s = tseq.logits_after(seq, base - 1, tl); !s) return s.error();
    if (sum.target_passes == 0) t_gen = Clock::now();
    ++sum.target_passes;
    sum.drafted += static_cast<int64_t>(drafts.size());
    // 3. verify left to right
    for (size_t i = 0; i <= drafts.size() && !done; ++i) {
      const float* z = tl.data() + static_cast<int64_t>(i) * V;
      Candidates p = chain.apply(z, V, chain_context(target, history, &rng));
      Verdict v;
      bool drafted = false;
      if (i < drafts.size()) {
        v = qs.empty() ? verify_one_hot(p, drafts[i], chain, rng) : verify_with_q(p, qs[i], drafts[i], rng, scratch);
        drafted = v.accepted;
      } else {
        v = {chain.select(p, rng), false};
      }
      if (v.token < 0) return Error::internal("generate: the sampler chain left no candidate");
      chain.accept(v.token);
      GenToken t = make_record(z, V, p, v.token, opt.top_k);
      t.index = sum.generated;
      t.drafted = drafted;
      t.accepted = v.accepted;
      history.push_back(v.token);
      ++sum.generated;
      sum.accepted += v.accepted ? 1 : 0;
      if (sink) sink(t);
      if (!opt.ignore_eos && is_end_of_generation(target, v.token)) {
        sum.stop = "eos";
        done = true;
      } else if (sum.generated >= opt.n_new) {
        done = true;
      }
      if (!v.accepted) break;
    }
  }
  const auto t1 = Clock::now();
  sum.prompt_seconds = std::chrono::duration<double>(t_gen - t0).count();
  sum.seconds = std::chrono::duration<double>(t1 - t_gen).count();
  return sum;
}

}  // namespace ts
