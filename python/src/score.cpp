// Model.score: the numbers of `tokenscope score --jsonl`, as numpy arrays per document.
//
// For each document, entry j of every per-token array describes the predicted token ids[pos_j] given ids[0..pos_j)
// (pos_j = j + 1, or later for none: every position 1..n−1 is scored, windowing as runtime/scorer.h). The summary
// is the CLI's: tokens, nll = mean −logprob, nll_sum, ppl = exp(nll), bytes (text the predicted tokens cover),
// bits_per_byte = nll_sum / ln 2 / bytes. Values are not rounded (the CLI's JSON rounds to 6 decimals).
#include <nanobind/stl/string.h>

#include <cmath>
#include <limits>

#include "common.h"
#include "runtime/scorer.h"
#include "tensor/thread_pool.h"

namespace ts::py {
namespace {

struct ScoredDoc {
  std::vector<int32_t> input_ids;   // the whole sequence, BOS included
  std::vector<int32_t> token_ids;   // predicted tokens: input_ids[1..]
  std::vector<int64_t> positions, offsets, rank;
  std::vector<double> logprob, entropy, varentropy;
  std::vector<int32_t> top_ids;     // [n, top], −1 past the end of a shorter list
  std::vector<double> top_logprobs; // [n, top], −inf past the end
  double nll_sum = 0;
  int64_t text_bytes = 0;
};

struct ScoreResult {
  nb::object input_ids, token_ids, positions, offsets, logprob, entropy, varentropy, rank, top_ids, top_logprobs;
  nb::dict summary;
  int64_t n = 0;
};

Status score_one(const Engine& e, const TokenizedDoc& d, const ScoreOptions& so, ThreadPool& pool, ScoredDoc& out) {
  const size_t k = static_cast<size_t>(so.top_k);
  const size_t n = d.ids.size() > 1 ? d.ids.size() - 1 : 0;
  out.input_ids = d.ids;
  out.text_bytes = d.text_bytes;
  out.token_ids.reserve(n), out.positions.reserve(n), out.offsets.reserve(n), out.rank.reserve(n);
  out.logprob.reserve(n), out.entropy.reserve(n), out.varentropy.reserve(n);
  out.top_ids.assign(n * k, -1);
  out.top_logprobs.assign(n * k, -std::numeric_limits<double>::infinity());
  size_t row = 0;
  return score_sequence(*e.model, d.ids, so, pool, [&](const ScoredToken& t) {
    const TokenStats& s = t.stats;
    out.token_ids.push_back(s.id);
    out.positions.push_back(t.pos);
    out.offsets.push_back(d.offsets[static_cast<size_t>(t.pos)]);
    out.logprob.push_back(s.logprob);
    out.entropy.push_back(s.entropy);
    out.varentropy.push_back(s.varentropy);
    out.rank.push_back(s.rank);
    out.nll_sum -= s.logprob;
    for (size_t j = 0; j < s.top.size() && j < k; ++j) {
      out.top_ids[row * k + j] = s.top[j].id;
      out.top_logprobs[row * k + j] = s.top[j].logprob;
    }
    ++row;
  });
}

ScoreResult to_python(ScoredDoc&& d, size_t k) {
  ScoreResult r;
  const size_t n = d.token_ids.size();
  r.n = static_cast<int64_t>(n);
  const double mean = n ? d.nll_sum / static_cast<double>(n) : 0.0;
  r.summary["tokens"] = r.n;
  r.summary["nll"] = mean;
  r.summary["nll_sum"] = d.nll_sum;
  r.summary["ppl"] = std::exp(mean);
  r.summary["bytes"] = d.text_bytes;
  r.summary["bits_per_byte"] =
      d.text_bytes ? d.nll_sum / std::log(2.0) / static_cast<double>(d.text_bytes) : 0.0;
  d.top_ids.resize(n * k);
  d.top_logprobs.resize(n * k);
  r.input_ids = numpy_from(std::move(d.input_ids));
  r.token_ids = numpy_from(std::move(d.token_ids));
  r.positions = numpy_from(std::move(d.positions));
  r.offsets = numpy_from(std::move(d.offsets));
  r.logprob = numpy_from(std::move(d.logprob));
  r.entropy = numpy_from(std::move(d.entropy));
  r.varentropy = numpy_from(std::move(d.varentropy));
  r.rank = numpy_from(std::move(d.rank));
  r.top_ids = numpy_from(std::move(d.top_ids), {n, k});
  r.top_logprobs = numpy_from(std::move(d.top_logprobs), {n, k});
  return r;
}

}  // namespace

void bind_score(nb::module_& m, nb::class_<PyModel>& model) {
  nb::class_<ScoreResult>(m, "ScoreResult",
                          "One scored document: numpy arrays with one entry per predicted token (every token but "
                          "the first), and the summary.")
      .def_ro("input_ids", &ScoreResult::input_ids, "int32 [n+1]: the whole token sequence, BOS included.")
      .def_ro("token_ids", &ScoreResult::token_ids, "int32 [n]: the predicted tokens (input_ids[1:]).")
      .def_ro("positions", &ScoreResult::positions, "int64 [n]: index of each predicted token in input_ids.")
      .def_ro("offsets", &ScoreResult::offsets,
              "int64 [n]: byte offset of each token's text in the UTF-8 input (ids input: in the concatenated token "
              "bytes).")
      .def_ro("logprob", &ScoreResult::logprob, "float64 [n]: log p(token | the tokens before it), natural log.")
      .def_ro("entropy", &ScoreResult::entropy, "float64 [n]: entropy of the next-token distribution, nats.")
      .def_ro("varentropy", &ScoreResult::varentropy, "float64 [n]: variance of log p under p, nats².")
      .def_ro("rank", &ScoreResult::rank, "int64 [n]: rank of the token, 1 = most likely.")
      .def_ro("top_ids", &ScoreResult::top_ids, "int32 [n, top]: the most likely tokens, most likely first.")
      .def_ro("top_logprobs", &ScoreResult::top_logprobs, "float64 [n, top]: their log-probabilities.")
      .def_ro("summary", &ScoreResult::summary,
              "dict: tokens, nll (mean negative log-likelihood, nats), nll_sum, ppl = exp(nll), bytes, "
              "bits_per_byte = nll_sum / ln 2 / bytes (as `tokenscope score`).")
      .def("__len__", [](const ScoreResult& r) { return r.n; })
      .def("__repr__", [](const ScoreResult& r) {
        return "ScoreResult(tokens=" + std::to_string(r.n) + ", summary=" + nb::cast<std::string>(nb::repr(r.summary)) +
               ")";
      });

  model.def(
      "score",
      [](const PyModel& self, nb::handle docs, int top, int64_t ctx, int64_t batch, bool parse_special) {
        if (top < 0 || top > 1000)
          throw nb::value_error(("score: top: value " + std::to_string(top) + " out of range 0..1000").c_str());
        if (ctx != 0 && ctx < 2)
          throw nb::value_error(("score: ctx: value " + std::to_string(ctx) + " too small (need at least 2)").c_str());
        if (batch < 1 || batch > 8192)
          throw nb::value_error(("score: batch: value " + std::to_string(batch) + " out of range 1..8192").c_str());
        const Engine& e = *self.engine;
        std::vector<DocInput> in = doc_inputs(docs, e.model->config().n_vocab);
        std::vector<ScoredDoc> out(in.size());
        Status st = ok_status();
        {
          nb::gil_scoped_release nogil;
          ThreadPool pool(self.threads);
          ScoreOptions so;
          so.ctx = ctx;
          so.batch = batch;
          so.top_k = top;
          for (size_t i = 0; i < in.size() && st; ++i) {
            const TokenizedDoc d = tokenize_doc(e, in[i], parse_special);
            st = score_one(e, d, so, pool, out[i]);
          }
        }
        if (!st) raise(st.error());
        nb::list result;
        for (ScoredDoc& d : out) result.append(nb::cast(to_python(std::move(d), static_cast<size_t>(top))));
        return result;
      },
      nb::arg("docs"), nb::arg("top") = 5, nb::arg("ctx") = 0, nb::arg("batch") = 256,
      nb::arg("parse_special") = false,
      "Scores documents as `tokenscope score --jsonl` does; returns one ScoreResult per document.\n\n"
      "docs: a list whose items are texts (str, tokenized with the model's BOS) or token-id sequences (scored as "
      "given, no BOS added); a single str or 1-D integer array is one document. top: alternatives per token. ctx: "
      "context window (0: the model's, at most 4096); longer texts use a sliding window with stride ctx/2. batch: "
      "positions per forward pass. parse_special: turn special-token text such as '<s>' into special tokens. The "
      "GIL is released while the model runs.");
}

}  // namespace ts::py
