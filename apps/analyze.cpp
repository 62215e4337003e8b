// tokenscope analyze: per-token uncertainty signals and a per-document summary (docs/detection.md §3, §4).
//
// Output (jsonl): per predicted token, then one summary per document:
//   {"doc":0,"pos":1,"id":..,"token":"▁The","offset":0,"logprob":..,"rank":..,"entropy":..,"varentropy":..,
//    "max_prob":..,"margin":..,"typicality":..,"window_entropy":..,"hwe":false,"forking":false[,"top":[..]]}
//   {"doc":0,"summary":{<input fields>,"tokens":N,"nll":..,"nll_sum":..,"ppl":..,"bytes":..,"bits_per_byte":..,
//    "mean_entropy":..,"max_entropy":..,"mean_varentropy":..,"forking_tokens":..,"chow_quantiles":[11 values],
//    "highest_entropy_span":{"pos":[b,e],"mean_entropy":..,"text":".."}}}
// typicality = |−log p(x) − H| (how far the token's surprisal is from the expected one); window_entropy = the
// mean entropy over the trailing --window tokens (ARES); hwe = window entropy in the document's top
// --top-fraction; forking = entropy in the top --top-fraction (the 80/20 paper); chow_quantiles = quantiles of
// p(x_t) at α = 0, 0.1, …, 1 (cascades paper); highest_entropy_span = the --window consecutive tokens with the
// highest mean entropy, pos = [first, last + 1) in the token sequence. tsv: one row per token, summaries on stderr.
// --shard/--out/--resume/--progress (jsonl only): shard.h.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "analysis/chow_quantiles.h"
#include "analysis/document_scores.h"
#include "analysis/forking_tokens.h"
#include "analysis/window_entropy.h"
#include "commands.h"
#include "common.h"
#include "documents.h"
#include "runtime/analyzer.h"
#include "shard.h"

namespace ts::cli {
namespace {

struct Opts {
  std::string model, format = "jsonl";
  InputOptions in;
  ShardOptions shard;
  int64_t window = 8, ctx = 0, batch = 256;
  double top_fraction = 0.2;
  int top = 0, threads = 0;
  bool summary_only = false;
};

// The text of token positions [b, e) of d.
std::string span_text(const Document& d, int64_t b, int64_t e) {
  if (b >= static_cast<int64_t>(d.offsets.size())) return "";
  const size_t from = std::min<size_t>(d.offsets[static_cast<size_t>(b)], d.text.size());
  const size_t to = e < static_cast<int64_t>(d.offsets.size())
                        ? std::min<size_t>(d.offsets[static_cast<size_t>(e)], d.text.size())
                        : d.text.size();
  return to > from ? d.text.substr(from, to - from) : std::string();
}

void print_document(FILE* f, const Opts& o, const Tokenizer& tok, int64_t doc, const Document& d,
                    const std::vector<AnalyzedPosition>& toks) {
  std::vector<analysis::PositionSignals> sig;
  sig.reserve(toks.size());
  for (const AnalyzedPosition& t : toks) sig.push_back(t.signals.front());
  const std::vector<double> we = analysis::window_entropy(sig, o.window);
  const std::vector<uint8_t> hwe = analysis::high_window_entropy_flags(sig, o.window, o.top_fraction);
  const std::vector<uint8_t> fork = analysis::forking_token_flags(sig, o.top_fraction);
  const bool tsv = o.format == "tsv";
  std::string out;
  if (!o.summary_only) {
    for (size_t i = 0; i < toks.size(); ++i) {
      const AnalyzedPosition& t = toks[i];
      const analysis::PositionSignals& s = sig[i];
      const uint32_t off = d.offsets[static_cast<size_t>(t.pos)];
      const double typicality = std::fabs(s.logprob + s.entropy);
      if (tsv) {
        char line[512];
        std::snprintf(line, sizeof line, "%lld\t%lld\t%d\t%s\t%u\t%.6f\t%lld\t%.6f\t%.6f\t%.6f\t%.6f\t%.6f\t%.6f\t%d\t%d\n",
                      (long long)doc, (long long)t.pos, s.id, tsv_escape(token_text_or_empty(tok, s.id)).c_str(), off,
                      s.logprob, (long long)s.rank, s.entropy, s.varentropy, s.max_prob, s.margin, typicality, we[i],
                      hwe[i], fork[i]);
        out += line;
        continue;
      }
      Json j = {{"doc", doc},
                {"pos", t.pos},
                {"id", s.id},
                {"token", token_text_or_empty(tok, s.id)},
                {"offset", off},
                {"logprob", round6(s.logprob)},
                {"rank", s.rank},
                {"entropy", round6(s.entropy)},
                {"varentropy", round6(s.varentropy)},
                {"max_prob", round6(s.max_prob)},
                {"margin", round6(s.margin)},
                {"typicality", round6(typicality)},
                {"window_entropy", round6(we[i])},
                {"hwe", hwe[i] != 0},
                {"forking", fork[i] != 0}};
      if (o.top > 0) {
        Json top = Json::array();
        for (const TopEntry& a : t.stats.top)
          top.push_back({{"id", a.id}, {"token", token_text_or_empty(tok, a.id)}, {"logprob", round6(a.logprob)}});
        j["top"] = std::move(top);
      }
      out += dump_json(j);
      out += '\n';
    }
  }
  std::fwrite(out.data(), 1, out.size(), f);

  analysis::DocumentInputs din;
  din.text_bytes = d.text_bytes;
  din.entropy_window = o.window;
  auto ds = analysis::score_document(sig, din);  // only DC-PDD can fail, and it is not asked for
  if (!ds) return;
  double max_h = sig.empty() ? std::numeric_limits<double>::quiet_NaN() : 0.0, var_sum = 0;
  int64_t forks = 0;
  for (size_t i = 0; i < sig.size(); ++i) {
    max_h = std::max(max_h, sig[i].entropy);
    var_sum += sig[i].varentropy;
    forks += fork[i];
  }
  const analysis::Perplexity& p = ds->perplexity;
  Json s = d.fields;
  s["tokens"] = p.tokens;
  s["nll"] = round6(p.nll_mean);
  s["nll_sum"] = round6(p.nll_sum);
  s["ppl"] = round6(p.ppl);
  s["bytes"] = d.text_bytes;
  s["bits_per_byte"] = round6(p.bits_per_byte);
  s["mean_entropy"] = round6(ds->mean_entropy);
  s["max_entropy"] = round6(max_h);
  s["mean_varentropy"] = round6(sig.empty() ? std::numeric_limits<double>::quiet_NaN()
                                            : var_sum / static_cast<double>(sig.size()));
  s["forking_tokens"] = forks;
  Json q = Json::array();
  for (double x : ds->chow_quantiles) q.push_back(round6(x));
  s["chow_quantiles"] = std::move(q);
  if (!toks.empty()) {
    const analysis::EntropySpan& h = ds->highest_entropy_span;
    const int64_t b = toks[static_cast<size_t>(h.begin)].pos;
    const int64_t e = toks[static_cast<size_t>(h.end - 1)].pos + 1;
    s["highest_entropy_span"] = {{"pos", {b, e}}, {"mean_entropy", round6(h.mean_entropy)}, {"text", span_text(d, b, e)}};
  }
  if (tsv) {
    std::fprintf(stderr, "doc %lld: tokens %lld, nll %.6f, ppl %.4f, bits/byte %.6f, mean entropy %.4f\n",
                 (long long)doc, (long long)p.tokens, p.nll_mean, p.ppl, p.bits_per_byte, ds->mean_entropy);
  } else {
    const std::string line = dump_json(Json{{"doc", doc}, {"summary", std::move(s)}}) + "\n";
    std::fwrite(line.data(), 1, line.size(), f);
  }
  std::fflush(f);
}

int run_analyze(const Opts& o) {
  if (o.format == "tsv" && !o.shard.out_dir.empty())
    return report(Error::input("analyze: --out writes jsonl; --format tsv prints to stdout"));
  auto corpus = CorpusOutput::open("analyze", o.shard, DocLayout::kLinesThenSummary, !o.in.jsonl.empty());
  if (!corpus) return report(corpus.error());
  FILE* f = (*corpus)->stream();
  auto eng = Engine::load(o.model);
  if (!eng) return report(eng.error());
  const Engine& e = **eng;
  ThreadPool pool(thread_count(o.threads));
  AnalyzerOptions ao;
  ao.ctx = o.ctx;
  ao.batch = o.batch;
  ao.top_k = o.top;
  if (o.format == "tsv")
    std::fprintf(f, "doc\tpos\tid\ttoken\toffset\tlogprob\trank\tentropy\tvarentropy\tmax_prob\tmargin\ttypicality\t"
                "window_entropy\thwe\tforking\n");
  std::vector<AnalyzedPosition> toks;
  return for_each_document("analyze", e.tokenizer, e.model->config().n_vocab, o.in,
                           [&](int64_t doc, Document& d, const Json&) -> int {
                             toks.clear();
                             auto s = analyze_sequence(*e.model, nullptr, d.ids, ao, pool,
                                                       [&](const AnalyzedPosition& t) {
                                                         toks.push_back(t);
                                                         token_progress("analyze", doc, t.pos, std::ssize(d.ids));
                                                       });
                             if (!s) return report(s.error());
                             print_document(f, o, e.tokenizer, doc, d, toks);
                             return 0;
                           },
                           corpus->get());
}

}  // namespace

void register_analyze(CLI::App& app, Run& run) {
  auto* cmd = app.add_subcommand("analyze", "Per-token uncertainty signals (entropy, varentropy, margin, window "
                                            "entropy, forking tokens) and a per-document summary");
  auto o = std::make_shared<Opts>();
  cmd->add_option("-m,--model", o->model, "GGUF model file or name (default: as `score`)");
  add_input_options(cmd, o->in);
  cmd->add_option("--window", o->window, "Window of the window entropy and of the highest-entropy span (ARES)")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 20));
  cmd->add_option("--top-fraction", o->top_fraction,
                  "Fraction of tokens flagged as forking (by entropy) and hwe (by window entropy)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--top", o->top, "Alternatives per token (0: none)")->check(CLI::Range(0, 1000));
  cmd->add_option("--format", o->format, "jsonl or tsv")->check(CLI::IsMember({"jsonl", "tsv"}));
  cmd->add_flag("--summary-only", o->summary_only, "Print only the per-document summaries");
  cmd->add_option("-t,--threads", o->threads, "Threads (default: all cores)")->check(CLI::Range(0, 1024));
  cmd->add_option("--ctx", o->ctx, "Context window (default: the model's, at most 4096); longer texts slide with "
                                   "stride ctx/2 as in `score`")
      ->check(CLI::Range(int64_t(2), int64_t(1) << 20));
  cmd->add_option("--batch", o->batch, "Positions per forward pass")->check(CLI::Range(int64_t(1), int64_t(8192)));
  add_shard_options(cmd, o->shard);
  cmd->callback([&run, o] {
    run = [o] {
      auto mp = resolve_model(o->model);
      if (!mp) return report(mp.error());
      o->model = *mp;
      return run_analyze(*o);
    };
  });
}

}  // namespace ts::cli
