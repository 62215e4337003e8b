// tokenscope mia: membership-inference scores per document — was this text in the model's training data?
// (docs/detection.md §2)
//
//   {"doc":0,<input fields>,"tokens":N,"loss":..,"zlib_ratio":..,"min_k":..,"min_k_plus_plus":..[,"dc_pdd":..]}
//
// Columns, by --method (higher ⇒ member unless noted; formulas in src/analysis/<name>.h):
//   loss             (1/n) Σ log p(x_t), the mean log-likelihood (Yeom et al.)      log_likelihood.h
//   zlib             zlib_ratio = NLL / len(zlib.compress(text)); LOWER ⇒ member   zlib_ratio.h
//   min_k            mean of the --min-k lowest log p(x_t)                          min_k.h
//   min_k_plus_plus  mean of the --min-k lowest (log p(x_t) − μ_t)/σ_t              min_k_plus_plus.h
//   dc_pdd           mean over first occurrences of min(p(x_t)·(−log f(x_t)), a), f from --ref-freq (made by
//                    `tokenscope freq` with the same tokenizer)                      dc_pdd.h
// "all" is every method, dc_pdd only when --ref-freq is given. The zlib length is of the whole text (for ids
// input: the tokens' bytes). "doc" is the document index; an input field of that name is not carried.
// --shard/--out/--resume/--progress: shard.h.
#include <cstdio>

#include "analysis/document_scores.h"
#include "commands.h"
#include "common.h"
#include "documents.h"
#include "runtime/analyzer.h"
#include "shard.h"
#include "runtime/frequency_table.h"

namespace ts::cli {
namespace {

struct Opts {
  std::string model, ref_freq, methods = "all";
  InputOptions in;
  ShardOptions shard;
  double min_k = 0.2, dc_pdd_bound = 0.01;
  int64_t ctx = 0, batch = 256;
  int threads = 0;
};

int run_mia(const Opts& o) {
  const std::vector<std::string> known = {"loss", "zlib", "min_k", "min_k_plus_plus", "dc_pdd"};
  auto methods = parse_method_list("mia", o.methods, known);
  if (!methods) return report(methods.error());
  if (o.ref_freq.empty()) {
    if (o.methods.find("dc_pdd") != std::string::npos)
      return report(Error::input("mia: --method dc_pdd needs a reference frequency table (--ref-freq FILE, made by "
                                 "`tokenscope freq`)"));
    methods->erase("dc_pdd");
  }
  auto want = [&](const char* m) { return methods->count(m) > 0; };
  auto corpus = CorpusOutput::open("mia", o.shard, DocLayout::kOneLine, !o.in.jsonl.empty());
  if (!corpus) return report(corpus.error());
  FILE* f = (*corpus)->stream();
  auto eng = Engine::load(o.model);
  if (!eng) return report(eng.error());
  const Engine& e = **eng;
  std::unique_ptr<analysis::TokenFrequency> freq;
  if (!o.ref_freq.empty()) {
    auto t = read_frequency_table(o.ref_freq);
    if (!t) return report(t.error());
    if (t->vocab_hash != vocabulary_hash(e.tokenizer) ||
        static_cast<int64_t>(t->counts.size()) != e.tokenizer.vocab_size())
      return report(Error::input(o.ref_freq + ": made with another vocabulary (" + std::to_string(t->counts.size()) +
                                 " tokens) than " + o.model + "'s (" + std::to_string(e.tokenizer.vocab_size()) +
                                 " tokens); rebuild it with `tokenscope freq -m " + o.model + "`"));
    freq = std::make_unique<analysis::TokenFrequency>(std::move(t->counts));
  }
  ThreadPool pool(thread_count(o.threads));
  AnalyzerOptions ao;
  ao.ctx = o.ctx;
  ao.batch = o.batch;
  std::vector<analysis::PositionSignals> sig;
  return for_each_document("mia", e.tokenizer, e.model->config().n_vocab, o.in,
                           [&](int64_t doc, Document& d, const Json&) -> int {
    sig.clear();
    auto st = analyze_sequence(*e.model, nullptr, d.ids, ao, pool,
                               [&](const AnalyzedPosition& t) {
                                 sig.push_back(t.signals.front());
                                 token_progress("mia", doc, t.pos, std::ssize(d.ids));
                               });
    if (!st) return report(st.error());
    analysis::DocumentInputs din;
    din.text_bytes = d.text_bytes;
    din.min_k = o.min_k;
    din.dc_pdd_bound = o.dc_pdd_bound;
    if (want("zlib")) din.zlib_bytes = zlib_compressed_bytes(d.text);
    if (want("dc_pdd")) din.frequency = freq.get();
    auto ds = analysis::score_document(sig, din);
    if (!ds) return report(Error::input("mia: document " + std::to_string(doc) + ": " + ds.error().message));
    Json j = {{"doc", doc}};  // the index, which resume and shard merging rely on: no input field replaces it
    for (auto it = d.fields.begin(); it != d.fields.end(); ++it)
      if (it.key() != "doc") j[it.key()] = it.value();
    j["tokens"] = ds->perplexity.tokens;
    if (want("loss")) j["loss"] = round_sig(ds->log_likelihood);
    if (want("zlib")) j["zlib_ratio"] = round_sig(ds->zlib_ratio.value_or(std::nan("")));
    if (want("min_k")) j["min_k"] = round_sig(ds->min_k);
    if (want("min_k_plus_plus")) j["min_k_plus_plus"] = round_sig(ds->min_k_plus_plus);
    if (want("dc_pdd")) j["dc_pdd"] = round_sig(ds->dc_pdd.value_or(std::nan("")));
    const std::string line = dump_json(j) + "\n";
    std::fwrite(line.data(), 1, line.size(), f);
    std::fflush(f);
    return 0;
  }, corpus->get());
}

}  // namespace

void register_mia(CLI::App& app, Run& run) {
  auto* cmd = app.add_subcommand("mia", "Membership-inference scores per document: loss, zlib ratio, Min-K%, "
                                        "Min-K%++, DC-PDD");
  auto o = std::make_shared<Opts>();
  cmd->add_option("-m,--model", o->model, "GGUF model file or name (default: as `score`)");
  add_input_options(cmd, o->in);
  cmd->add_option("--ref-freq", o->ref_freq, "Reference token frequencies for DC-PDD (from `tokenscope freq`)");
  cmd->add_option("--method", o->methods,
                  "all, or a comma-separated list of loss, zlib, min_k, min_k_plus_plus, dc_pdd");
  cmd->add_option("--min-k", o->min_k, "Fraction k of Min-K% and Min-K%++")->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--dc-pdd-bound", o->dc_pdd_bound, "DC-PDD's upper bound a")->check(CLI::PositiveNumber);
  cmd->add_option("-t,--threads", o->threads, "Threads (default: all cores)")->check(CLI::Range(0, 1024));
  cmd->add_option("--ctx", o->ctx, "Context window (default: the model's, at most 4096)")
      ->check(CLI::Range(int64_t(2), int64_t(1) << 20));
  cmd->add_option("--batch", o->batch, "Positions per forward pass")->check(CLI::Range(int64_t(1), int64_t(8192)));
  add_shard_options(cmd, o->shard);
  cmd->callback([&run, o] {
    run = [o] {
      auto mp = resolve_model(o->model);
      if (!mp) return report(mp.error());
      o->model = *mp;
      return run_mia(*o);
    };
  });
}

}  // namespace ts::cli
