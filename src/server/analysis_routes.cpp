// POST /v1/analyze and POST /v1/detect: `tokenscope analyze` and `tokenscope detect` over HTTP — the same fields
// with the same values (apps/analyze.cpp and apps/detect.cpp; bodies and roles in analysis_requests.h). The models run
// on the scheduler's worker as an AnalysisTask (analysis_task.h) with the CLI's windows (the server's --ctx, else the
// models' context capped at 4096) and batch (256), so the per-position signals are bit-identical to the CLI's; the
// records are built by the CLI's own builders (runtime/analysis_record.h, runtime/detection_record.h).
#include "server/analysis_requests.h"

#include <algorithm>

#include "analysis/document_scores.h"
#include "runtime/analysis_record.h"
#include "runtime/detection_record.h"
#include "server/analysis_task.h"
#include "server/server_impl.h"

namespace ts::server {

namespace {

// A document as the CLI's documents.cpp makes it: text with the model's BOS and byte offsets; ids as given, their
// bytes concatenated as the text. text_bytes: bytes covered by the predicted tokens (ids[1..]).
struct Doc {
  std::string text;
  std::vector<int32_t> ids;
  std::vector<uint32_t> offsets;
  int64_t text_bytes = 0;
};

Parsed<Doc> make_doc(const Engine& e, const DocumentInput& in, bool parse_special) {
  Doc d;
  if (in.is_ids) {
    const int32_t V = static_cast<int32_t>(std::min<int64_t>(e.tokenizer.vocab_size(), e.model->config().n_vocab));
    for (size_t i = 0; i < in.ids.size(); ++i) {
      const int32_t id = in.ids[i];
      if (id >= V)
        return ApiError::bad(
            "field 'ids': token id " + std::to_string(id) + " out of range 0.." + std::to_string(V - 1), "ids");
      d.offsets.push_back(static_cast<uint32_t>(d.text.size()));
      const std::string bytes = e.tokenizer.token_bytes(id);
      d.text += bytes;
      if (i > 0) d.text_bytes += static_cast<int64_t>(bytes.size());
    }
    d.ids = in.ids;
    return d;
  }
  EncodeOptions eo;
  eo.add_special = true;
  eo.parse_special = parse_special;
  Encoding enc = e.tokenizer.encode(in.text, eo);
  d.ids = std::move(enc.ids);
  d.offsets = std::move(enc.offsets);
  d.text_bytes = d.ids.size() > 1
                     ? static_cast<int64_t>(in.text.size() - std::min<uint64_t>(in.text.size(), d.offsets[1]))
                     : 0;
  d.text = in.text;
  return d;
}

}  // namespace

// Runs the analysis task and waits for it. False when the response is already settled (an error, or the client
// went away); true when `out` holds the result.
bool Server::Impl::run_analysis(const httplib::Request& req, httplib::Response& res, AnalysisRequest ar,
                                std::shared_ptr<AnalysisResult>& out, int64_t tokens, const std::string& prompt) {
  out = std::make_shared<AnalysisResult>();
  auto job = scheduler->submit(make_analysis_task(std::move(ar), out), 1);
  if (!job) {
    send_error(res, ApiError{503, "server busy", "server_error", "", "server_busy"});
    return false;
  }
  std::optional<ApiError> err;
  const bool connected = drain_job(*job, req, [&](Event& ev) {
    if (ev.kind == Event::Kind::kError)
      err = ev.input_error ? ApiError::bad(ev.message) : ApiError::internal(ev.message);
  });
  note(req, tokens, prompt);
  if (!connected) {
    res.status = 499;
    return false;
  }
  if (err) {
    send_error(res, *err);
    return false;
  }
  return true;
}

void Server::Impl::analyze(const httplib::Request& req, httplib::Response& res) {
  auto body = parse_body(req.body);
  if (!body) return send_error(res, body.error());
  auto b = parse_analyze(*body);
  if (!b) return send_error(res, b.error());
  const Engine& e = engine_for(b->model);
  auto d = make_doc(e, b->doc, b->parse_special);
  if (!d) return send_error(res, d.error());
  AnalysisRequest ar;
  ar.pairs = {{e.model.get(), nullptr}};
  ar.docs = {d->ids};
  ar.ctx = opt.ctx;
  ar.top_k = b->top;
  std::shared_ptr<AnalysisResult> result;
  if (!run_analysis(req, res, std::move(ar), result, std::ssize(d->ids), b->doc.is_ids ? std::string() : b->doc.text))
    return;
  const std::vector<AnalyzedPosition>& toks = result->docs.front();

  // apps/analyze.cpp's records (runtime/analysis_record.h)
  const TokenizedText text{d->text, d->offsets, d->text_bytes};
  const TokenAnalysis a = analyze_tokens(toks, b->window, b->top_fraction);
  Json out = {{"object", "analysis"}, {"model", name_of(e)}};
  if (b->per_token) {
    Json tokens = Json::array();
    for (size_t i = 0; i < toks.size(); ++i)
      tokens.push_back(analysis_token_record(0, toks, a, i, text, e.tokenizer, b->top > 0));
    out["tokens"] = std::move(tokens);
  }
  auto sum = summarize_analysis(toks, a, text);  // only DC-PDD can fail, and it is not asked for
  if (!sum) return send_error(res, ApiError::internal(sum.error().message));
  out["summary"] = analysis_summary_record(*sum);
  send_json(res, out);
}

void Server::Impl::detect(const httplib::Request& req, httplib::Response& res) {
  auto body = parse_body(req.body);
  if (!body) return send_error(res, body.error());
  auto b = parse_detect(*body);
  if (!b) return send_error(res, b.error());
  auto want = [&](const char* m) { return std::find(b->methods.begin(), b->methods.end(), m) != b->methods.end(); };

  // Roles (analysis_requests.h): a model id or "main" / "compare"; absent → the default.
  const Engine* scorer = &engine_for(b->model);
  auto role = [&](const std::optional<std::string>& given, const char* key, const char* method,
                  const Engine* dflt) -> Parsed<const Engine*> {
    if (!given) return dflt;
    if (*given == models.main_name) return models.main;
    if (models.compare && *given == models.compare_name) return models.compare;
    if (*given == "main") return models.main;
    if (*given == "compare") {
      if (models.compare) return models.compare;
      return ApiError::bad(std::string("method '") + method + "': the " + key +
                               " 'compare' needs a second model, and this server has none (start it with "
                               "--compare-model B.gguf)",
                           key);
    }
    std::string names = models.main_name + (models.compare ? ", " + models.compare_name : std::string());
    return ApiError::bad(std::string("field '") + key + "': no model '" + given->substr(0, 100) +
                             "' on this server (one of " + names + ", main" + (models.compare ? ", compare" : "") +
                             (models.compare ? ")" : "; a second model needs --compare-model B.gguf)"),
                         key);
  };
  auto sampler = role(b->sampler, "sampler", "fast_detectgpt", scorer);
  if (!sampler) return send_error(res, sampler.error());
  auto performer = role(b->performer, "performer", "binoculars", scorer);
  if (!performer) return send_error(res, performer.error());
  auto observer = role(b->observer, "observer", "binoculars", models.compare ? models.compare : *sampler);
  if (!observer) return send_error(res, observer.error());

  std::vector<Doc> docs;
  int64_t total = 0;
  for (const DocumentInput& in : b->docs) {
    auto d = make_doc(*scorer, in, b->parse_special);
    if (!d) return send_error(res, d.error());
    total += std::ssize(d->ids);
    docs.push_back(std::move(*d));
  }

  // apps/detect.cpp: pair 0 = scoring p with sampling q (white-box when q = p); pair 1 = performer with observer,
  // when Binoculars needs models that pair 0 does not already pair.
  AnalysisRequest ar;
  ar.pairs = {{scorer->model.get(), *sampler == scorer ? nullptr : (*sampler)->model.get()}};
  const bool same_model_binoculars = *observer == *performer;
  size_t bino_pair = 0;
  if (want("binoculars") && (*performer != scorer || *observer != *sampler)) {
    ar.pairs.push_back({(*performer)->model.get(), same_model_binoculars ? nullptr : (*observer)->model.get()});
    bino_pair = 1;
  }
  for (const Doc& d : docs) ar.docs.push_back(d.ids);
  ar.ctx = opt.ctx;
  std::shared_ptr<AnalysisResult> result;
  if (!run_analysis(req, res, std::move(ar), result, total,
                    b->docs.size() == 1 && !b->docs[0].is_ids ? b->docs[0].text : std::string()))
    return;
  const size_t n_pairs = bino_pair + 1;

  Json documents = Json::array();
  for (size_t di = 0; di < docs.size(); ++di) {
    std::vector<std::vector<analysis::PositionSignals>> sig(n_pairs);
    for (const AnalyzedPosition& t : result->docs[di])
      for (size_t p = 0; p < n_pairs; ++p) sig[p].push_back(t.signals[p]);
    analysis::DocumentInputs din;
    din.text_bytes = docs[di].text_bytes;
    auto ds = analysis::score_document(sig[0], din);
    if (!ds) return send_error(res, ApiError::internal(ds.error().message));
    Json j = {{"doc", di}, {"tokens", ds->perplexity.tokens}};
    Json terms = Json::object();
    if (auto st = add_detection_scores(*ds, sig[bino_pair], same_model_binoculars, want, j, terms); !st)
      return send_error(res, ApiError::internal(st.error().message));
    if (b->terms) j["terms"] = std::move(terms);
    documents.push_back(std::move(j));
  }
  Json roles = {{"scoring", name_of(*scorer)},
                {"sampling", name_of(**sampler)},
                {"observer", name_of(**observer)},
                {"performer", name_of(**performer)}};
  send_json(res, Json{{"object", "detection"},
                      {"model", name_of(*scorer)},
                      {"roles", std::move(roles)},
                      {"documents", std::move(documents)}});
}

}  // namespace ts::server
