// tokenscope score: per-token logprob, rank, entropy and top-k alternatives, and per-document perplexity.
//
// Output (jsonl): one object per predicted token, then one summary object per document:
//   {"doc":0,"pos":1,"id":450,"token":"▁The","offset":0,"logprob":-3.21,"rank":4,"entropy":5.02,"top":[...]}
//   {"doc":0,"summary":{"tokens":N,"nll":mean,"nll_sum":..,"ppl":..,"bytes":..,"bits_per_byte":..,<input fields>}}
// tsv: a header and one row per token (doc, pos, id, token, offset, logprob, rank, entropy); summaries on stderr.
// --shard/--out/--resume/--progress (jsonl only): shard.h.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "commands.h"
#include "common.h"
#include "documents.h"
#include "runtime/engine.h"
#include "runtime/scorer.h"
#include "shard.h"

namespace ts::cli {

// score_view.cpp: prints the text coloured by surprisal, a legend and a summary.
void print_view(const Engine& e, const std::string& text, const std::vector<uint32_t>& offsets,
                const std::vector<ScoredToken>& scored, uint64_t text_bytes, bool color);

namespace {

struct Opts {
  std::string model, format = "jsonl";
  InputOptions in;               // -f, -p, --jsonl, --parse-special (score's own help texts)
  ShardOptions shard;
  int top = 5, threads = 0;
  int64_t ctx = 0, batch = 256;
  bool view = false;             // --view: the coloured terminal view (score_view.cpp)
  std::string color = "auto";    // --color: auto (when stdout is a terminal), always, never
  std::string precision = "int16";  // --precision: int16 (the default), exact or fast (--fast)
  bool fast = false;             // --fast: --precision fast
  std::string load = "auto";     // --load: auto, copy or mmap
};

class Printer {
 public:
  Printer(const Engine& e, const Opts& o, FILE* out) : e_(e), o_(o), out_(out) {
    if (o_.format == "tsv") std::fprintf(out_, "doc\tpos\tid\ttoken\toffset\tlogprob\trank\tentropy\n");
  }

  std::string token_text(int32_t id) const {
    return id >= 0 && id < e_.tokenizer.vocab_size() ? e_.tokenizer.token_text(id) : std::string();
  }

  void token(int64_t doc, const Document& d, const ScoredToken& t) {
    const TokenStats& s = t.stats;
    nll_sum_ -= s.logprob;
    ++n_;
    const uint32_t off = d.offsets[static_cast<size_t>(t.pos)];
    if (o_.format == "tsv") {
      std::fprintf(out_, "%lld\t%lld\t%d\t%s\t%u\t%.6f\t%lld\t%.6f\n", (long long)doc, (long long)t.pos, s.id,
                  tsv_escape(token_text(s.id)).c_str(), off, s.logprob, (long long)s.rank, s.entropy);
      return;
    }
    Json j = {{"doc", doc},          {"pos", t.pos},
                        {"id", s.id},          {"token", token_text(s.id)},
                        {"offset", off},       {"logprob", round6(s.logprob)},
                        {"rank", s.rank},      {"entropy", round6(s.entropy)}};
    if (o_.top > 0) {
      Json top = Json::array();
      for (const auto& a : s.top)
        top.push_back({{"id", a.id}, {"token", token_text(a.id)}, {"logprob", round6(a.logprob)}});
      j["top"] = std::move(top);
    }
    std::fputs(dump_json(j).c_str(), out_);
    std::fputc('\n', out_);
  }

  void summary(int64_t doc, const Document& d) {
    const double mean = n_ ? nll_sum_ / static_cast<double>(n_) : 0.0;
    Json s = d.fields;
    s["tokens"] = n_;
    s["nll"] = round6(mean);
    s["nll_sum"] = round6(nll_sum_);
    s["ppl"] = round6(std::exp(mean));
    s["bytes"] = d.text_bytes;
    s["bits_per_byte"] = d.text_bytes ? round6(nll_sum_ / std::log(2.0) / static_cast<double>(d.text_bytes)) : 0.0;
    if (o_.format == "tsv") {
      std::fprintf(stderr, "doc %lld: tokens %lld, nll %.6f, ppl %.4f, bits/byte %.6f\n", (long long)doc,
                   (long long)n_, mean, std::exp(mean), s["bits_per_byte"].get<double>());
    } else {
      std::fputs(dump_json(Json{{"doc", doc}, {"summary", s}}).c_str(), out_);
      std::fputc('\n', out_);
    }
    std::fflush(out_);
    nll_sum_ = 0;
    n_ = 0;
  }

 private:
  const Engine& e_;
  const Opts& o_;
  FILE* out_;
  double nll_sum_ = 0;
  int64_t n_ = 0;
};

int run_score(const Opts& o) {
  const int sources = !o.in.file.empty() + !o.in.jsonl.empty() + o.in.has_prompt();
  if (sources != 1) return report(Error::input("score: give exactly one of -f FILE, --jsonl FILE, -p TEXT"));
  if (o.view && !o.in.jsonl.empty())
    return report(Error::input("score: --view takes -f FILE or -p TEXT, not --jsonl"));
  if (o.view && (!o.shard.out_dir.empty() || !o.shard.shard.empty()))
    return report(Error::input("score: --view prints to the terminal; it takes no --out or --shard"));
  if (o.format == "tsv" && !o.shard.out_dir.empty())
    return report(Error::input("score: --out writes jsonl; --format tsv prints to stdout"));
  auto corpus = CorpusOutput::open("score", o.shard, DocLayout::kLinesThenSummary, !o.in.jsonl.empty());
  if (!corpus) return report(corpus.error());
  auto eng = Engine::load(o.model, residency_named(o.load), precision_named(o.fast ? "fast" : o.precision));
  if (!eng) return report(eng.error());
  const Engine& e = **eng;
  ThreadPool pool(thread_count(o.threads));
  ScoreOptions so;
  so.ctx = o.ctx;
  so.batch = o.batch;
  so.top_k = o.top;

  if (o.view) {
    std::string text = o.in.prompt;
    if (!o.in.file.empty()) {
      auto t = read_text_file(o.in.file);
      if (!t) return report(t.error());
      text = std::move(*t);
    }
    const Document d = document_from_text(e.tokenizer, text, o.in.parse_special);
    std::vector<ScoredToken> scored;
    auto s = score_sequence(*e.model, d.ids, so, pool, [&](const ScoredToken& t) { scored.push_back(t); });
    if (!s) return report(s.error());
    const bool color = o.color == "always" || (o.color == "auto" && isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR"));
    print_view(e, text, d.offsets, scored, static_cast<uint64_t>(d.text_bytes), color);
    return 0;
  }
  Printer out(e, o, (*corpus)->stream());
  return for_each_document("score", e.tokenizer, e.model->config().n_vocab, o.in,
                           [&](int64_t doc, Document& d, const Json&) -> int {
                             auto s = score_sequence(*e.model, d.ids, so, pool, [&](const ScoredToken& t) {
                               out.token(doc, d, t);
                               token_progress("score", doc, t.pos, std::ssize(d.ids));
                             });
                             if (!s) return report(s.error());
                             out.summary(doc, d);
                             return 0;
                           },
                           corpus->get());
}

}  // namespace

void register_score(CLI::App& app, Run& run) {
  auto* cmd = app.add_subcommand("score", "Per-token logprob, rank, entropy and top-k alternatives of a text");
  auto o = std::make_shared<Opts>();
  cmd->add_option("-m,--model", o->model, "GGUF model file (default: the bundled demo model)");
  cmd->add_option("-f,--file", o->in.file, "Text file to score ('-' for stdin)");
  o->in.prompt_opt = cmd->add_option("-p,--prompt", o->in.prompt, "Text to score");
  cmd->add_option("--jsonl", o->in.jsonl,
                  "JSONL file, one {\"text\": ...} or {\"ids\": [...]} per line (ids scored as given, no BOS added); "
                  "other fields are copied into the summary");
  cmd->add_option("--top", o->top, "Alternatives per token (0: none)")->check(CLI::Range(0, 1000));
  cmd->add_option("--format", o->format, "jsonl or tsv")->check(CLI::IsMember({"jsonl", "tsv"}));
  cmd->add_option("-t,--threads", o->threads, "Threads (default: all cores)")->check(CLI::Range(0, 1024));
  cmd->add_option("--ctx", o->ctx,
                  "Context window (default: the model's, at most 4096); longer texts are scored with a sliding "
                  "window of this size and stride ctx/2")
      ->check(CLI::Range(int64_t(2), int64_t(1) << 20));
  cmd->add_option("--batch", o->batch, "Positions per forward pass")->check(CLI::Range(int64_t(1), int64_t(8192)));
  cmd->add_flag("--parse-special", o->in.parse_special, "Turn special-token text such as <s> into special tokens");
  auto* precision =
      cmd->add_option("--precision", o->precision, kPrecisionHelp)->check(CLI::IsMember({"exact", "int16", "fast"}));
  cmd->add_flag("--fast", o->fast, "Same as --precision fast")->excludes(precision);
  cmd->add_option("--load", o->load, kLoadHelp)->check(CLI::IsMember({"auto", "copy", "mmap"}));
  cmd->add_flag("--view", o->view,
                "Show the text coloured by surprisal, a legend and a summary (perplexity, bits per byte, the most "
                "surprising tokens) instead of JSON");
  cmd->add_option("--color", o->color, "With --view: auto (colour when stdout is a terminal and NO_COLOR is unset), "
                  "always or never")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  add_shard_options(cmd, o->shard);
  cmd->callback([&run, o] {
    run = [o] {
      auto mp = resolve_model(o->model);
      if (!mp) return report(mp.error());
      o->model = *mp;
      return run_score(*o);
    };
  });
}

}  // namespace ts::cli
