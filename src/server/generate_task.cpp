// See generate_task.h for the contract.
#include "server/generate_task.h"

#include <algorithm>
#include <optional>
#include <span>

#include "model/kv_cache.h"

namespace ts::server {
namespace {

enum class State { kPrompt, kWaitLeader, kGenerate, kSpeculative, kDone };

struct Seq {
  SeqRequest req;
  std::vector<int32_t> history;
  std::optional<KVCache> cache;  // holds history[0..cache->size())
  sampling::Rng rng;
  std::vector<float> rows;    // the logits of a queued prompt chunk
  std::vector<float> logits;  // the next token's logits, when have_logits (a queued token step writes them here)
  bool have_logits = false;
  int64_t fed = 0, generated = 0;  // prompt positions evaluated; tokens generated
  State state = State::kPrompt;
  int64_t step = -1;       // this round's queued step in the batch; -1: none
  int64_t chunk_end = 0;   // a queued prompt chunk ends here
};

// Thrown from the speculative decoder's sink to abandon a sequence whose client is gone.
struct Abandoned {};

class GenerateTask : public BatchedTask {
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

  void gather(Job& job, StepContext& ctx, Batch& batch) override {
    bool generating = false;
    for (const Seq& s : seqs_) generating |= s.state == State::kGenerate;
    for (size_t i = 0; i < seqs_.size() && !error_; ++i) {
      Seq& s = seqs_[i];
      s.step = -1;
      const int seq = static_cast<int>(i);
      if (s.state == State::kDone) continue;
      if (job.seq_stopped(seq)) {
        finish(job, seq, "cancelled");
        continue;
      }
      Status st = ok_status();
      switch (s.state) {
        case State::kPrompt: st = queue_prompt(seq, batch, ctx.shared || generating); break;
        case State::kGenerate: queue_token(seq, batch); break;
        case State::kSpeculative: st = speculative(job, seq, ctx); break;
        case State::kWaitLeader: case State::kDone: break;  // followers follow in scatter
      }
      if (!st) error_ = st.error();
    }
  }

  bool scatter(Job& job, StepContext& ctx, const Batch& batch) override {
    // The results of the queued steps: prompt chunks done, next-token logits in place.
    for (size_t i = 0; i < seqs_.size() && !error_; ++i) {
      Seq& s = seqs_[i];
      if (s.step < 0) continue;
      const Status& st = batch.result(static_cast<size_t>(s.step));
      s.step = -1;
      if (!st) {
        error_ = st.error();
      } else if (s.state == State::kPrompt) {
        prompt_done(job, static_cast<int>(i), ctx);
      } else {
        s.have_logits = true;
      }
    }
    if (error_) {
      Event e;
      e.kind = Event::Kind::kError;
      e.message = error_->message;
      e.input_error = error_->kind == Error::Kind::kInput;
      job.emit(std::move(e));
      return true;
    }
    // Followers copy their leader before anyone samples, so the leader's cache holds just the prompt.
    for (size_t i = 0; i < seqs_.size(); ++i)
      if (seqs_[i].state == State::kWaitLeader) follow(job, static_cast<int>(i));
    bool all_done = true;
    for (size_t i = 0; i < seqs_.size(); ++i) {
      Seq& s = seqs_[i];
      if (s.state == State::kGenerate && s.have_logits) {
        if (auto st = sample(job, static_cast<int>(i)); !st) {
          Event e;
          e.kind = Event::Kind::kError;
          e.message = st.error().message;
          job.emit(std::move(e));
          return true;
        }
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

  // Queues the next chunk of the prompt, when this round's prompt chunk is still free.
  Status queue_prompt(int seq, Batch& batch, bool busy) {
    Seq& s = seqs_[static_cast<size_t>(seq)];
    const Model& model = *r_.engine->model;
    const int64_t V = model.config().n_vocab;
    const int64_t n = static_cast<int64_t>(s.req.prompt.size());
    if (n == 0) return Error::input("empty prompt");
    if (!batch.claim_prompt_chunk()) return ok_status();
    if (!s.cache) {
      const int64_t cap = std::max<int64_t>(capacity(s), n);
      s.cache.emplace(model.config(), std::max<int64_t>(1, std::min(cap, model.config().n_ctx_train)));
    }
    s.cache->truncate(s.fed);
    const int64_t end = std::min(n, s.fed + (busy ? kSharedChunk : kAloneChunk));
    // Rows wanted: all of them to report the prompt's statistics, else the last prompt row only.
    std::vector<int64_t> rows;
    if (s.req.prompt_top_k >= 0) {
      for (int64_t j = s.fed; j < end; ++j) rows.push_back(j - s.fed);
    } else if (end == n) {
      rows.push_back(end - 1 - s.fed);
    }
    s.rows.resize(rows.size() * static_cast<size_t>(V));
    float* out = rows.empty() ? nullptr : s.rows.data();
    s.step = static_cast<int64_t>(
        batch.add(model, &s.history[static_cast<size_t>(s.fed)], end - s.fed, *s.cache, out, std::move(rows)));
    s.chunk_end = end;
    return ok_status();
  }

  // A prompt chunk [fed, chunk_end) was evaluated: report its rows, and after the last chunk take the logits.
  void prompt_done(Job& job, int seq, StepContext& ctx) {
    Seq& s = seqs_[static_cast<size_t>(seq)];
    const int64_t V = r_.engine->model->config().n_vocab;
    const int64_t n = static_cast<int64_t>(s.req.prompt.size());
    const int64_t from = s.fed, end = s.chunk_end;
    if (s.req.prompt_top_k >= 0) {
      // row j - from predicts prompt[j + 1]
      const int64_t last = std::min(end, n - 1);  // rows j in [from, last)
      Event e;
      e.kind = Event::Kind::kPrompt;
      e.seq = seq;
      e.scored.resize(static_cast<size_t>(std::max<int64_t>(0, last - from)));
      ctx.pool.parallel_for(last - from, 1, [&](int64_t a, int64_t b, int) {
        for (int64_t k = a; k < b; ++k) {
          const int64_t j = from + k;
          ScoredToken& t = e.scored[static_cast<size_t>(k)];
          t.pos = j + 1;
          t.stats = token_stats(&s.rows[static_cast<size_t>((j - from) * V)], V, s.history[static_cast<size_t>(j + 1)],
                                s.req.prompt_top_k);
        }
      });
      if (!e.scored.empty()) job.emit(std::move(e));
    }
    s.fed = end;
    if (end < n) return;
    s.logits.assign(s.rows.end() - V, s.rows.end());
    s.have_logits = true;
    after_logits(job, seq);
  }

  void follow(Job& job, int seq) {
    Seq& s = seqs_[static_cast<size_t>(seq)];
    const Seq& lead = seqs_[static_cast<size_t>(s.req.same_prompt_as)];
    if (r_.max_new == 0) return finish(job, seq, "length");
    if (lead.state == State::kPrompt || lead.state == State::kWaitLeader) return;
    if (lead.state == State::kDone && !lead.cache) {
      // the leader finished (or was stopped) before this one copied it: evaluate the prompt itself
      s.state = State::kPrompt;
      return;
    }
    const int64_t n = static_cast<int64_t>(s.req.prompt.size());
    s.cache = lead.cache;
    s.logits = lead.logits;
    s.have_logits = lead.have_logits;
    if (!s.have_logits) {  // the leader already used its row: recompute the last one
      s.state = State::kPrompt;
      s.fed = std::max<int64_t>(0, std::min(s.cache->size(), n - 1));
      return;
    }
    s.cache->truncate(n);
    s.fed = n;
    after_logits(job, seq);
  }

  // Queues the forward pass of the last sampled token, whose logits the next sample() draws from.
  void queue_token(int seq, Batch& batch) {
    Seq& s = seqs_[static_cast<size_t>(seq)];
    if (s.have_logits) return;
    const Model& model = *r_.engine->model;
    s.logits.resize(static_cast<size_t>(model.config().n_vocab));
    s.step = static_cast<int64_t>(batch.add(model, &s.history.back(), 1, *s.cache, s.logits.data(), {0}));
  }

  // Draws one token from the logits: chain.apply → select → accept, recorded as runtime/generator.cpp does.
  Status sample(Job& job, int seq) {
    Seq& s = seqs_[static_cast<size_t>(seq)];
    const Engine& e = *r_.engine;
    const int64_t V = e.model->config().n_vocab;
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
  std::optional<Error> error_;  // a step failed: the task ends with kError at its next scatter
};

}  // namespace

std::unique_ptr<Task> make_generate_task(GenerateRequest req) { return std::make_unique<GenerateTask>(std::move(req)); }

}  // namespace ts::server
