// See scheduler.h for the design.
#include "server/scheduler.h"

#include <exception>
#include <new>

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
  return {n_active_, static_cast<int>(queue_.size()), n_cancelled_};
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
    for (size_t i = 0; i < active.size();) {
      Entry& e = active[i];
      bool done = false;
      if (e.job->cancelled()) {
        done = true;
        std::lock_guard<std::mutex> lock(mu_);
        ++n_cancelled_;
      } else {
        try {
          done = e.task->step(*e.job, ctx);
        } catch (const std::bad_alloc&) {
          e.job->emit(error_event("out of memory"));
          done = true;
        } catch (const std::exception& ex) {
          e.job->emit(error_event(std::string("internal error: ") + ex.what()));
          done = true;
        }
      }
      if (done) {
        active.erase(active.begin() + static_cast<std::ptrdiff_t>(i));
      } else {
        ++i;
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    n_active_ = static_cast<int>(active.size());
  }
  // Shutting down: nobody may wait forever on a job.
  for (Entry& e : active) e.job->emit(error_event("server shutting down"));
  std::lock_guard<std::mutex> lock(mu_);
  for (Entry& e : queue_) e.job->emit(error_event("server shutting down"));
  queue_.clear();
  n_active_ = 0;
}

}  // namespace ts::server
