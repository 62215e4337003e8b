// Continuous batching in the Scheduler: streams that decode together run one forward pass per round (not one per
// sequence), a new prompt takes the round's single prompt chunk, and a request's tokens and logprobs are exactly
// those it gets alone, because forward_batch computes each sequence as it would alone.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "server/generate_task.h"
#include "server/scheduler.h"
#include "server_test_util.h"

namespace ts::server::test {
namespace {

// Holds the worker until released, so that the tasks submitted meanwhile start in the same round.
class Gate : public Task {
 public:
  Gate(std::promise<void>& started, std::shared_future<void> open) : started_(started), open_(std::move(open)) {}
  bool step(Job& job, StepContext&) override {
    started_.set_value();
    open_.wait();
    Event e;
    e.kind = Event::Kind::kDone;
    job.emit(std::move(e));
    return true;
  }

 private:
  std::promise<void>& started_;
  std::shared_future<void> open_;
};

struct Drawn {
  std::vector<int32_t> ids;
  std::vector<double> logprobs;
  std::string finish;
  bool operator==(const Drawn&) const = default;
};

// A generation request of one sequence: the model's own distribution (dist), seeded, max_new tokens, no EOS stop.
std::unique_ptr<Task> sampled(const Engine& e, const std::string& prompt, uint64_t seed, int64_t max_new) {
  GenerateRequest g;
  g.engine = &e;
  g.max_new = max_new;
  g.n_ctx = 256;
  g.top_k = 2;
  g.ignore_eos = true;
  SeqRequest s;
  s.prompt = e.tokenizer.encode(prompt).ids;
  s.seed = seed;
  g.seqs.push_back(std::move(s));
  return make_generate_task(std::move(g));
}

Drawn drain(Job& job) {
  Drawn d;
  Event ev;
  for (;;) {
    if (!job.next(ev, std::chrono::milliseconds(60000))) {
      ADD_FAILURE() << "no event within a minute";
      return d;
    }
    if (ev.kind == Event::Kind::kToken) {
      d.ids.push_back(ev.token.id);
      d.logprobs.push_back(ev.token.raw.logprob);
    } else if (ev.kind == Event::Kind::kFinish) {
      d.finish = ev.reason;
    } else if (ev.kind == Event::Kind::kError) {
      ADD_FAILURE() << ev.message;
      return d;
    } else if (ev.kind == Event::Kind::kDone) {
      return d;
    }
  }
}

const char* const kPrompts[] = {"In the beginning", "The hacker's ethic holds that", "A fortune: you will",
                                "And the earth was without form"};
constexpr int64_t kMaxNew = 24;

TEST(Batching, FourDecodingStreamsShareOneForwardPassPerRound) {
  auto engine = Engine::load(demo_model_path());
  ASSERT_TRUE(engine.ok()) << engine.error().message;
  const Engine& e = **engine;

  std::vector<Drawn> alone;
  {
    Scheduler solo(SchedulerOptions{2, 4, 16});
    for (size_t i = 0; i < std::size(kPrompts); ++i) {
      auto job = solo.submit(sampled(e, kPrompts[i], 1000 + i, kMaxNew), 1);
      ASSERT_TRUE(job);
      alone.push_back(drain(*job));
      ASSERT_EQ(alone.back().ids.size(), static_cast<size_t>(kMaxNew));
    }
    const auto load = solo.load();
    EXPECT_EQ(load.max_batch, 1);  // one request at a time: nothing to batch with
  }

  Scheduler sched(SchedulerOptions{2, 4, 16});
  std::promise<void> started, open;
  std::shared_future<void> gate_open = open.get_future().share();
  ASSERT_TRUE(sched.submit(std::make_unique<Gate>(started, gate_open), 1));
  started.get_future().wait();  // the worker is inside the gate: the four below queue up and start together
  std::vector<std::shared_ptr<Job>> jobs;
  for (size_t i = 0; i < std::size(kPrompts); ++i) {
    jobs.push_back(sched.submit(sampled(e, kPrompts[i], 1000 + i, kMaxNew), 1));
    ASSERT_TRUE(jobs.back());
  }
  open.set_value();
  std::vector<Drawn> together;
  for (auto& j : jobs) together.push_back(drain(*j));
  EXPECT_EQ(together, alone);  // same tokens, same logprobs to the last bit

  const auto load = sched.load();
  // Each request: one prompt chunk and kMaxNew − 1 token steps (the last token drawn is never fed). Prompt k gets
  // the round's one prompt chunk in round k + 1, so the four finish after kMaxNew + 3 rounds, each one pass.
  EXPECT_EQ(load.batched_steps, 4 * kMaxNew);
  EXPECT_EQ(load.batch_rounds, kMaxNew + 3);
  EXPECT_EQ(load.forward_passes, load.batch_rounds);
  EXPECT_EQ(load.max_batch, 4);
}

// Through HTTP, with whatever overlap the requests happen to get: seeded sampling, n = 2 choices in one of them.
TEST(Batching, ConcurrentSeededRequestsGiveTheSameTokensAsAlone) {
  auto& s = shared_server();
  auto body = [](size_t i) {
    Json b = {{"prompt", kPrompts[i]}, {"max_tokens", 32},  {"temperature", 0.9},
              {"seed", 7 + i},         {"logprobs", 2},     {"tokenscope", {{"ignore_eos", true}}}};
    if (i == 1) b["n"] = 2;
    return b;
  };
  auto key = [](const Reply& r) {
    Json out = Json::array();
    for (const Json& c : r.json["choices"]) out.push_back({c["text"], c["logprobs"]["token_logprobs"]});
    return out;
  };
  std::vector<Json> alone;
  for (size_t i = 0; i < std::size(kPrompts); ++i) {
    auto r = s.post("/v1/completions", body(i));
    ASSERT_EQ(r.status, 200) << r.body;
    alone.push_back(key(r));
  }
  std::vector<Json> together(std::size(kPrompts));
  std::vector<std::thread> threads;
  for (size_t i = 0; i < std::size(kPrompts); ++i)
    threads.emplace_back([&, i] {
      auto r = s.post("/v1/completions", body(i));
      if (r.status == 200) together[i] = key(r);
    });
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < std::size(kPrompts); ++i) EXPECT_EQ(together[i], alone[i]) << kPrompts[i];
  EXPECT_EQ(alone[1].size(), 2u);
}

}  // namespace
}  // namespace ts::server::test
