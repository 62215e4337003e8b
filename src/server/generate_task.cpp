// See generate_task.h for the contract.
#include "server/generate_task.h"

#include <algorithm>
#include <optional>
#include <span>

#include "runtime/model_sequence.h"

namespace ts::server {
namespace {

enum class State { kPrompt, kWaitLeader, kGenerate, kSpeculative, kDone };

struct Seq {
  SeqRequest req;
  std::vector<int32_t> history;
  std::optional<ModelSequence> cache;
  sampling::Rng rng;
  std::vector<float> rows;    // scratch: logits of a prompt chunk
  std::vector<float> logits;  // the next token's logits, when have_logits
  bool have_logits = false;
  int64_t fed = 0, generated = 0;
  State state = State::kPrompt;
};

// Thrown from the speculative decoder's sink to abandon a sequence whose client is gone.
struct Abandoned {};

class GenerateTask : public Task {
 public:
  explicit GenerateTask(GenerateRequest r) : r_(std::move(r)) {
    seqs_.resize(r_.seqs.size());
    for (size_t i = 0; i < seqs_.size(); ++i) {
      Seq& s = seqs_[i];
      s.req = std::move(r_.seqs[i]);
      s.history = s.req.prompt;
      s.rng = sampling::Rng(s.req.seed);
      const bool follower = s.req.same_prompt_as >= 0 && static_cast<size_t>(s.req.same_prompt_as) < i &&
                            s.req.prompt_top_k < 0 && !r_.draft;
      if (!follower) s.req.same_prompt_as = -1;
      if (r_.draft && r_.max_new > 0 && s.req.prompt_top_k < 0) s.state = State::kSpeculative;
      else s.state = follower ? State::kWaitLeader : State::kPrompt;
    }
  }

  bool step(Job& job, StepContext& ctx) override {
    bool all_done = true;
    for (size_t i = 0; i < seqs_.size(); ++i) {
      Seq& s = seqs_[i];
      if (s.state == State::kDone) continue;
      const int seq = static_cast<int>(i);
      if (job.seq_stopped(seq)) {
        finish(job, seq, "cancelled");
        continue;
      }
      Status st = ok_status();
      switch (s.state) {
        case State::kPrompt: st = prompt_step(job, seq, ctx); break;
        case State::kWaitLeader: st = follow(job, seq); break;
        case State::kGenerate: st = generate_step(job, seq, ctx); break;
        case State::kSpeculative: st = speculative(job, seq, ctx); break;
        case State::kDone: break;
      }
      if (!st) {
        Event e;
        e.kind = Event::Kind::kError;
        e.message = st.error().message;
        e.input_error = st.error().kind == Error::Kind::kInput;
        job.emit(std::move(e));
        return true;
      }
      if (s.state != State::kDone) all_done = false;
    }
    if (all_done) {
      Event e;
      e.kind = Event::Kind::kDone;
      job.emit(std::move(e));
    }
    return all_done;
  }

 private:
  int64_t capacity(const Seq& s) const {
    return std::min(r_.n_ctx, static_cast<int64_t>(s.req.prompt.size()) + r_.max_new);
  }

  void finish(Job& job, int seq, const char* reason) {
    seqs_[static_cast<size_t>(seq)].state = State::kDone;
    seqs_[static_cast<size_t>(seq)].cache.reset();
    Event e;
    e.kind = Event::Kind::kFinish;
    e.seq = seq;
    e.reason = reason;
    job.emit(std::move(e));
  }

  // After the prompt (or a token): generate on, or finish when the budget or the context is used up.
  void after_logits(Job& job, int seq) {
    Seq& s = seqs_[static_cast<size_t>(seq)];
    if (s.generated >= r_.max_new) return finish(job, seq, "length");
    if (static_cast<int64_t>(s.history.size()) >= capacity(s)) return finish(job, seq, "context");
    s.state = r_.draft ? State::kSpeculative : State::kGenerate;
  }

  Status prompt_step(Job& job, int seq, StepContext& ctx) {
    Seq& s = seqs_[static_cast<size_t>(seq)];
    const Model& model = *r_.engine->model;
    const int64_t V = model.config().n_vocab;
    const int64_t n = static_cast<int64_t>(s.req.prompt.size());
    if (n == 0) return Error::input("empty prompt");
    if (!s.cache) s.cache.emplace(model, std::max<int64_t>(capacity(s), n));
    const int64_t end = std::min(n, s.fed + (ctx.shared ? kSharedChunk : kAloneChunk));
    const bool report = s.req.prompt_top_k >= 0;
    const int64_t from = report ? s.fed : end - 1;
    auto st = s.cache->logits_after(std::span<const int32_t>(s.history.data(), static_cast<size_t>(end)), from,
                                     s.rows, ctx.pool);
    if (!st) return st;
    if (report) {
      // row j - from predicts prompt[j + 1]
      const int64_t first = from, last = std::min(end, n - 1);  // rows j in [first, last)
      Event e;
      e.kind = Event::Kind::kPrompt;
      e.seq = seq;
      e.scored.resize(static_cast<size_t>(std::max<int64_t>(0, last - first)));
      ctx.pool.parallel_for(last - first, 1, [&](int64_t a, int64_t b, int) {
        for (int64_t k = a; k < b; ++k) {
          const int64_t j = first + k;
          ScoredToken& t = e.scored[static_cast<size_t>(k)];
          t.pos = j + 1;
          t.stats = token_stats(&s.rows[static_cast<size_t>((j - from) * V)], V, s.history[static_cast<size_t>(j + 1)],
                                s.req.prompt_top_k);
        }
      });
      if (!e.scored.empty()) job.emit(std::move(e));
    }
    s.fed = end;
    if (end < n) return ok_status();
    s.logits.assign(s.rows.end() - V, s.rows.end());
    s.have_logits = true;
    after_logits(job, seq);
    return ok_status();
  }

  Status follow(Job& job, int seq) {
    Seq& s = seqs_[static_cast<size_t>(seq)];
    const Seq& lead = seqs_[static_cast<size_t>(s.req.same_prompt_as)];
    if (r_.max_new == 0) {
      finish(job, seq, "length");
      return ok_status();
    }
    if (lead.state == State::kPrompt || lead.state == State::kWaitLeader) return ok_status();
    if (lead.state == State::kDone && !lead.cache) {
      // the leader finished (or was stopped) before this one copied it: evaluate the prompt itself
      s.state = State::kPrompt;
      return ok_status();
    }
    s.cache = lead.cache;
    s.logits = lead.logits;
    s.have_logits = lead.have_logits;
    s.fed = lead.fed;
    if (!s.have_logits) {  // the leader already used its row: recompute the last one
      s.state = State::kPrompt;
      s.fed = std::max<int64_t>(0, static_cast<int64_t>(s.req.prompt.size()) - 1);
      return ok_status();
    }
    after_logits(job, seq);
    return ok_status();
  }

  Status generate_step(Job& job, int seq, StepContext& ctx) {
    Seq& s = seqs_[static_cast<size_t>(seq)];
    const Engine& e = *r_.engine;
    const int64_t V = e.model->config().n_vocab;
    if (!s.have_logits) {
      auto st = s.cache->logits_after(s.history, static_cast<int64_t>(s.history.size()) - 1, s.logits, ctx.pool);
      if (!st) return st;
    }
    s.have_logits = false;
    const sampling::Context sc = chain_context(e, s.history, &s.rng);
    sampling::Candidates dist = s.req.chain.apply(s.logits.data(), V, sc);
    const int32_t id = s.req.chain.select(dist, s.rng);
    if (id < 0) return Error::internal("the sampler chain left no candidate");
    s.req.chain.accept(id);
    Event ev;
    ev.kind = Event::Kind::kToken;
    ev.seq = seq;
    ev.token = make_record(s.logits.data(), V, dist, id, r_.top_k);
    ev.token.index = s.generated;
    s.history.push_back(id);
    ++s.generated;
    job.emit(std::move(ev));
    if (!r_.ignore_eos && is_end_of_generation(e, id)) {
      finish(job, seq, "eos");
      return ok_status();
    }
    after_logits(job, seq);
    return ok_status();
  }

  Status speculative(Job& job, int seq, StepContext& ctx) {
    Seq& s = seqs_[static_cast<size_t>(seq)];
    GenerateOptions go;
    go.n_new = r_.max_new;
    go.top_k = r_.top_k;
    go.ignore_eos = r_.ignore_eos;
    go.ctx = r_.n_ctx;
    SpeculativeOptions so = r_.spec;
    so.draft = r_.draft;
    so.draft_seed = s.req.seed ^ 0x9E3779B97F4A7C15ull;
    Expected<GenerateSummary> sum = GenerateSummary{};
    try {
      sum = generate_speculative(*r_.engine, s.req.prompt, s.req.chain, s.rng, go, so, ctx.pool,
                                 [&](const GenToken& t) {
                                   if (job.cancelled() || job.seq_stopped(seq)) throw Abandoned{};
                                   Event ev;
                                   ev.kind = Event::Kind::kToken;
                                   ev.seq = seq;
                                   ev.token = t;
                                   job.emit(std::move(ev));
                                 });
    } catch (const Abandoned&) {
      finish(job, seq, "cancelled");
      return ok_status();
    }
    if (!sum) return sum.error();
    finish(job, seq, sum->stop == "eos" ? "eos" : sum->stop == "context" ? "context" : "length");
    return ok_status();
  }

  GenerateRequest r_;
  std::vector<Seq> seqs_;
};

}  // namespace

std::unique_ptr<Task> make_generate_task(GenerateRequest req) { return std::make_unique<GenerateTask>(std::move(req)); }

}  // namespace ts::server
