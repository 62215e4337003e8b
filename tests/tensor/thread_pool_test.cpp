// ThreadPool: every index visited exactly once, exceptions reach the caller, and the pool survives many calls.
#include "tensor/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

namespace ts {
namespace {

TEST(ThreadPool, DefaultSizeIsAtLeastOne) {
  ThreadPool pool(0);
  EXPECT_GE(pool.size(), 1);
  ThreadPool negative(-3);
  EXPECT_EQ(negative.size(), pool.size());
}

TEST(ThreadPool, RunCallsEveryThreadIndexOnce) {
  for (int threads : {1, 2, 3, 5}) {
    ThreadPool pool(threads);
    std::vector<std::atomic<int>> hits(static_cast<size_t>(threads));
    pool.run([&](int t) { hits[static_cast<size_t>(t)].fetch_add(1); });
    for (int t = 0; t < threads; ++t) EXPECT_EQ(hits[static_cast<size_t>(t)].load(), 1) << "thread " << t;
  }
}

TEST(ThreadPool, ParallelForVisitsEveryIndexExactlyOnce) {
  for (int threads : {1, 2, 4}) {
    ThreadPool pool(threads);
    for (int64_t n : {0, 1, 2, 7, 64, 100, 1000, 4097}) {
      for (int64_t grain : {1, 3, 16, 5000}) {
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
        std::atomic<bool> bad_chunk{false};
        pool.parallel_for(n, grain, [&](int64_t b, int64_t e, int t) {
          if (b >= e || b < 0 || e > n || t < 0 || t >= threads) bad_chunk = true;
          // Every chunk but the last holds at least `grain` items.
          if (e != n && e - b < grain) bad_chunk = true;
          for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)].fetch_add(1);
        });
        EXPECT_FALSE(bad_chunk.load()) << "threads " << threads << " n " << n << " grain " << grain;
        for (int64_t i = 0; i < n; ++i)
          ASSERT_EQ(hits[static_cast<size_t>(i)].load(), 1)
              << "index " << i << " threads " << threads << " n " << n << " grain " << grain;
      }
    }
  }
}

TEST(ThreadPool, WorkerExceptionReachesCallerAndPoolStaysUsable) {
  ThreadPool pool(3);
  EXPECT_THROW(pool.run([](int t) {
    if (t == 2) throw std::runtime_error("worker failed");
  }),
               std::runtime_error);
  EXPECT_THROW(pool.run([](int t) {
    if (t == 0) throw std::logic_error("caller failed");
  }),
               std::logic_error);
  EXPECT_THROW(pool.parallel_for(1000, 1,
                                 [](int64_t b, int64_t e, int) {
                                   if (b <= 500 && 500 < e) throw std::out_of_range("index 500");
                                 }),
               std::out_of_range);
  // Every thread throwing: exactly one exception comes back, and the next call works.
  EXPECT_THROW(pool.run([](int) { throw std::runtime_error("all"); }), std::runtime_error);
  std::atomic<int> count{0};
  pool.run([&](int) { count.fetch_add(1); });
  EXPECT_EQ(count.load(), 3);
}

TEST(ThreadPool, ManyBackToBackCallsAllComplete) {
  ThreadPool pool(2);
  std::atomic<int64_t> sum{0};
  constexpr int kCalls = 5000;
  for (int i = 0; i < kCalls; ++i) {
    pool.parallel_for(4, 1, [&](int64_t b, int64_t e, int) { sum.fetch_add(e - b); });
  }
  EXPECT_EQ(sum.load(), 4 * kCalls);
}

TEST(ThreadPool, NestedCallRunsInlineInsteadOfDeadlocking) {
  ThreadPool pool(2);
  std::atomic<int> inner{0};
  pool.parallel_for(2, 1, [&](int64_t, int64_t, int) {
    pool.parallel_for(10, 1, [&](int64_t b, int64_t e, int) { inner.fetch_add(static_cast<int>(e - b)); });
  });
  EXPECT_EQ(inner.load(), 20);
}

TEST(ThreadPool, DestructorJoinsIdleAndFreshWorkers) {
  // Constructed and destroyed without a call, and after a call: the destructor must wake sleeping workers.
  { ThreadPool pool(4); }
  {
    ThreadPool pool(4);
    std::atomic<int> n{0};
    pool.run([&](int) { n.fetch_add(1); });
    EXPECT_EQ(n.load(), 4);
  }
}

}  // namespace
}  // namespace ts
