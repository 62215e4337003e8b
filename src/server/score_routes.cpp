// POST /v1/score: `tokenscope score` over HTTP — the same records and summary, with the same field names and values
// (scored by ScoreTask with the CLI's windows and batch):
//   {"object": "score", "model", "tokens": [{"doc": 0, "pos", "id", "token", "offset", "logprob", "rank", "entropy",
//    "top": [{"id", "token", "logprob"}]}], "summary": {"tokens", "nll", "nll_sum", "ppl", "bytes", "bits_per_byte"}}
// Body: {"text": ... | "ids": [...], "top": 5, "parse_special": false, "pieces": false}; text gets the model's BOS as
// in the CLI, ids are scored as given. "pieces": true adds each token's and alternative's decoded text ("piece").
// POST /v1/compare (with --compare-model): per token logprob_a/_b, log_ratio = logprob_a − logprob_b, rank and
// entropy under both, and kl = KL(A ‖ B) of the two next-token distributions; the summary has both models'
// perplexities and the mean KL.
#include <cmath>

#include "server/completion_run.h"
#include "server/requests.h"
#include "server/score_task.h"
#include "server/server_impl.h"

namespace ts::server {
namespace {

struct Doc {
  std::vector<int32_t> ids;
  std::vector<uint32_t> offsets;
  uint64_t text_bytes = 0;  // bytes the predicted tokens cover (as the CLI counts them)
};

Parsed<Doc> make_doc(const Engine& e, const ScoreBody& b) {
  Doc d;
  if (b.is_ids) {
    const int32_t V = e.tokenizer.vocab_size();
    uint32_t off = 0;
    for (size_t i = 0; i < b.ids.size(); ++i) {
      const int32_t id = b.ids[i];
      if (id >= V)
        return ApiError::bad("field 'ids': token id " + std::to_string(id) + " out of range 0.." +
                                 std::to_string(V - 1),
                             "ids");
      d.offsets.push_back(off);
      const uint64_t nb = e.tokenizer.token_bytes(id).size();
      off += static_cast<uint32_t>(nb);
      if (i > 0) d.text_bytes += nb;
    }
    d.ids = b.ids;
  } else {
    EncodeOptions eo;
    eo.add_special = true;
    eo.parse_special = b.parse_special;
    Encoding enc = e.tokenizer.encode(b.text, eo);
    d.ids = std::move(enc.ids);
    d.offsets = std::move(enc.offsets);
    d.text_bytes = d.ids.size() > 1 ? b.text.size() - std::min<uint64_t>(b.text.size(), d.offsets[1]) : 0;
  }
  return d;
}

Json top_json(const Engine& e, const std::vector<TopEntry>& top, bool pieces) {
  Json a = Json::array();
  for (const TopEntry& t : top) {
    Json x = {{"id", t.id}, {"token", e.tokenizer.token_text(t.id)}, {"logprob", round6(t.logprob)}};
    if (pieces) x["piece"] = token_display(e, t.id);
    a.push_back(std::move(x));
  }
  return a;
}

}  // namespace

void Server::Impl::score(const httplib::Request& req, httplib::Response& res, bool compare) {
  auto body = parse_body(req.body);
  if (!body) return send_error(res, body.error());
  auto b = parse_score(*body);
  if (!b) return send_error(res, b.error());
  if (compare && !models.compare)
    return send_error(res, ApiError::bad("this server has no compare model (start it with --compare-model B.gguf)"));
  const Engine& e = compare ? *models.main : engine_for(b->model);
  auto doc = make_doc(e, *b);
  if (!doc) return send_error(res, doc.error());
  ScoreRequest sr;
  sr.model = e.model.get();
  sr.compare = compare ? models.compare->model.get() : nullptr;
  sr.ids = doc->ids;
  sr.ctx = opt.ctx;
  sr.top_k = b->top;
  auto job = scheduler->submit(make_score_task(std::move(sr)), 1);
  if (!job) return send_error(res, ApiError{503, "server busy", "server_error", "", "server_busy"});

  std::vector<ScoredToken> scored;
  std::vector<ComparedToken> compared;
  std::optional<ApiError> err;
  const bool connected = drain_job(*job, req, [&](Event& ev) {
    if (ev.kind == Event::Kind::kScored) scored.insert(scored.end(), ev.scored.begin(), ev.scored.end());
    if (ev.kind == Event::Kind::kCompared) compared.insert(compared.end(), ev.compared.begin(), ev.compared.end());
    if (ev.kind == Event::Kind::kError) err = ev.input_error ? ApiError::bad(ev.message) : ApiError::internal(ev.message);
  });
  note(req, static_cast<int64_t>(doc->ids.size()), b->is_ids ? std::string() : b->text);
  if (!connected) {
    res.status = 499;
    return;
  }
  if (err) return send_error(res, *err);

  const double ln2 = std::log(2.0);
  const double bytes = static_cast<double>(doc->text_bytes);
  Json tokens = Json::array();
  if (!compare) {
    double nll_sum = 0;
    for (const ScoredToken& t : scored) {
      const TokenStats& s = t.stats;
      nll_sum -= s.logprob;
      Json j = {{"doc", 0},
                {"pos", t.pos},
                {"id", s.id},
                {"token", e.tokenizer.token_text(s.id)},
                {"offset", doc->offsets[static_cast<size_t>(t.pos)]},
                {"logprob", round6(s.logprob)},
                {"rank", s.rank},
                {"entropy", round6(s.entropy)}};
      if (b->top > 0) j["top"] = top_json(e, s.top, b->pieces);
      if (b->pieces) j["piece"] = token_display(e, s.id);
      tokens.push_back(std::move(j));
    }
    const int64_t n = static_cast<int64_t>(scored.size());
    const double mean = n ? nll_sum / static_cast<double>(n) : 0.0;
    Json summary = {{"tokens", n},
                    {"nll", round6(mean)},
                    {"nll_sum", round6(nll_sum)},
                    {"ppl", round6(std::exp(mean))},
                    {"bytes", doc->text_bytes},
                    {"bits_per_byte", doc->text_bytes ? round6(nll_sum / ln2 / bytes) : 0.0}};
    return send_json(res, Json{{"object", "score"},
                               {"model", name_of(e)},
                               {"tokens", std::move(tokens)},
                               {"summary", std::move(summary)}});
  }
  double nll_a = 0, nll_b = 0, kl_sum = 0;
  for (const ComparedToken& c : compared) {
    nll_a -= c.logprob_a;
    nll_b -= c.logprob_b;
    kl_sum += c.kl;
    Json j = {{"pos", c.pos},
              {"id", c.id},
              {"token", e.tokenizer.token_text(c.id)},
              {"offset", doc->offsets[static_cast<size_t>(c.pos)]},
              {"logprob_a", round6(c.logprob_a)},
              {"logprob_b", round6(c.logprob_b)},
              {"log_ratio", round6(c.logprob_a - c.logprob_b)},
              {"rank_a", c.rank_a},
              {"rank_b", c.rank_b},
              {"entropy_a", round6(c.entropy_a)},
              {"entropy_b", round6(c.entropy_b)},
              {"kl", round6(c.kl)}};
    if (b->pieces) j["piece"] = token_display(e, c.id);
    tokens.push_back(std::move(j));
  }
  const double n = static_cast<double>(compared.size());
  Json summary = {{"tokens", compared.size()},
                  {"ppl_a", round6(n ? std::exp(nll_a / n) : 1.0)},
                  {"ppl_b", round6(n ? std::exp(nll_b / n) : 1.0)},
                  {"bits_per_byte_a", doc->text_bytes ? round6(nll_a / ln2 / bytes) : 0.0},
                  {"bits_per_byte_b", doc->text_bytes ? round6(nll_b / ln2 / bytes) : 0.0},
                  {"mean_kl", round6(n ? kl_sum / n : 0.0)}};
  send_json(res, Json{{"object", "compare"},
                      {"model_a", models.main_name},
                      {"model_b", models.compare_name},
                      {"tokens", std::move(tokens)},
                      {"summary", std::move(summary)}});
}

}  // namespace ts::server
