// The worker that owns the models: HTTP handler threads submit tasks, one worker thread runs them, and each request
// reads its results from its Job as events.
//
// Design (continuous batching): up to `parallel` tasks are active at once, and the worker runs them in rounds. A
// request that arrives joins at the next round; one that finishes leaves at once. In a round every generation task
// (a BatchedTask) queues one step per sequence in the round's Batch — one new token for each generating sequence
// (the n choices of a request are sequences too) — and all of those run in ONE Model::forward_batch, so decoding k
// streams reads the weights once, not k times (generation is memory-bound). Then each task takes its logits and
// samples, checks stops and emits events. Each sequence keeps its own KV cache; forward_batch gives every sequence
// bit for bit the logits it would get alone, so a request's tokens do not depend on what else is running.
// A round evaluates at most one prompt chunk in all (Batch::claim_prompt_chunk): kSharedChunk positions while other
// work is running, kAloneChunk when the task is alone, so a new prompt delays the running streams by about one
// step's work. Tasks that do not batch (scoring, analysis, comparison, speculative decoding) run their step() in
// the round on their own, as before.
//
// Cancellation: Job::cancel() (the client went away) drops the task at its next round; Job::stop_seq(i) ends one
// sequence (a stop string was found). Tasks beyond `max_queue` waiting are refused (submit returns null).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "model/model.h"
#include "runtime/generator.h"
#include "runtime/scorer.h"
#include "tensor/thread_pool.h"

namespace ts::server {

// One position of a two-model comparison (CompareTask): the token's logprob under both models and the divergence
// of their next-token distributions at that position.
struct ComparedToken {
  int64_t pos = 0;
  int32_t id = -1;
  double logprob_a = 0, logprob_b = 0;
  int64_t rank_a = 0, rank_b = 0;
  double entropy_a = 0, entropy_b = 0;
  double kl = 0;  // KL(A ‖ B) in nats
};

struct Event {
  enum class Kind {
    kPrompt,    // stats of prompt positions (echo): `scored`, pos = index in that sequence's prompt
    kToken,     // one generated token of sequence `seq`
    kFinish,    // sequence `seq` ended: reason "eos", "length", "context" or "cancelled"
    kScored,    // a batch of scored positions (ScoreTask)
    kCompared,  // a batch of compared positions (CompareTask)
    kDone,      // the task finished; no more events follow
    kError,     // the task failed; no more events follow
  };
  Kind kind = Kind::kDone;
  int seq = 0;
  std::vector<ScoredToken> scored;
  std::vector<ComparedToken> compared;
  GenToken token;
  std::string reason;   // kFinish
  std::string message;  // kError
  bool input_error = false;  // kError: the request was at fault (400), not the server (500)
};

class Job {
 public:
  explicit Job(int n_seqs) : stopped_(static_cast<size_t>(n_seqs > 0 ? n_seqs : 1), 0) {}

  // Consumer side. False when nothing arrived within `timeout`.
  bool next(Event& out, std::chrono::milliseconds timeout);
  void cancel() { cancelled_ = true; }
  void stop_seq(int i);

  // Task side.
  void emit(Event e);
  bool cancelled() const { return cancelled_; }
  bool seq_stopped(int i) const;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> events_;
  std::vector<char> stopped_;
  std::atomic<bool> cancelled_{false};
};

struct StepContext {
  ThreadPool& pool;
  bool shared = false;  // other tasks are active or waiting: keep this step short
};

// Prompt positions per step while other tasks run (and when alone).
inline constexpr int64_t kSharedChunk = 64;
inline constexpr int64_t kAloneChunk = 256;

class Task {
 public:
  virtual ~Task() = default;
  // One unit of work. Returns true once the task has emitted kDone or kError.
  virtual bool step(Job& job, StepContext& ctx) = 0;
};

// The forward work of one round: the sequences' steps, evaluated together by one Model::forward_batch per model.
class Batch {
 public:
  // Claims the round's one prompt chunk: true for the first caller of the round, false after.
  bool claim_prompt_chunk();
  // Queues `n` tokens of a sequence (on `model`, into `cache`, logits for `logit_rows` into `logits` as
  // SeqBatch says; null: none) and returns its index for result(). Tokens, cache and logits must stay put until the
  // round's scatter.
  size_t add(const Model& model, const int32_t* tokens, int64_t n, KVCache& cache, float* logits,
             std::vector<int64_t> logit_rows);
  // Evaluates everything queued: one forward_batch per model. When one fails, its steps run one by one so that
  // only the faulty sequence gets the error (forward_batch checks every input before it changes any cache).
  void run(ThreadPool& pool);
  const Status& result(size_t i) const { return items_[i].status; }
  size_t size() const { return items_.size(); }
  int64_t passes() const { return passes_; }  // forward_batch calls run() made
  int widest() const { return widest_; }      // the most sequences one of them evaluated

 private:
  struct Item {
    const Model* model = nullptr;
    SeqBatch seq;
    std::vector<int64_t> rows;
    Status status = ok_status();
  };
  std::vector<Item> items_;
  bool prompt_claimed_ = false;
  int64_t passes_ = 0;
  int widest_ = 0;
};

// A task whose forward passes join the round's batch. In each round the scheduler calls gather() on every such task,
// runs the batch, then calls scatter() on each of them.
class BatchedTask : public Task {
 public:
  // Queues this round's forward work in `batch`, and does what needs no forward pass.
  virtual void gather(Job& job, StepContext& ctx, Batch& batch) = 0;
  // Takes the results of what gather() queued. Returns true once the task has emitted kDone or kError.
  virtual bool scatter(Job& job, StepContext& ctx, const Batch& batch) = 0;
  // A round with a batch of its own.
  bool step(Job& job, StepContext& ctx) override;
};

struct SchedulerOptions {
  int threads = 0;        // thread pool of the forward passes; <= 0: all cores
  int parallel = 4;       // tasks active at once
  size_t max_queue = 256; // tasks waiting beyond that are refused
};

class Scheduler {
 public:
  explicit Scheduler(SchedulerOptions opt);
  ~Scheduler();  // ends the worker; tasks still queued or running get a kError event
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Null when max_queue tasks are already waiting.
  std::shared_ptr<Job> submit(std::unique_ptr<Task> task, int n_seqs);

  struct Load {
    int active = 0, queued = 0;
    int64_t cancelled = 0;  // tasks dropped because their client went away (or stopped them)
    // Batched forward work so far: rounds that evaluated anything, forward_batch calls (one per model and such
    // round), sequence steps in them, and the most sequences one call evaluated.
    int64_t batch_rounds = 0, forward_passes = 0, batched_steps = 0;
    int max_batch = 0;
  };
  Load load() const;
  int parallel() const { return opt_.parallel; }

 private:
  struct Entry {
    std::shared_ptr<Job> job;
    std::unique_ptr<Task> task;
  };
  void loop();

  SchedulerOptions opt_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Entry> queue_;
  int n_active_ = 0;
  int64_t n_cancelled_ = 0;
  int64_t batch_rounds_ = 0, forward_passes_ = 0, batched_steps_ = 0;
  int max_batch_ = 0;
  bool stop_ = false;
  std::thread worker_;
};

}  // namespace ts::server
