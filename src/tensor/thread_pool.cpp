// ThreadPool: persistent workers woken per call by a generation counter.
//
// Protocol. The caller publishes the job, sets `pending_` to the number of workers and bumps `generation_`.
// Each worker spins for a short while on `generation_` (a call that follows another within microseconds — the
// usual case inside a forward pass — is picked up without a system call; the spin yields now and then so that on
// oversubscribed cores the thread being waited for can run), then blocks in a futex wait
// (std::atomic::wait) so an idle pool costs no CPU. When a worker finishes it decrements `pending_`; the one that
// reaches zero wakes the caller, which has meanwhile run its own share as thread 0 and spins, then waits, the same
// way. Exceptions are caught on every thread; the first is rethrown on the caller after all threads are done, so a
// throwing job can never leave a worker behind.
//
// A call made from inside a job (nested parallelism) runs inline on the calling thread instead of deadlocking.
// Calls from several outside threads are serialised by a mutex.
#include "tensor/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TS_CPU_RELAX() _mm_pause()
#else
#define TS_CPU_RELAX() std::this_thread::yield()
#endif

namespace ts {

namespace {

// About 30-60 µs of pause instructions: long enough to catch back-to-back calls of a forward pass, short enough
// that a pool waiting for the next token does not hold the cores.
constexpr int kSpinIterations = 1 << 11;

// Polls `done` for up to kSpinIterations pauses. Every 128 pauses it yields, so that when the cores are
// oversubscribed (other processes, more threads than cores) the thread we are waiting for can run here.
template <class Done>
void spin_until(Done done) {
  for (int i = 0; i < kSpinIterations; ++i) {
    if (done()) return;
    TS_CPU_RELAX();
    if ((i & 127) == 127) std::this_thread::yield();
  }
  done();
}

// The pool whose job the current thread is running (to run nested calls inline).
thread_local const void* tl_current_pool = nullptr;

}  // namespace

struct ThreadPool::Impl {
  std::vector<std::thread> workers;
  std::mutex call_mutex;  // one call at a time
  const std::function<void(int)>* job = nullptr;
  std::atomic<uint32_t> generation{0};
  std::atomic<int> pending{0};
  std::atomic<bool> stop{false};
  std::mutex error_mutex;
  std::exception_ptr first_error;

  void record_error(std::exception_ptr e) {
    std::lock_guard<std::mutex> lock(error_mutex);
    if (!first_error) first_error = std::move(e);
  }

  void run_job(int thread, const void* owner) {
    const void* saved = tl_current_pool;
    tl_current_pool = owner;
    try {
      (*job)(thread);
    } catch (...) {
      record_error(std::current_exception());
    }
    tl_current_pool = saved;
  }

  void worker_loop(int thread, const void* owner) {
    uint32_t seen = 0;
    for (;;) {
      uint32_t g = seen;
      spin_until([&] { return (g = generation.load(std::memory_order_acquire)) != seen; });
      while (g == seen) {
        generation.wait(seen, std::memory_order_acquire);
        g = generation.load(std::memory_order_acquire);
      }
      seen = g;
      if (stop.load(std::memory_order_acquire)) return;
      run_job(thread, owner);
      if (pending.fetch_sub(1, std::memory_order_acq_rel) == 1) pending.notify_one();
    }
  }
};

ThreadPool::ThreadPool(int n_threads) : impl_(std::make_unique<Impl>()) {
  if (n_threads <= 0) n_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  n_threads_ = n_threads;
  impl_->workers.reserve(static_cast<size_t>(n_threads - 1));
  for (int t = 1; t < n_threads; ++t) {
    impl_->workers.emplace_back([impl = impl_.get(), t, owner = static_cast<const void*>(this)] {
      impl->worker_loop(t, owner);
    });
  }
}

ThreadPool::~ThreadPool() {
  impl_->stop.store(true, std::memory_order_release);
  impl_->generation.fetch_add(1, std::memory_order_acq_rel);
  impl_->generation.notify_all();
  for (auto& w : impl_->workers) w.join();
}

void ThreadPool::run(const std::function<void(int thread)>& fn) {
  if (n_threads_ == 1 || tl_current_pool == this) {
    // Inline: a one-thread pool, or a nested call from inside one of our own jobs.
    for (int t = 0; t < n_threads_; ++t) fn(t);
    return;
  }
  Impl& s = *impl_;
  std::lock_guard<std::mutex> call_lock(s.call_mutex);
  s.job = &fn;
  s.first_error = nullptr;
  s.pending.store(n_threads_ - 1, std::memory_order_relaxed);
  s.generation.fetch_add(1, std::memory_order_acq_rel);  // publishes job and pending (release)
  s.generation.notify_all();

  s.run_job(0, this);

  int left = 0;
  spin_until([&] { return (left = s.pending.load(std::memory_order_acquire)) == 0; });
  while (left != 0) {
    s.pending.wait(left, std::memory_order_acquire);
    left = s.pending.load(std::memory_order_acquire);
  }
  s.job = nullptr;
  if (s.first_error) {
    std::exception_ptr e = std::move(s.first_error);
    s.first_error = nullptr;
    std::rethrow_exception(e);
  }
}

void ThreadPool::parallel_for(int64_t n, int64_t grain,
                              const std::function<void(int64_t begin, int64_t end, int thread)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  if (n_threads_ == 1 || n <= grain || tl_current_pool == this) {
    fn(0, n, 0);
    return;
  }
  // Chunks of at least `grain`, but no more than ~8 per thread so the shared counter is not a hot spot.
  struct Loop {
    int64_t n, chunk;
    const std::function<void(int64_t, int64_t, int)>* fn;
    std::atomic<int64_t> next{0};
  } loop{n, std::max<int64_t>(grain, n / (8 * static_cast<int64_t>(n_threads_))), &fn};
  // The lambda captures one pointer, so std::function stores it inline (no allocation per call).
  run([lp = &loop](int thread) {
    for (;;) {
      const int64_t begin = lp->next.fetch_add(lp->chunk, std::memory_order_relaxed);
      if (begin >= lp->n) return;
      try {
        (*lp->fn)(begin, std::min(lp->n, begin + lp->chunk), thread);
      } catch (...) {
        lp->next.store(lp->n, std::memory_order_relaxed);  // the others stop taking chunks
        throw;
      }
    }
  });
}

}  // namespace ts
