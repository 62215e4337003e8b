// tokenscope score: per-token logprob, rank, entropy and top-k alternatives, and per-document perplexity.
//
// Output (jsonl): one object per predicted token, then one summary object per document:
//   {"doc":0,"pos":1,"id":450,"token":"▁The","offset":0,"logprob":-3.21,"rank":4,"entropy":5.02,"top":[...]}
//   {"doc":0,"summary":{"tokens":N,"nll":mean,"nll_sum":..,"ppl":..,"bytes":..,"bits_per_byte":..,<input fields>}}
// tsv: a header and one row per token (doc, pos, id, token, offset, logprob, rank, entropy); summaries on stderr.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "commands.h"
#include "common.h"
#include "runtime/engine.h"
#include "runtime/scorer.h"

namespace ts::cli {

// score_view.cpp: prints the text coloured by surprisal, a legend and a summary.
void print_view(const Engine& e, const std::string& text, const std::vector<uint32_t>& offsets,
                const std::vector<ScoredToken>& scored, uint64_t text_bytes, bool color);

namespace {

struct Opts {
  std::string model, file, jsonl, prompt, format = "jsonl";
  int top = 5, threads = 0;
  int64_t ctx = 0, batch = 256;
  bool parse_special = false;
  bool has_prompt = false;  // -p given (possibly as the empty text)
  bool view = false;             // --view: the coloured terminal view (score_view.cpp)
  std::string color = "auto";    // --color: auto (when stdout is a terminal), always, never
  bool fast = false;             // --fast: int8 activations (Precision::kFast)
};

struct Doc {
  std::vector<int32_t> ids;
  std::vector<uint32_t> offsets;  // byte offset of each token in the text (or in the decoded ids)
  uint64_t text_bytes = 0;        // bytes of text the predicted tokens cover
  Json fields = Json::object();  // the input line's other fields
};

Doc doc_from_text(const Engine& e, const std::string& text, bool parse_special) {
  Doc d;
  EncodeOptions eo;
  eo.add_special = true;
  eo.parse_special = parse_special;
  Encoding enc = e.tokenizer.encode(text, eo);
  d.ids = std::move(enc.ids);
  d.offsets = std::move(enc.offsets);
  // the predicted tokens (all but the first) cover the text from the second token's offset on
  d.text_bytes = d.ids.size() > 1 ? text.size() - std::min<uint64_t>(text.size(), d.offsets[1]) : 0;
  return d;
}

Doc doc_from_ids(const Engine& e, std::vector<int32_t> ids) {
  Doc d;
  d.ids = std::move(ids);
  uint32_t off = 0;
  for (size_t i = 0; i < d.ids.size(); ++i) {
    d.offsets.push_back(off);
    const int32_t id = d.ids[i];
    const uint64_t nb = id >= 0 && id < e.tokenizer.vocab_size() ? e.tokenizer.token_bytes(id).size() : 0;
    off += static_cast<uint32_t>(nb);
    if (i > 0) d.text_bytes += nb;
  }
  return d;
}

class Printer {
 public:
  Printer(const Engine& e, const Opts& o) : e_(e), o_(o) {
    if (o_.format == "tsv") std::printf("doc\tpos\tid\ttoken\toffset\tlogprob\trank\tentropy\n");
  }

  std::string token_text(int32_t id) const {
    return id >= 0 && id < e_.tokenizer.vocab_size() ? e_.tokenizer.token_text(id) : std::string();
  }

  void token(int64_t doc, const Doc& d, const ScoredToken& t) {
    const TokenStats& s = t.stats;
    nll_sum_ -= s.logprob;
    ++n_;
    const uint32_t off = d.offsets[static_cast<size_t>(t.pos)];
    if (o_.format == "tsv") {
      std::printf("%lld\t%lld\t%d\t%s\t%u\t%.6f\t%lld\t%.6f\n", (long long)doc, (long long)t.pos, s.id,
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
    std::fputs(dump_json(j).c_str(), stdout);
    std::fputc('\n', stdout);
  }

  void summary(int64_t doc, const Doc& d) {
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
      std::puts(dump_json(Json{{"doc", doc}, {"summary", s}}).c_str());
    }
    std::fflush(stdout);
    nll_sum_ = 0;
    n_ = 0;
  }

 private:
  const Engine& e_;
  const Opts& o_;
  double nll_sum_ = 0;
  int64_t n_ = 0;
};

// One line of --jsonl input: {"text": "..."} or {"ids": [...]}, other fields carried into the summary.
Expected<Doc> parse_jsonl_line(const Engine& e, const std::string& line, const std::string& where, bool parse_special) {
  Json j = Json::parse(line, nullptr, false);
  if (j.is_discarded()) return Error::input(where + ": invalid JSON");
  if (!j.is_object()) return Error::input(where + ": expected a JSON object with \"text\" or \"ids\"");
  Doc d;
  if (j.contains("ids")) {
    const auto& a = j["ids"];
    if (!a.is_array()) return Error::input(where + ": field 'ids': expected an array of token ids");
    std::vector<int32_t> ids;
    const int64_t V = e.model->config().n_vocab;
    for (const auto& x : a) {
      if (!x.is_number_integer() || x.get<int64_t>() < 0 || x.get<int64_t>() >= V)
        return Error::input(where + ": field 'ids': value " + x.dump() + " is not a token id in 0.." +
                            std::to_string(V - 1));
      ids.push_back(static_cast<int32_t>(x.get<int64_t>()));
    }
    d = doc_from_ids(e, std::move(ids));
    j.erase("ids");
  } else if (j.contains("text")) {
    if (!j["text"].is_string()) return Error::input(where + ": field 'text': expected a string");
    d = doc_from_text(e, j["text"].get<std::string>(), parse_special);
    j.erase("text");
  } else {
    return Error::input(where + ": expected a field \"text\" or \"ids\"");
  }
  d.fields = std::move(j);
  return d;
}

int run_score(const Opts& o) {
  const int sources = !o.file.empty() + !o.jsonl.empty() + o.has_prompt;
  if (sources != 1) return report(Error::input("score: give exactly one of -f FILE, --jsonl FILE, -p TEXT"));
  if (o.view && !o.jsonl.empty()) return report(Error::input("score: --view takes -f FILE or -p TEXT, not --jsonl"));
  auto eng = Engine::load(o.model);
  if (!eng) return report(eng.error());
  if (o.fast) (*eng)->model->set_precision(Precision::kFast);
  const Engine& e = **eng;
  ThreadPool pool(thread_count(o.threads));
  ScoreOptions so;
  so.ctx = o.ctx;
  so.batch = o.batch;
  so.top_k = o.top;
  Printer out(e, o);
  const bool progress = isatty(STDERR_FILENO);

  // On a terminal, a long document reports its progress on stderr about once a second.
  auto score_doc = [&](int64_t doc_index, const Doc& d) -> int {
    auto last = std::chrono::steady_clock::now();
    bool reported = false;
    auto s = score_sequence(*e.model, d.ids, so, pool, [&](const ScoredToken& t) {
      out.token(doc_index, d, t);
      if (!progress || (t.pos & 63) != 0) return;
      const auto now = std::chrono::steady_clock::now();
      if (now - last < std::chrono::seconds(1)) return;
      last = now;
      reported = true;
      std::fprintf(stderr, "\rdoc %lld: %lld / %zu tokens", (long long)doc_index, (long long)t.pos, d.ids.size());
    });
    if (reported) std::fprintf(stderr, "\n");
    if (!s) return report(s.error());
    out.summary(doc_index, d);
    return 0;
  };

  if (!o.jsonl.empty()) {
    std::ifstream in_file;
    std::istream* in = &std::cin;
    if (o.jsonl != "-") {
      in_file.open(o.jsonl, std::ios::binary);
      if (!in_file) return report(Error::input(o.jsonl + ": cannot open"));
      in = &in_file;
    }
    std::string line;
    int64_t line_no = 0, doc = 0;
    auto t0 = std::chrono::steady_clock::now();
    while (std::getline(*in, line)) {
      ++line_no;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      auto d = parse_jsonl_line(e, line, o.jsonl + ":" + std::to_string(line_no), o.parse_special);
      if (!d) return report(d.error());
      if (int rc = score_doc(doc++, *d)) return rc;
      if (progress) {
        const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::fprintf(stderr, "\rscored %lld documents (%.1f s)", (long long)doc, sec);
      }
    }
    if (progress && doc) std::fprintf(stderr, "\n");
    return 0;
  }
  std::string text = o.prompt;
  if (!o.file.empty()) {
    auto t = read_text_file(o.file);
    if (!t) return report(t.error());
    text = std::move(*t);
  }
  if (o.view) {
    const Doc d = doc_from_text(e, text, o.parse_special);
    std::vector<ScoredToken> scored;
    auto s = score_sequence(*e.model, d.ids, so, pool, [&](const ScoredToken& t) { scored.push_back(t); });
    if (!s) return report(s.error());
    const bool color = o.color == "always" || (o.color == "auto" && isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR"));
    print_view(e, text, d.offsets, scored, d.text_bytes, color);
    return 0;
  }
  return score_doc(0, doc_from_text(e, text, o.parse_special));
}

}  // namespace

void register_score(CLI::App& app, Run& run) {
  auto* cmd = app.add_subcommand("score", "Per-token logprob, rank, entropy and top-k alternatives of a text");
  auto o = std::make_shared<Opts>();
  cmd->add_option("-m,--model", o->model, "GGUF model file (default: the bundled demo model)");
  cmd->add_option("-f,--file", o->file, "Text file to score ('-' for stdin)");
  auto* prompt = cmd->add_option("-p,--prompt", o->prompt, "Text to score");
  cmd->add_option("--jsonl", o->jsonl,
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
  cmd->add_flag("--parse-special", o->parse_special, "Turn special-token text such as <s> into special tokens");
  cmd->add_flag("--fast", o->fast,
                "Quantize activations to int8 in the matrix products, as llama.cpp does (AVX-512 VNNI; about as "
                "exact as llama.cpp instead of fp32-exact)");
  cmd->add_flag("--view", o->view,
                "Show the text coloured by surprisal, a legend and a summary (perplexity, bits per byte, the most "
                "surprising tokens) instead of JSON");
  cmd->add_option("--color", o->color, "With --view: auto (colour when stdout is a terminal and NO_COLOR is unset), "
                  "always or never")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  cmd->callback([&run, o, prompt] {
    o->has_prompt = prompt->count() > 0;
    run = [o] {
      auto mp = resolve_model(o->model);
      if (!mp) return report(mp.error());
      o->model = *mp;
      return run_score(*o);
    };
  });
}

}  // namespace ts::cli
