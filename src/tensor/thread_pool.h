// A fixed pool of worker threads that run parallel loops without spawning threads per operation.
//
// The calling thread takes part as worker 0, so ThreadPool(1) runs everything inline.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

namespace ts {

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);  // n_threads <= 0: all hardware threads
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Runs fn(thread_index) on every thread (0..size()-1) and returns when all have finished.
  void run(const std::function<void(int thread)>& fn);

  // Splits [0, n) into contiguous chunks of at least `grain` items and calls fn(begin, end, thread) on them,
  // balancing dynamically. Returns when all are done.
  void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t begin, int64_t end, int thread)>& fn);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int n_threads_ = 1;
};

}  // namespace ts
