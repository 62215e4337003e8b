// tokenscope bench: throughput of a model file on this machine, in the terms llama-bench reports.
//
//   prompt (pp):  score_sequence over -p random token ids with the full statistics (logprob, rank, entropy, top-5)
//                 at every position, in one context window of -p positions; prompt_tokens_per_s = p / seconds.
//                 --stats logits: the same forward calls (-b positions each, the logits of every position) without
//                 the statistics — the difference is what the statistics cost.
//   ttft:         a fresh cache, Model::forward over the same -p ids with the logits of the last row only, then the
//                 argmax: the wait before the first generated token of a -p token prompt (-p 0: of the short prompt).
//   generation:   a fresh cache, a short prompt of kGenPrompt random ids, then -n single-token forward calls, each
//                 feeding the argmax of the previous logits; gen_tokens_per_s = n / seconds of those n calls.
//   read:         after each generation repetition, a plain read of the weight bytes a generated token streams (every
//                 matrix but the embedding table, which is looked up by row, unless it doubles as the classifier),
//                 each matrix split across the threads as the products split it: the memory-bandwidth bound of that
//                 minute. gen_gb_per_s = those bytes × tokens/s; gen_of_read = the median of the repetitions'
//                 gen_gb_per_s / read_gb_per_s (the bound moves with the machine's neighbours, so both are measured
//                 together).
// Each part runs once as a warm-up (at most 32 prompt tokens and 1 generated token, like llama-bench: it faults in
// the weights and wakes the threads), then -r times; the table shows median, min and max. Peak RSS is the process's
// ru_maxrss (mapped weight pages count once touched).
//
// --format json: one object on the last line of stdout: prompt_tokens_per_s, gen_tokens_per_s, ttft_ms, gen_gb_per_s,
// read_gb_per_s (medians, null for a skipped part), their _min/_max, gen_of_read, streamed_bytes_per_token, rss_mb,
// and the run's parameters.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>
#include <span>

#include "commands.h"
#include "common.h"
#include "runtime/engine.h"
#include "runtime/scorer.h"
#include "tensor/vec_ops.h"

namespace ts::cli {

namespace {

constexpr int64_t kGenPrompt = 8;  // tokens before generation starts

struct Opts {
  std::string model, format = "table";
  int64_t prompt = 512, gen = 128, batch = 256;
  int threads = 0, reps = 5;
  uint64_t seed = 1;
  std::string precision = "int16";  // --precision: int16 (the default), exact or fast (--fast)
  bool fast = false;                // --fast: --precision fast
  std::string stats = "full";  // full: score_sequence's statistics; logits: the forward passes alone
  std::string load = "auto";   // --load: auto, copy or mmap
};

struct Series {
  std::vector<double> v;
  double median() const {
    std::vector<double> s = v;
    std::sort(s.begin(), s.end());
    const size_t n = s.size();
    return n == 0 ? 0.0 : n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
  }
  double min() const { return v.empty() ? 0.0 : *std::min_element(v.begin(), v.end()); }
  double max() const { return v.empty() ? 0.0 : *std::max_element(v.begin(), v.end()); }
};

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

int32_t argmax(const std::vector<float>& v) {
  return static_cast<int32_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

class Bench {
 public:
  Bench(const Model& m, ThreadPool& pool, const Opts& o) : m_(m), pool_(pool), o_(o) {
    std::mt19937_64 rng(o.seed);
    std::uniform_int_distribution<int32_t> id(0, static_cast<int32_t>(m.config().n_vocab - 1));
    prompt_.resize(static_cast<size_t>(o.prompt));
    for (auto& t : prompt_) t = id(rng);
    gen_prompt_.resize(kGenPrompt);
    for (auto& t : gen_prompt_) t = id(rng);
    logits_.resize(static_cast<size_t>(m.config().n_vocab));
  }

  // Seconds to score ids[0..n) with the full statistics (or, --stats logits, to compute every position's logits).
  Expected<double> prompt(int64_t n) {
    std::vector<int32_t> ids(prompt_.begin(), prompt_.begin() + n);
    if (o_.stats == "logits") return logits_only(ids);
    ScoreOptions so;
    so.ctx = std::max<int64_t>(n, 2);  // one window, as llama-bench evaluates its prompt
    so.batch = o_.batch;
    so.top_k = 5;
    double sink = 0;
    const auto t0 = Clock::now();
    auto s = score_sequence(m_, ids, so, pool_, [&](const ScoredToken& t) { sink += t.stats.logprob; });
    const double sec = seconds_since(t0);
    if (!s) return s.error();
    checksum_ += sink;
    return sec;
  }

  // Seconds of the forward calls score_sequence makes for ids (batches of -b positions, logits of every row), with
  // nothing computed from the logits.
  Expected<double> logits_only(const std::vector<int32_t>& ids) {
    const int64_t n = static_cast<int64_t>(ids.size()), b = o_.batch, nv = m_.config().n_vocab;
    std::vector<float> rows(static_cast<size_t>(std::min(n, b) * nv));
    const auto t0 = Clock::now();
    KVCache cache(m_.config(), std::max<int64_t>(n, 2));
    for (int64_t p = 0; p < n; p += b) {
      const int64_t c = std::min(b, n - p);
      if (auto s = m_.forward(ids.data() + p, c, cache, rows.data(), pool_); !s) return s.error();
      checksum_ += rows[static_cast<size_t>((c - 1) * nv)];
    }
    return seconds_since(t0);
  }

  // Seconds from an empty cache to the first generated token of ids[0..n).
  Expected<double> ttft(const std::vector<int32_t>& ids) {
    const int64_t n = static_cast<int64_t>(ids.size());
    const auto t0 = Clock::now();
    KVCache cache(m_.config(), n + 1);
    if (auto s = m_.forward(ids.data(), n, cache, logits_.data(), pool_, {n - 1}); !s) return s.error();
    checksum_ += argmax(logits_);
    return seconds_since(t0);
  }

  // Seconds of n single-token forward calls after the short prompt.
  Expected<double> generate(int64_t n) {
    KVCache cache(m_.config(), kGenPrompt + n);
    if (auto s = m_.forward(gen_prompt_.data(), kGenPrompt, cache, logits_.data(), pool_, {kGenPrompt - 1}); !s)
      return s.error();
    int32_t next = argmax(logits_);
    const auto t0 = Clock::now();
    for (int64_t i = 0; i < n; ++i) {
      if (auto s = m_.forward(&next, 1, cache, logits_.data(), pool_); !s) return s.error();
      next = argmax(logits_);
    }
    checksum_ += next;
    return seconds_since(t0);
  }

  const std::vector<int32_t>& prompt_ids() const { return prompt_; }
  const std::vector<int32_t>& gen_prompt_ids() const { return gen_prompt_; }

 private:
  const Model& m_;
  ThreadPool& pool_;
  const Opts& o_;
  std::vector<int32_t> prompt_, gen_prompt_;
  std::vector<float> logits_;
  double checksum_ = 0;  // keeps the results observable
};

// The weight bytes one generated token streams, as whole 64-bit words: every matrix but the embedding table (looked
// up by row), which is the classifier too where the file has no output.weight.
std::vector<std::span<const uint64_t>> streamed_words(const gguf::File& f) {
  const bool tied = f.tensor("output.weight") == nullptr;
  std::vector<std::span<const uint64_t>> out;
  for (const auto& t : f.tensors())
    if (t.dims.size() >= 2 && (tied || t.name != "token_embd.weight"))
      out.emplace_back(reinterpret_cast<const uint64_t*>(t.data), t.n_bytes / 8);
  return out;
}

// Seconds to read the words once, each matrix split across the pool's threads in chunks (as the products split it).
double read_seconds(const std::vector<std::span<const uint64_t>>& words, ThreadPool& pool, uint64_t& checksum) {
  std::atomic<uint64_t> sum{0};
  const auto t0 = Clock::now();
  for (const auto w : words)
    pool.parallel_for(static_cast<int64_t>(w.size()), int64_t{1} << 14, [&](int64_t a, int64_t b, int) {
      sum.fetch_add(sum_words(w.data() + a, b - a), std::memory_order_relaxed);
    });
  const double sec = seconds_since(t0);
  checksum += sum.load();
  return sec;
}

double rss_mb() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // KiB on Linux
}

int run_bench(const Opts& o) {
  if (o.prompt == 0 && o.gen == 0) return report(Error::input("bench: -p 0 and -n 0 leave nothing to measure"));
  const auto t_load = std::chrono::steady_clock::now();
  auto eng = Engine::load(o.model, residency_named(o.load), precision_named(o.fast ? "fast" : o.precision));
  const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_load).count();
  if (!eng) return report(eng.error());
  const Model& m = *(*eng)->model;
  const ModelConfig& c = m.config();
  ThreadPool pool(thread_count(o.threads));
  Bench b(m, pool, o);
  const std::vector<int32_t>& ttft_ids = o.prompt > 0 ? b.prompt_ids() : b.gen_prompt_ids();

  const auto streamed = streamed_words(m.file());
  double streamed_bytes = 0;  // per generated token
  for (const auto w : streamed) streamed_bytes += 8.0 * static_cast<double>(w.size());
  uint64_t read_checksum = 0;

  Series pp, tg, ttft, gen_gbs, read_gbs, gen_of_read;  // tokens/s, tokens/s, ms, GB/s, GB/s, ratio
  for (int rep = -1; rep < o.reps; ++rep) {  // rep -1: the warm-up, not recorded
    const bool warm = rep < 0;
    if (o.prompt > 0) {
      const int64_t n = warm ? std::min<int64_t>(o.prompt, 32) : o.prompt;
      auto s = b.prompt(n);
      if (!s) return report(s.error());
      if (!warm) pp.v.push_back(static_cast<double>(n) / *s);
    }
    if (!warm) {
      auto s = b.ttft(ttft_ids);
      if (!s) return report(s.error());
      ttft.v.push_back(*s * 1e3);
    }
    if (o.gen > 0) {
      const int64_t n = warm ? 1 : o.gen;
      auto s = b.generate(n);
      if (!s) return report(s.error());
      if (!warm) {
        tg.v.push_back(static_cast<double>(n) / *s);
        gen_gbs.v.push_back(streamed_bytes * tg.v.back() / 1e9);
        read_gbs.v.push_back(streamed_bytes / read_seconds(streamed, pool, read_checksum) / 1e9);
        gen_of_read.v.push_back(gen_gbs.v.back() / read_gbs.v.back());
      }
    }
    if (!warm && o.format == "table")
      std::fprintf(stderr, "bench: repetition %d/%d done\n", rep + 1, o.reps);
  }
  const double rss = rss_mb();

  uint64_t weight_bytes = 0, n_params = 0;
  std::string types;
  for (const auto& t : m.file().tensors()) {
    weight_bytes += t.n_bytes;
    n_params += t.n_elements;
    const std::string name(dtype_name(t.type));
    if (t.dims.size() > 1 && types.find(name) == std::string::npos) types += (types.empty() ? "" : "+") + name;
  }
  const int threads = pool.size();
  const char* weights = m.file().copied() ? "copy" : "mmap";
  // matrices Model::load rewrote into the interleaved layout (tensor/interleave.h) and the k-split one (k_split.h)
  size_t interleaved = 0, k_split = 0;
  for (size_t i = 0; i < m.file().tensors().size(); ++i) {
    const std::string form = m.file().tensor_form(i);
    interleaved += form == "interleaved16";
    k_split += form.rfind("k-split", 0) == 0;
  }
  if (o.format == "json") {
    auto stat = [](const Series& s, nlohmann::json& j, const std::string& key) {
      j[key] = s.v.empty() ? nlohmann::json() : nlohmann::json(round6(s.median()));
      j[key + "_min"] = s.v.empty() ? nlohmann::json() : nlohmann::json(round6(s.min()));
      j[key + "_max"] = s.v.empty() ? nlohmann::json() : nlohmann::json(round6(s.max()));
    };
    nlohmann::json j = {{"model", o.model}, {"arch", c.arch}, {"types", types},
                        {"size_mib", round6(static_cast<double>(weight_bytes) / (1024.0 * 1024.0))},
                        {"params", n_params}, {"threads", threads}, {"prompt_tokens", o.prompt},
                        {"gen_tokens", o.gen}, {"batch", o.batch}, {"reps", o.reps},
                        {"precision", o.fast ? "fast" : o.precision}, {"stats", o.stats},
                        {"weights", weights}, {"interleaved_matrices", interleaved}, {"k_split_matrices", k_split}, {"load_s", round6(load_s)}};
    stat(pp, j, "prompt_tokens_per_s");
    stat(tg, j, "gen_tokens_per_s");
    stat(ttft, j, "ttft_ms");
    stat(gen_gbs, j, "gen_gb_per_s");
    stat(read_gbs, j, "read_gb_per_s");
    j["gen_of_read"] = gen_of_read.v.empty() ? nlohmann::json() : nlohmann::json(round6(gen_of_read.median()));
    j["streamed_bytes_per_token"] = static_cast<uint64_t>(streamed_bytes);
    j["rss_mb"] = round6(rss);
    std::puts(dump_json(j).c_str());
    return 0;
  }
  std::printf("model   %s: %s %s, %.1f MiB, %.2f M params; %d threads, batch %lld, %d repetitions%s\n",
              o.model.c_str(), c.arch.c_str(), types.c_str(), static_cast<double>(weight_bytes) / (1024.0 * 1024.0),
              static_cast<double>(n_params) / 1e6, threads, (long long)o.batch, o.reps,
              (", precision " + std::string(o.fast ? "fast" : o.precision) +
               (o.stats == "logits" ? ", --stats logits" : ""))
                  .c_str());
  std::printf("weights %s%s%s, loaded in %.2f s\n",
              m.file().copied() ? "copied into memory (huge pages)" : "mapped from the file",
              interleaved ? (", " + std::to_string(interleaved) + " matrices interleaved").c_str() : "",
              k_split ? (", " + std::to_string(k_split) + " matrices k-split").c_str() : "", load_s);
  std::printf("| %-12s | %12s | %12s | %12s |\n", "test", "median", "min", "max");
  std::printf("| %-12s | %12s | %12s | %12s |\n", "------------", "-----------:", "-----------:", "-----------:");
  auto row = [](const std::string& name, const Series& s, const char* unit) {
    if (s.v.empty()) return;
    std::printf("| %-12s | %8.2f %-3s | %8.2f %-3s | %8.2f %-3s |\n", name.c_str(), s.median(), unit, s.min(), unit,
                s.max(), unit);
  };
  row("pp" + std::to_string(o.prompt), pp, "t/s");
  row("tg" + std::to_string(o.gen), tg, "t/s");
  row("ttft" + std::to_string(o.prompt > 0 ? o.prompt : kGenPrompt), ttft, "ms");
  if (!tg.v.empty()) {
    row("tg GB/s", gen_gbs, "");
    row("read GB/s", read_gbs, "");
    std::printf("generation streams %.1f MB of weights per token: %.0f%% of a plain read of them right after "
                "(median over the repetitions; bound %.1f t/s)\n",
                streamed_bytes / 1e6, 100.0 * gen_of_read.median(), read_gbs.median() * 1e9 / streamed_bytes);
  }
  std::printf("peak RSS %.0f MiB\n", rss);
  return 0;
}

}  // namespace

void register_bench(CLI::App& app, Run& run) {
  auto* cmd = app.add_subcommand(
      "bench", "Prompt-scoring and generation throughput, time to first token, peak RSS, the memory bound");
  auto o = std::make_shared<Opts>();
  cmd->add_option("-m,--model", o->model, "GGUF model file (default: the bundled demo model)");
  cmd->add_option("-p,--prompt", o->prompt, "Prompt tokens scored with full statistics (0: skip)")
      ->check(CLI::Range(int64_t(0), int64_t(1) << 20));
  cmd->add_option("-n,--gen", o->gen, "Tokens generated one forward call at a time (0: skip)")
      ->check(CLI::Range(int64_t(0), int64_t(1) << 20));
  cmd->add_option("-t,--threads", o->threads, "Threads (default: all cores)")->check(CLI::Range(0, 1024));
  cmd->add_option("-r,--reps", o->reps, "Repetitions after the warm-up")->check(CLI::Range(1, 1000));
  cmd->add_option("-b,--batch", o->batch, "Positions per forward call when scoring the prompt (as in score)")
      ->check(CLI::Range(int64_t(1), int64_t(8192)));
  cmd->add_option("--seed", o->seed, "Seed of the random token ids");
  cmd->add_option("--format", o->format, "table or json")->check(CLI::IsMember({"table", "json"}));
  auto* precision =
      cmd->add_option("--precision", o->precision, kPrecisionHelp)->check(CLI::IsMember({"exact", "int16", "fast"}));
  cmd->add_flag("--fast", o->fast, "Same as --precision fast")->excludes(precision);
  cmd->add_option("--stats", o->stats,
                  "Prompt part: full (logprob, rank, entropy, top-5 at every position) or logits (the forward passes "
                  "alone: what the statistics cost is the difference)")
      ->check(CLI::IsMember({"full", "logits"}));
  cmd->add_option("--load", o->load, kLoadHelp)->check(CLI::IsMember({"auto", "copy", "mmap"}));
  cmd->callback([&run, o] {
    run = [o] {
      auto mp = resolve_model(o->model);
      if (!mp) return report(mp.error());
      o->model = *mp;
      return run_bench(*o);
    };
  });
}

}  // namespace ts::cli
