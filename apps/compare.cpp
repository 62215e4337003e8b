// tokenscope compare: two next-token distributions per token of a text (analysis/contrast.h).
//
// Two models (-m A -m B; the same vocabulary, checked), text tokenized by A:
//   {"doc":0,"pos":1,"id":..,"token":..,"offset":..,"logprob_a":..,"logprob_b":..,"logprob_diff":..,"entropy_a":..,
//    "entropy_b":..,"kl_ab":..,"kl_ba":..,"cross_ab":..,"cross_ba":..,"top1_a":{"id","token"},"top1_b":{..},
//    "top1_agree":true}
//   {"doc":0,"summary":{<input fields>,"tokens":N,"nll_a":..,"nll_b":..,"mean_logprob_diff":..,"mean_kl_ab":..,
//    "mean_kl_ba":..,"mean_cross_ab":..,"mean_cross_ba":..,"top1_agreement":..,"critical":[{"pos","token",
//    "logprob_diff"}, ...]}}
//   logprob_diff = log p_A(x) − log p_B(x) (Critical Tokens' contrastive estimate, A positive, B negative; the
//   `critical` list holds the --critical tokens with the most negative difference); cross_ab = H(A,B) =
//   −Σ p_A log p_B; KL(A‖B) = H(A,B) − H(A).
//
// One model with a context (-m M --context ctx.txt, or --jsonl lines with a "context" field): the answer's tokens
// predicted with the context prepended and without (runtime/analyzer.h, analyze_context_shift):
//   {"doc":0,"pos":0,"id":..,"token":..,"offset":..,"logprob_ctx":..,"logprob_plain":..,"logprob_shift":..,
//    "entropy_ctx":..,"entropy_plain":..,"entropy_shift":..,"kl_ctx_plain":..,"conflict":false}
//   {"doc":0,"summary":{<input fields>,"tokens":N,"nll_ctx":..,"nll_plain":..,"mean_logprob_shift":..,
//    "mean_entropy_shift":..,"mean_kl_ctx_plain":..,"conflict_tokens":..}}
//   pos = index in the answer's tokens (0 = the first answer token after BOS); logprob_shift = log p(x | ctx, x<) −
//   log p(x | x<) (its mean is lm-polygraph's PMI); entropy_shift = H(plain) − H(ctx), CK-PLUG's confidence gain:
//   negative (conflict = true) when the context makes the model less sure. The answer is tokenized on its own, so
//   both runs predict the same ids; the context is tokenized without BOS/EOS and put after the answer's BOS.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "commands.h"
#include "common.h"
#include "documents.h"
#include "model_set.h"
#include "runtime/analyzer.h"

namespace ts::cli {
namespace {

struct Opts {
  std::vector<std::string> models;
  std::string context;
  InputOptions in;
  int64_t ctx = 0, batch = 256;
  int threads = 0, critical = 5;
};

Json token_ref(const Tokenizer& tok, int32_t id) { return Json{{"id", id}, {"token", token_text_or_empty(tok, id)}}; }

void write_line(const Json& j) {
  const std::string s = dump_json(j) + "\n";
  std::fwrite(s.data(), 1, s.size(), stdout);
}

int run_two_models(const Opts& o, const Engine& a, const Engine& b, ThreadPool& pool, const AnalyzerOptions& ao) {
  const Tokenizer& tok = a.tokenizer;
  return for_each_document("compare", tok, a.model->config().n_vocab, o.in,
                           [&](int64_t doc, Document& d, const Json&) -> int {
    // scoring = B, reference = A: contrast_stats' A is the reference
    std::vector<analysis::ContrastStats> cs;
    std::vector<int64_t> pos;
    auto s = analyze_sequence(*b.model, a.model.get(), d.ids, ao, pool, [&](const AnalyzedPosition& t) {
      cs.push_back(t.signals.front().contrast);
      pos.push_back(t.pos);
      token_progress("compare", doc, t.pos, std::ssize(d.ids));
    });
    if (!s) return report(s.error());
    double nll_a = 0, nll_b = 0, diff = 0, kl_ab = 0, kl_ba = 0, x_ab = 0, x_ba = 0;
    int64_t agree = 0;
    for (size_t i = 0; i < cs.size(); ++i) {
      const analysis::ContrastStats& c = cs[i];
      nll_a -= c.logprob_a;
      nll_b -= c.logprob_b;
      diff += c.logprob_diff;
      kl_ab += c.kl_ab;
      kl_ba += c.kl_ba;
      x_ab += c.cross_ab;
      x_ba += c.cross_ba;
      agree += c.top1_agree;
      write_line(Json{{"doc", doc},
                      {"pos", pos[i]},
                      {"id", c.id},
                      {"token", token_text_or_empty(tok, c.id)},
                      {"offset", d.offsets[static_cast<size_t>(pos[i])]},
                      {"logprob_a", round6(c.logprob_a)},
                      {"logprob_b", round6(c.logprob_b)},
                      {"logprob_diff", round6(c.logprob_diff)},
                      {"entropy_a", round6(c.entropy_a)},
                      {"entropy_b", round6(c.entropy_b)},
                      {"kl_ab", round6(c.kl_ab)},
                      {"kl_ba", round6(c.kl_ba)},
                      {"cross_ab", round6(c.cross_ab)},
                      {"cross_ba", round6(c.cross_ba)},
                      {"top1_a", token_ref(tok, c.top1_a)},
                      {"top1_b", token_ref(tok, c.top1_b)},
                      {"top1_agree", c.top1_agree}});
    }
    const double n = static_cast<double>(cs.size());
    auto mean = [&](double x) { return cs.empty() ? std::nan("") : round6(x / n); };
    std::vector<size_t> order(cs.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    const size_t k = std::min<size_t>(order.size(), static_cast<size_t>(o.critical));
    std::partial_sort(order.begin(), order.begin() + static_cast<ptrdiff_t>(k), order.end(),
                      [&](size_t x, size_t y) { return cs[x].logprob_diff < cs[y].logprob_diff; });
    Json crit = Json::array();
    for (size_t i = 0; i < k; ++i)
      crit.push_back({{"pos", pos[order[i]]},
                      {"token", token_text_or_empty(tok, cs[order[i]].id)},
                      {"logprob_diff", round6(cs[order[i]].logprob_diff)}});
    Json sm = d.fields;
    sm["tokens"] = static_cast<int64_t>(cs.size());
    sm["nll_a"] = mean(nll_a);
    sm["nll_b"] = mean(nll_b);
    sm["mean_logprob_diff"] = mean(diff);
    sm["mean_kl_ab"] = mean(kl_ab);
    sm["mean_kl_ba"] = mean(kl_ba);
    sm["mean_cross_ab"] = mean(x_ab);
    sm["mean_cross_ba"] = mean(x_ba);
    sm["top1_agreement"] = mean(static_cast<double>(agree));
    sm["critical"] = std::move(crit);
    write_line(Json{{"doc", doc}, {"summary", std::move(sm)}});
    std::fflush(stdout);
    return 0;
  });
}

int run_context(const Opts& o, const Engine& e, const std::string& context_file_text, ThreadPool& pool,
                const AnalyzerOptions& ao) {
  const Tokenizer& tok = e.tokenizer;
  return for_each_document("compare", tok, e.model->config().n_vocab, o.in,
                           [&](int64_t doc, Document& d, const Json& raw) -> int {
    if (d.from_ids) return report(Error::input("compare --context: document " + std::to_string(doc) +
                                               ": needs \"text\", not \"ids\" (the context is prepended as text)"));
    std::string context = context_file_text;
    if (raw.contains("context")) {
      if (!raw["context"].is_string())
        return report(Error::input("compare: document " + std::to_string(doc) + ": field 'context': expected a string"));
      context = raw["context"].get<std::string>();
      d.fields.erase("context");
    } else if (o.context.empty()) {
      return report(Error::input("compare: document " + std::to_string(doc) +
                                 ": no context (give --context FILE or a \"context\" field)"));
    }
    // answer = the document's tokens after its BOS; both runs start from that BOS
    std::vector<int32_t> plain, answer;
    size_t skip = 0;
    if (!d.ids.empty() && tok.add_bos() && d.ids.front() == tok.bos_id()) {
      plain.push_back(d.ids.front());
      skip = 1;
    }
    answer.assign(d.ids.begin() + static_cast<ptrdiff_t>(skip), d.ids.end());
    EncodeOptions eo;
    eo.add_special = false;
    eo.parse_special = o.in.parse_special;
    std::vector<int32_t> with = plain;
    const std::vector<int32_t> ctx_ids = tok.encode(context, eo).ids;
    with.insert(with.end(), ctx_ids.begin(), ctx_ids.end());
    double nll_c = 0, nll_p = 0, lshift = 0, hshift = 0, kl = 0;
    int64_t n = 0, conflicts = 0;
    auto s = analyze_context_shift(*e.model, with, plain, answer, ao, pool, [&](const ContextShiftPosition& t) {
      const analysis::ContrastStats& c = t.contrast;
      const double h_shift = c.entropy_b - c.entropy_a;
      nll_c -= c.logprob_a;
      nll_p -= c.logprob_b;
      lshift += c.logprob_diff;
      hshift += h_shift;
      kl += c.kl_ab;
      conflicts += h_shift < 0;
      ++n;
      write_line(Json{{"doc", doc},
                      {"pos", t.index},
                      {"id", c.id},
                      {"token", token_text_or_empty(tok, c.id)},
                      {"offset", d.offsets[skip + static_cast<size_t>(t.index)]},
                      {"logprob_ctx", round6(c.logprob_a)},
                      {"logprob_plain", round6(c.logprob_b)},
                      {"logprob_shift", round6(c.logprob_diff)},
                      {"entropy_ctx", round6(c.entropy_a)},
                      {"entropy_plain", round6(c.entropy_b)},
                      {"entropy_shift", round6(h_shift)},
                      {"kl_ctx_plain", round6(c.kl_ab)},
                      {"conflict", h_shift < 0}});
    });
    if (!s) return report(s.error());
    auto mean = [&](double x) { return n ? round6(x / static_cast<double>(n)) : std::nan(""); };
    Json sm = d.fields;
    sm["tokens"] = n;
    sm["context_tokens"] = static_cast<int64_t>(ctx_ids.size());
    sm["nll_ctx"] = mean(nll_c);
    sm["nll_plain"] = mean(nll_p);
    sm["mean_logprob_shift"] = mean(lshift);
    sm["mean_entropy_shift"] = mean(hshift);
    sm["mean_kl_ctx_plain"] = mean(kl);
    sm["conflict_tokens"] = conflicts;
    write_line(Json{{"doc", doc}, {"summary", std::move(sm)}});
    std::fflush(stdout);
    return 0;
  });
}

int run_compare(Opts o) {
  if (o.models.empty() && !o.context.empty()) o.models.push_back("");  // the default model
  if (o.models.empty() || o.models.size() > 2)
    return report(Error::input("compare: give two models (-m A -m B) or one model and a context (-m M --context FILE)"));
  if (o.models.size() == 2 && !o.context.empty())
    return report(Error::input("compare: --context compares one model with and without a context; give one -m"));
  if (o.models.size() == 1 && o.context.empty() && o.in.jsonl.empty())
    return report(Error::input("compare: with one model, give --context FILE (or --jsonl lines with a \"context\" "
                               "field); with two, -m A -m B"));
  ModelSet set;
  std::vector<const Engine*> engines;
  for (const std::string& m : o.models) {
    auto e = set.load(m);
    if (!e) return report(e.error());
    engines.push_back(*e);
  }
  ThreadPool pool(thread_count(o.threads));
  AnalyzerOptions ao;
  ao.ctx = o.ctx;
  ao.batch = o.batch;
  if (engines.size() == 2) return run_two_models(o, *engines[0], *engines[1], pool, ao);
  std::string context;
  if (!o.context.empty()) {
    auto t = read_text_file(o.context);
    if (!t) return report(t.error());
    context = std::move(*t);
  }
  return run_context(o, *engines[0], context, pool, ao);
}

}  // namespace

void register_compare(CLI::App& app, Run& run) {
  auto* cmd = app.add_subcommand("compare", "Per-token contrast of two models (KL both ways, cross-entropy, logprob "
                                            "difference, top-1 agreement), or of one model with and without a context");
  auto o = std::make_shared<Opts>();
  cmd->add_option("-m,--model", o->models,
                  "Model A, then model B (same vocabulary); or one model with --context (default: as `score`)");
  cmd->add_option("--context", o->context,
                  "One model: the context file prepended to every document (a --jsonl line's \"context\" field "
                  "overrides it)");
  add_input_options(cmd, o->in);
  cmd->add_option("--critical", o->critical, "Tokens listed as critical (most negative logprob_diff) per document")
      ->check(CLI::Range(0, 1000));
  cmd->add_option("-t,--threads", o->threads, "Threads (default: all cores)")->check(CLI::Range(0, 1024));
  cmd->add_option("--ctx", o->ctx, "Context window (default: the smaller of the models', at most 4096)")
      ->check(CLI::Range(int64_t(2), int64_t(1) << 20));
  cmd->add_option("--batch", o->batch, "Positions per forward pass")->check(CLI::Range(int64_t(1), int64_t(8192)));
  cmd->callback([&run, o] { run = [o] { return run_compare(*o); }; });
}

}  // namespace ts::cli
