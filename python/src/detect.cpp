// Model.detect: the zero-shot detectors of `tokenscope detect` (apps/detect.cpp), one value per document.
//
// Roles as in the CLI: this model is the scoring model p (Fast-DetectGPT) and Binoculars' default performer;
// `sampler` is Fast-DetectGPT's sampling model q (default: p, white-box); `observer` is Binoculars' observer
// (default: the sampler); `performer` Binoculars' performer (default: p). Each model runs once per document in
// lockstep (runtime/analyzer.h); the formulas live in src/analysis/<name>.h. Columns (numpy, one entry per document):
// tokens, log_likelihood, log_rank, lrr, neg_entropy, fast_detectgpt [, fast_detectgpt_white_box with a sampler],
// binoculars — the CLI's keys, unrounded (the CLI rounds to 10 significant digits; lrr's +inf is its null).
#include <nanobind/stl/string.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "analysis/binoculars.h"
#include "analysis/document_scores.h"
#include "common.h"
#include "runtime/analyzer.h"
#include "tensor/thread_pool.h"

namespace ts::py {
namespace {

const std::vector<std::string>& detect_methods() {
  static const std::vector<std::string> m = {"log_likelihood", "log_rank", "lrr", "entropy", "fast_detectgpt",
                                             "binoculars"};
  return m;
}

// "all" or a comma-separated list (apps/documents.cpp parse_method_list, same messages).
std::set<std::string> parse_methods(const std::string& list) {
  const std::vector<std::string>& known = detect_methods();
  std::set<std::string> out;
  std::stringstream ss(list);
  for (std::string m; std::getline(ss, m, ',');) {
    if (m.empty()) continue;
    if (m == "all") {
      out.insert(known.begin(), known.end());
      continue;
    }
    if (std::find(known.begin(), known.end(), m) == known.end()) {
      std::string all = "all";
      for (const auto& k : known) all += ", " + k;
      throw nb::value_error(("detect: methods: unknown method '" + m + "' (one of " + all + ")").c_str());
    }
    out.insert(m);
  }
  if (out.empty()) throw nb::value_error("detect: methods: no method given");
  return out;
}

// Two Model objects of one file play one role set, as the CLI's ModelSet loads a file once.
std::string canonical(const std::string& path) {
  std::error_code ec;
  const auto c = std::filesystem::weakly_canonical(path, ec);
  return ec ? path : c.string();
}

}  // namespace

void bind_detect(nb::module_& m, nb::class_<PyModel>& model) {
  model.def(
      "detect",
      [](const PyModel& self, nb::handle docs, const std::string& methods_spec, const PyModel* sampler_arg,
         const PyModel* observer_arg, const PyModel* performer_arg, int64_t ctx, int64_t batch, bool parse_special) {
        const std::set<std::string> methods = parse_methods(methods_spec);
        auto want = [&](const char* name) { return methods.count(name) > 0; };
        if (ctx != 0 && ctx < 2)
          throw nb::value_error(("detect: ctx: value " + std::to_string(ctx) + " too small (need at least 2)").c_str());
        if (batch < 1 || batch > 8192)
          throw nb::value_error(("detect: batch: value " + std::to_string(batch) + " out of range 1..8192").c_str());
        // one Engine per distinct file, the scoring model first
        std::vector<const PyModel*> set = {&self};
        auto unique = [&](const PyModel* p) -> const PyModel* {
          if (!p) return nullptr;
          for (const PyModel* q : set)
            if (q == p || canonical(q->path) == canonical(p->path)) return q;
          if (auto s = check_shared_vocabulary(*self.engine, self.path, *p->engine, p->path); !s) raise(s.error());
          set.push_back(p);
          return p;
        };
        const PyModel* scorer = &self;
        const PyModel* sampler = sampler_arg ? unique(sampler_arg) : scorer;
        const PyModel* performer = performer_arg ? unique(performer_arg) : scorer;
        const PyModel* observer = observer_arg ? unique(observer_arg) : sampler;

        // pair 0: scoring p with sampling q (white-box when q = p); pair 1: performer with observer, when needed
        std::vector<SignalPair> pairs = {
            {scorer->engine->model.get(), sampler == scorer ? nullptr : sampler->engine->model.get()}};
        const bool same_model_binoculars = observer == performer;
        size_t bino_pair = 0;
        if (want("binoculars") && (performer != scorer || observer != sampler)) {
          pairs.push_back(
              {performer->engine->model.get(), same_model_binoculars ? nullptr : observer->engine->model.get()});
          bino_pair = 1;
        }
        const Engine& e = *self.engine;
        std::vector<DocInput> in = doc_inputs(docs, e.model->config().n_vocab);
        std::vector<std::map<std::string, double>> rows;  // one per document; a score the run lacks is absent
        std::vector<int64_t> tokens;
        Status st = ok_status();
        {
          nb::gil_scoped_release nogil;
          ThreadPool pool(self.threads);
          AnalyzerOptions ao;
          ao.ctx = ctx;
          ao.batch = batch;
          std::vector<std::vector<analysis::PositionSignals>> sig(pairs.size());
          for (size_t i = 0; i < in.size() && st; ++i) {
            const TokenizedDoc d = tokenize_doc(e, in[i], parse_special);
            for (auto& s : sig) s.clear();
            st = analyze_sequence(pairs, d.ids, ao, pool, [&](const AnalyzedPosition& t) {
              for (size_t p = 0; p < pairs.size(); ++p) sig[p].push_back(t.signals[p]);
            });
            if (!st) break;
            analysis::DocumentInputs din;
            din.text_bytes = d.text_bytes;
            auto ds = analysis::score_document(sig[0], din);
            if (!ds) {
              st = ds.error();
              break;
            }
            tokens.push_back(ds->perplexity.tokens);
            std::map<std::string, double>& col = rows.emplace_back();
            if (want("log_likelihood")) col["log_likelihood"] = ds->log_likelihood;
            if (want("log_rank")) col["log_rank"] = ds->log_rank;
            if (want("lrr")) col["lrr"] = ds->lrr;
            if (want("entropy")) col["neg_entropy"] = -ds->mean_entropy;
            if (want("fast_detectgpt")) {
              const analysis::FastDetectGptTerms& main =
                  ds->fast_detectgpt_reference ? *ds->fast_detectgpt_reference : ds->fast_detectgpt_white_box;
              col["fast_detectgpt"] = main.score;
              if (ds->fast_detectgpt_reference)
                col["fast_detectgpt_white_box"] = ds->fast_detectgpt_white_box.score;
            }
            if (want("binoculars")) {
              std::vector<analysis::PositionSignals>& b = sig[bino_pair];
              if (same_model_binoculars)  // observer = performer: H(M1_t, M2_t) = H(M2_t)
                for (analysis::PositionSignals& p : b) {
                  p.has_reference = true;
                  p.contrast.cross_ab = p.entropy;
                }
              auto bt = analysis::binoculars(b);
              if (!bt) {
                st = bt.error();
                break;
              }
              col["binoculars"] = bt->score;
            }
          }
        }
        if (!st) raise(st.error());
        nb::dict out;
        out["tokens"] = numpy_from(std::move(tokens));
        // the CLI's column order; NaN where the CLI prints null or leaves the key out (a document with no
        // predicted token)
        for (const char* k : {"log_likelihood", "log_rank", "lrr", "neg_entropy", "fast_detectgpt",
                              "fast_detectgpt_white_box", "binoculars"}) {
          if (std::none_of(rows.begin(), rows.end(), [&](const auto& r) { return r.count(k) > 0; })) continue;
          std::vector<double> v;
          for (const auto& r : rows) v.push_back(r.count(k) ? r.at(k) : std::numeric_limits<double>::quiet_NaN());
          out[k] = numpy_from(std::move(v));
        }
        return out;
      },
      nb::arg("docs"), nb::arg("methods") = "all", nb::arg("sampler") = nb::none(), nb::arg("observer") = nb::none(),
      nb::arg("performer") = nb::none(), nb::arg("ctx") = 0, nb::arg("batch") = 256, nb::arg("parse_special") = false,
      "Zero-shot machine-text detectors per document, as `tokenscope detect`; returns a dict of numpy arrays with "
      "one value per document.\n\n"
      "methods: 'all' or a comma-separated list of log_likelihood, log_rank, lrr, entropy (column neg_entropy), "
      "fast_detectgpt, binoculars. This model is the scoring model p. sampler: Fast-DetectGPT's sampling model q "
      "(default: this model, white-box; with one, fast_detectgpt_white_box is added). observer: Binoculars' "
      "observer (default: the sampler). performer: Binoculars' performer (default: this model). Higher ⇒ machine, "
      "except binoculars (lower ⇒ machine). Models must share the vocabulary. The GIL is released while the "
      "models run.");
}

}  // namespace ts::py
