// tokenscope detect: zero-shot machine-generated-text detectors, one JSON object per document (docs/detection.md §1).
//
//   {"doc":0,<input fields>,"tokens":N,"log_likelihood":..,"log_rank":..,"lrr":..,"neg_entropy":..,
//    "fast_detectgpt":..[,"fast_detectgpt_white_box":..],"binoculars":..[,"terms":{..}]}
//
// Columns, by --method (higher ⇒ machine-written unless noted; formulas in src/analysis/<name>.h):
//   log_likelihood  (1/n) Σ log p(x_t)                      log_likelihood.h
//   log_rank        −(1/n) Σ log rank(x_t)                   log_rank.h
//   lrr             −Σ log p / Σ log rank                    lrr.h (+inf → null when every token ranks first)
//   entropy         neg_entropy = −(1/n) Σ H(p_t)            mean_entropy.h
//   fast_detectgpt  analytic curvature with scoring model p = -m and sampling model q = --sampler-model (default
//                   q = p, white-box); with a sampler, fast_detectgpt_white_box (q = p) too    fast_detectgpt.h
//   binoculars      log PPL(performer) / X-PPL(observer → performer); LOWER ⇒ machine       binoculars.h
//                   performer default -m, observer default the sampler model (so one extra model serves both
//                   methods); with observer = performer it is NLL / mean entropy of the one model.
// Models are run in lockstep, each once per document whatever its roles (runtime/analyzer.h); all must share the
// scoring model's vocabulary. --terms adds the sums each score is made of. "doc" is the document index; an input
// field of that name is not carried. --shard/--out/--resume/--progress: shard.h.
#include <cmath>
#include <cstdio>

#include "analysis/document_scores.h"
#include "commands.h"
#include "common.h"
#include "documents.h"
#include "model_set.h"
#include "runtime/analyzer.h"
#include "runtime/detection_record.h"
#include "shard.h"

namespace ts::cli {
namespace {

const std::vector<std::string>& detect_methods() {
  static const std::vector<std::string> m = {"log_likelihood", "log_rank", "lrr", "entropy", "fast_detectgpt",
                                             "binoculars"};
  return m;
}

struct Opts {
  std::string scorer, sampler, observer, performer, methods = "all";
  InputOptions in;
  ShardOptions shard;
  int64_t ctx = 0, batch = 256;
  int threads = 0;
  bool terms = false;
};

int run_detect(const Opts& o) {
  auto methods = parse_method_list("detect", o.methods, detect_methods());
  if (!methods) return report(methods.error());
  auto want = [&](const char* m) { return methods->count(m) > 0; };
  auto corpus = CorpusOutput::open("detect", o.shard, DocLayout::kOneLine, !o.in.jsonl.empty());
  if (!corpus) return report(corpus.error());
  FILE* f = (*corpus)->stream();
  ModelSet set;
  auto scorer = set.load(o.scorer);
  if (!scorer) return report(scorer.error());
  auto load_or = [&](const std::string& given, const Engine* dflt) -> Expected<const Engine*> {
    if (given.empty()) return dflt;
    return set.load(given);
  };
  auto sampler = load_or(o.sampler, *scorer);
  if (!sampler) return report(sampler.error());
  auto performer = load_or(o.performer, *scorer);
  if (!performer) return report(performer.error());
  auto observer = load_or(o.observer, *sampler);
  if (!observer) return report(observer.error());

  // pair 0: scoring p with sampling q (white-box when q = p); pair 1: performer with observer, when needed
  std::vector<SignalPair> pairs = {{(*scorer)->model.get(), *sampler == *scorer ? nullptr : (*sampler)->model.get()}};
  const bool same_model_binoculars = *observer == *performer;
  size_t bino_pair = 0;
  if (want("binoculars") && (*performer != *scorer || *observer != *sampler)) {
    pairs.push_back({(*performer)->model.get(), same_model_binoculars ? nullptr : (*observer)->model.get()});
    bino_pair = 1;
  }
  // which file plays which role, when more than one is involved
  if (*sampler != *scorer || (want("binoculars") && (*observer != *scorer || *performer != *scorer))) {
    std::fprintf(stderr, "detect: scoring %s", set.path_of(*scorer).c_str());
    if (*sampler != *scorer) std::fprintf(stderr, ", sampling %s", set.path_of(*sampler).c_str());
    if (want("binoculars"))
      std::fprintf(stderr, "; binoculars observer %s, performer %s", set.path_of(*observer).c_str(),
                   set.path_of(*performer).c_str());
    std::fprintf(stderr, "\n");
  }

  ThreadPool pool(thread_count(o.threads));
  AnalyzerOptions ao;
  ao.ctx = o.ctx;
  ao.batch = o.batch;
  std::vector<std::vector<analysis::PositionSignals>> sig(pairs.size());
  const Engine& e = **scorer;
  return for_each_document("detect", e.tokenizer, e.model->config().n_vocab, o.in,
                           [&](int64_t doc, Document& d, const Json&) -> int {
    for (auto& s : sig) s.clear();
    auto st = analyze_sequence(pairs, d.ids, ao, pool, [&](const AnalyzedPosition& t) {
      for (size_t p = 0; p < pairs.size(); ++p) sig[p].push_back(t.signals[p]);
      token_progress("detect", doc, t.pos, std::ssize(d.ids));
    });
    if (!st) return report(st.error());
    analysis::DocumentInputs din;
    din.text_bytes = d.text_bytes;
    auto ds = analysis::score_document(sig[0], din);
    if (!ds) return report(ds.error());
    Json j = {{"doc", doc}};  // the index, which resume and shard merging rely on: no input field replaces it
    for (auto it = d.fields.begin(); it != d.fields.end(); ++it)
      if (it.key() != "doc") j[it.key()] = it.value();
    j["tokens"] = ds->perplexity.tokens;
    Json terms = Json::object();
    if (auto st = add_detection_scores(*ds, sig[bino_pair], same_model_binoculars, want, j, terms); !st)
      return report(st.error());
    if (o.terms) j["terms"] = std::move(terms);
    const std::string line = dump_json(j) + "\n";
    std::fwrite(line.data(), 1, line.size(), f);
    std::fflush(f);
    return 0;
  }, corpus->get());
}

}  // namespace

void register_detect(CLI::App& app, Run& run) {
  auto* cmd = app.add_subcommand("detect", "Machine-generated-text detectors per document: log-likelihood, log-rank, "
                                           "LRR, entropy, Fast-DetectGPT, Binoculars");
  auto o = std::make_shared<Opts>();
  cmd->add_option("-m,--model", o->scorer, "Scoring model p (default: as `score`)");
  cmd->add_option("--sampler-model", o->sampler, "Fast-DetectGPT's sampling (reference) model q (default: -m)");
  cmd->add_option("--observer", o->observer, "Binoculars' observer M1 (default: the sampling model)");
  cmd->add_option("--performer", o->performer, "Binoculars' performer M2 (default: -m)");
  add_input_options(cmd, o->in);
  cmd->add_option("--method", o->methods,
                  "all, or a comma-separated list of log_likelihood, log_rank, lrr, entropy, fast_detectgpt, "
                  "binoculars");
  cmd->add_flag("--terms", o->terms, "Add the sums each score is made of (\"terms\")");
  cmd->add_option("-t,--threads", o->threads, "Threads (default: all cores)")->check(CLI::Range(0, 1024));
  cmd->add_option("--ctx", o->ctx, "Context window (default: the smallest of the models', at most 4096)")
      ->check(CLI::Range(int64_t(2), int64_t(1) << 20));
  cmd->add_option("--batch", o->batch, "Positions per forward pass")->check(CLI::Range(int64_t(1), int64_t(8192)));
  add_shard_options(cmd, o->shard);
  cmd->callback([&run, o] { run = [o] { return run_detect(*o); }; });
}

}  // namespace ts::cli
