// See scheduler.h for the design.
#include "server/scheduler.h"

#include <algorithm>
#include <exception>
#include <new>
#include <span>

namespace ts::server {

bool Job::next(Event& out, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!cv_.wait_for(lock, timeout, [&] { return !events_.empty(); })) return false;
  out = std::move(events_.front());
  events_.pop_front();
  return true;
}

void Job::stop_seq(int i) {
  std::lock_guard<std::mutex> lock(mu_);
  if (i >= 0 && static_cast<size_t>(i) < stopped_.size()) stopped_[static_cast<size_t>(i)] = 1;
}

bool Job::seq_stopped(int i) const {
  std::lock_guard<std::mutex> lock(mu_);
  return i >= 0 && static_cast<size_t>(i) < stopped_.size() && stopped_[static_cast<size_t>(i)];
}

void Job::emit(Event e) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(std::move(e));
  }
  cv_.notify_all();
}

Scheduler::Scheduler(SchedulerOptions opt) : opt_(opt) {
  if (opt_.parallel < 1) opt_.parallel = 1;
  worker_ = std::thread([this] { loop(); });
}

Scheduler::~Scheduler() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  worker_.join();
}

std::shared_ptr<Job> Scheduler::submit(std::unique_ptr<Task> task, int n_seqs) {
  auto job = std::make_shared<Job>(n_seqs);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.size() >= opt_.max_queue || stop_) return nullptr;
    queue_.push_back({job, std::move(task)});
  }
  cv_.notify_all();
  return job;
}

Scheduler::Load Scheduler::load() const {
  std::lock_guard<std::mutex> lock(mu_);
  Load l;
  l.active = n_active_;
  l.queued = static_cast<int>(queue_.size());
  l.cancelled = n_cancelled_;
  l.batch_rounds = batch_rounds_;
  l.forward_passes = forward_passes_;
  l.batched_steps = batched_steps_;
  l.max_batch = max_batch_;
  return l;
}

bool Batch::claim_prompt_chunk() {
  if (prompt_claimed_) return false;
  prompt_claimed_ = true;
  return true;
}

size_t Batch::add(const Model& model, const int32_t* tokens, int64_t n, KVCache& cache, float* logits,
                  std::vector<int64_t> logit_rows) {
  Item it;
  it.model = &model;
  it.seq = SeqBatch{tokens, n, &cache, logits, {}};
  it.rows = std::move(logit_rows);
  items_.push_back(std::move(it));
  return items_.size() - 1;
}

void Batch::run(ThreadPool& pool) {
  std::vector<bool> done(items_.size(), false);
  for (size_t first = 0; first < items_.size(); ++first) {
    if (done[first]) continue;
    const Model* model = items_[first].model;
    std::vector<size_t> group;
    std::vector<SeqBatch> seqs;
    for (size_t i = first; i < items_.size(); ++i) {
      if (done[i] || items_[i].model != model) continue;
      done[i] = true;
      group.push_back(i);
      SeqBatch sb = items_[i].seq;
      sb.logit_rows = items_[i].rows;
      seqs.push_back(sb);
    }
    auto guarded = [&](std::span<const SeqBatch> part) -> Status {
      try {
        ++passes_;
        widest_ = std::max(widest_, static_cast<int>(part.size()));
        return model->forward_batch(part, pool);
      } catch (const std::bad_alloc&) {
        return Error::internal("out of memory");
      } catch (const std::exception& ex) {
        return Error::internal(std::string("internal error: ") + ex.what());
      }
    };
    Status st = guarded(seqs);
    if (st.ok() || seqs.size() == 1) {
      for (size_t i : group) items_[i].status = st;
      continue;
    }
    for (size_t k = 0; k < group.size(); ++k) items_[group[k]].status = guarded(std::span(&seqs[k], 1));
  }
}

bool BatchedTask::step(Job& job, StepContext& ctx) {
  Batch batch;
  gather(job, ctx, batch);
  batch.run(ctx.pool);
  return scatter(job, ctx, batch);
}

namespace {

Event error_event(std::string message) {
  Event e;
  e.kind = Event::Kind::kError;
  e.message = std::move(message);
  return e;
}

}  // namespace

void Scheduler::loop() {
  // The pool is made and used on this thread only: its calling thread takes part as worker 0.
  ThreadPool pool(opt_.threads);
  std::vector<Entry> active;
  for (;;) {
    bool waiting = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !queue_.empty() || !active.empty(); });
      if (stop_) break;
      while (static_cast<int>(active.size()) < opt_.parallel && !queue_.empty()) {
        active.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      n_active_ = static_cast<int>(active.size());
      waiting = !queue_.empty();
    }
    StepContext ctx{pool, active.size() > 1 || waiting};
    // A task's failure ends that task only: it gets a kError event.
    auto guarded = [](Entry& e, auto&& fn) -> bool {
      try {
        return fn();
      } catch (const std::bad_alloc&) {
        e.job->emit(error_event("out of memory"));
      } catch (const std::exception& ex) {
        e.job->emit(error_event(std::string("internal error: ") + ex.what()));
      }
      return true;
    };

    // 1. Drop the cancelled; batched tasks queue their steps, the others run theirs.
    Batch batch;
    std::vector<char> done(active.size(), 0), gathered(active.size(), 0);
    int64_t cancelled = 0;
    for (size_t i = 0; i < active.size(); ++i) {
      Entry& e = active[i];
      if (e.job->cancelled()) {
        done[i] = 1;
        ++cancelled;
      } else if (auto* bt = dynamic_cast<BatchedTask*>(e.task.get())) {
        done[i] = guarded(e, [&] { bt->gather(*e.job, ctx, batch); return false; });
        gathered[i] = !done[i];
      } else {
        done[i] = guarded(e, [&] { return e.task->step(*e.job, ctx); });
      }
    }
    // 2. One forward pass for all of them (counted before any task can emit its last event); 3. each batched task
    // takes its logits.
    batch.run(pool);
    if (batch.size() > 0) {
      std::lock_guard<std::mutex> lock(mu_);
      ++batch_rounds_;
      forward_passes_ += batch.passes();
      batched_steps_ += static_cast<int64_t>(batch.size());
      max_batch_ = std::max(max_batch_, batch.widest());
    }
    for (size_t i = 0; i < active.size(); ++i) {
      if (!gathered[i]) continue;
      Entry& e = active[i];
      done[i] = guarded(e, [&] { return static_cast<BatchedTask*>(e.task.get())->scatter(*e.job, ctx, batch); });
    }
    size_t kept = 0;
    for (size_t i = 0; i < active.size(); ++i)
      if (!done[i]) active[kept++] = std::move(active[i]);
    active.erase(active.begin() + static_cast<std::ptrdiff_t>(kept), active.end());

    std::lock_guard<std::mutex> lock(mu_);
    n_active_ = static_cast<int>(active.size());
    n_cancelled_ += cancelled;
  }
  // Shutting down: nobody may wait forever on a job.
  for (Entry& e : active) e.job->emit(error_event("server shutting down"));
  std::lock_guard<std::mutex> lock(mu_);
  for (Entry& e : queue_) e.job->emit(error_event("server shutting down"));
  queue_.clear();
  n_active_ = 0;
}

}  // namespace ts::server
