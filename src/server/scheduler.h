// The worker that owns the models: HTTP handler threads submit tasks, one worker thread runs them, and each request
// reads its results from its Job as events.
//
// Design (continuous, interleaved): up to `parallel` tasks are active at once; the worker visits them round-robin
// and gives each one step per round — a chunk of prompt positions, or one new token per sequence — so a request
// that arrives joins at the next round and one that finishes leaves at once. The sequences do not share a forward
// pass: each has its own KV cache (ModelSequence) and the steps run one after the other on the shared model and
// thread pool (Model::forward evaluates one cache per call). While other tasks are active, prompt chunks are kept
// short (kSharedChunk positions) so a new prompt delays the running streams by about one step.
//
// Cancellation: Job::cancel() (the client went away) drops the task at its next turn; Job::stop_seq(i) ends one
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
  bool stop_ = false;
  std::thread worker_;
};

}  // namespace ts::server
