// tokenscope analyze: per-token uncertainty signals and a per-document summary (docs/detection.md §3, §4).
//
// Output (jsonl): per predicted token, then one summary per document; the fields, their order and rounding are
// runtime/analysis_record.h's (shared with POST /v1/analyze):
//   {"doc":0,"pos":1,"id":..,"token":"▁The","offset":0,"logprob":..,"rank":..,"entropy":..,"varentropy":..,
//    "max_prob":..,"margin":..,"typicality":..,"window_entropy":..,"hwe":false,"forking":false[,"top":[..]]}
//   {"doc":0,"summary":{<input fields>,"tokens":N,"nll":..,"nll_sum":..,"ppl":..,"bytes":..,"bits_per_byte":..,
//    "mean_entropy":..,"max_entropy":..,"mean_varentropy":..,"forking_tokens":..,"chow_quantiles":[11 values],
//    "highest_entropy_span":{"pos":[b,e],"mean_entropy":..,"text":".."}}}
// --window sets the window entropy's and the highest-entropy span's window, --top-fraction the share of tokens
// flagged hwe and forking, --top the alternatives. tsv: one row per token with the same values unrounded (%.6f),
// summaries on stderr. --shard/--out/--resume/--progress (jsonl only): shard.h.
#include <cstdio>

#include "commands.h"
#include "common.h"
#include "documents.h"
#include "runtime/analysis_record.h"
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

void print_document(FILE* f, const Opts& o, const Tokenizer& tok, int64_t doc, const Document& d,
                    const std::vector<AnalyzedPosition>& toks) {
  const TokenizedText text{d.text, d.offsets, d.text_bytes};
  const TokenAnalysis a = analyze_tokens(toks, o.window, o.top_fraction);
  const bool tsv = o.format == "tsv";
  std::string out;
  if (!o.summary_only) {
    for (size_t i = 0; i < toks.size(); ++i) {
      if (tsv) {
        const analysis::PositionSignals& s = a.signals[i];
        char line[512];
        std::snprintf(line, sizeof line, "%lld\t%lld\t%d\t%s\t%u\t%.6f\t%lld\t%.6f\t%.6f\t%.6f\t%.6f\t%.6f\t%.6f\t%d\t%d\n",
                      (long long)doc, (long long)toks[i].pos, s.id, tsv_escape(token_text_or_empty(tok, s.id)).c_str(),
                      d.offsets[static_cast<size_t>(toks[i].pos)], s.logprob, (long long)s.rank, s.entropy,
                      s.varentropy, s.max_prob, s.margin, a.typicality[i], a.window_entropy[i], a.hwe[i],
                      a.forking[i]);
        out += line;
        continue;
      }
      out += dump_json(analysis_token_record(doc, toks, a, i, text, tok, o.top > 0));
      out += '\n';
    }
  }
  std::fwrite(out.data(), 1, out.size(), f);

  auto sum = summarize_analysis(toks, a, text);  // only DC-PDD can fail, and it is not asked for
  if (!sum) return;
  if (tsv) {
    const analysis::Perplexity& p = sum->scores.perplexity;
    std::fprintf(stderr, "doc %lld: tokens %lld, nll %.6f, ppl %.4f, bits/byte %.6f, mean entropy %.4f\n",
                 (long long)doc, (long long)p.tokens, p.nll_mean, p.ppl, p.bits_per_byte, sum->scores.mean_entropy);
  } else {
    const std::string line = dump_json(Json{{"doc", doc}, {"summary", analysis_summary_record(*sum, d.fields)}}) + "\n";
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
