// tokenscope generate: continue a prompt with a sampler chain, plain or speculative, with every generated token's
// distribution on record (raw and after the chain).
//
// --format text (default): the continuation streamed to stdout; a summary line on stderr.
// --format jsonl: one object per generated token, then a summary:
//   {"i":0,"id":..,"token":"Ġthe","text":" the","bytes":[..],"logprob":raw,"rank":..,"entropy":..,"varentropy":..,
//    "p_logprob":processed,"kept":..,"p_entropy":..,"changed":false,"top":[..],"p_top":[..]
//    [,"drafted":true,"accepted":true]}
//   {"summary":{"prompt_tokens":..,"tokens":..,"tokens_per_s":..,"stop":"length|eos|context","seed":..,
//    "samplers":"top_k=40;...",[speculative: "drafted","accepted","acceptance_rate","target_passes"]}}
// --view: the prompt plain, the continuation coloured by raw surprisal, tokens where the chain chose something
// other than the model's argmax underlined, a legend and a summary.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>

#include "commands.h"
#include "common.h"
#include "runtime/engine.h"
#include "runtime/generator.h"
#include "runtime/cntp.h"
#include "runtime/ead.h"
#include "runtime/entropix.h"
#include "runtime/speculative.h"
#include "runtime/tree_speculative.h"
#include "sampling/chain.h"
#include "view_util.h"

namespace ts::cli {
namespace {

struct Opts {
  std::string model, file, prompt, format = "text", samplers = "default", color = "auto";
  std::string draft, spec, decoder, small, load = "auto";
  int tree_nodes = 16, tree_depth = 8;
  double ead_threshold = 2.0;
  int ead_window = 5, ead_min_stay = 5, cntp_trials = 10;
  int64_t n_new = 128, ctx = 0;
  int top = 5, threads = 0, spec_n = 8, ngram_min = 1, ngram_max = 3;
  double spec_h = 0;
  uint64_t seed = 0;
  bool has_seed = false, has_prompt = false, view = false, ignore_eos = false, no_parse_special = false;
  bool greedy_draft = false, draft_for_tree = false;
};

Json top_json(const Engine& e, const std::vector<TopEntry>& top) {
  Json a = Json::array();
  for (const TopEntry& t : top)
    a.push_back(Json{{"id", t.id}, {"token", e.tokenizer.token_text(t.id)}, {"logprob", round6(t.logprob)}});
  return a;
}

Json token_json(const Engine& e, const GenToken& t, bool speculative) {
  const std::string bytes = e.tokenizer.token_bytes(t.id);
  Json j = {{"i", t.index},
            {"id", t.id},
            {"token", e.tokenizer.token_text(t.id)},
            {"text", bytes},
            {"bytes", bytes_array(bytes)},
            {"logprob", round6(t.raw.logprob)},
            {"rank", t.raw.rank},
            {"entropy", round6(t.raw.entropy)},
            {"varentropy", round6(t.raw.varentropy)},
            {"p_logprob", round6(t.processed_logprob)},
            {"kept", t.kept},
            {"p_entropy", round6(t.processed_entropy)},
            {"changed", t.changed},
            {"top", top_json(e, t.raw.top)},
            {"p_top", top_json(e, t.processed_top)}};
  if (speculative) {
    j["drafted"] = t.drafted;
    j["accepted"] = t.accepted;
  }
  return j;
}

// The continuation coloured by raw surprisal; chain-changed tokens underlined.
void print_generate_view(const Engine& e, const std::string& prompt_text, const std::vector<GenToken>& toks,
                         const GenerateSummary& s, bool color) {
  const double ln2 = std::log(2.0);
  std::string out = prompt_text;
  std::string pending;
  double bits = 0;
  bool changed = false;
  for (size_t k = 0; k < toks.size(); ++k) {
    pending += e.tokenizer.token_bytes(toks[k].id);
    bits = std::max(bits, -toks[k].raw.logprob / ln2);
    changed = changed || toks[k].changed;
    if (utf8_complete(pending) || k + 1 == toks.size()) {
      std::string piece = paint_lines(pending, bin_color(bits), color);
      if (color && changed) piece = "\x1b[4m" + piece + "\x1b[24m";
      else if (!color && changed) piece = "[" + pending + "]";
      out += piece;
      pending.clear();
      bits = 0;
      changed = false;
    }
  }
  out += "\n\n";
  if (color) out += legend() + "   underlined: the sampler chain chose other than the model's top token\n";
  else out += "[...]: the sampler chain chose other than the model's top token\n";
  double nll = 0;
  int64_t n_changed = 0;
  for (const GenToken& t : toks) nll -= t.raw.logprob, n_changed += t.changed;
  char line[256];
  const double n = static_cast<double>(toks.size());
  std::snprintf(line, sizeof line, "tokens %zu   perplexity %.3f   mean surprisal %.2f bits   chain changed %lld   stop %s\n",
                toks.size(), n > 0 ? std::exp(nll / n) : 0.0, n > 0 ? nll / n / ln2 : 0.0,
                static_cast<long long>(n_changed), s.stop.c_str());
  out += line;
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
}

int run_generate(Opts& o) {
  if (!o.file.empty() && o.has_prompt) return report(Error::input("generate: give -p TEXT or -f FILE, not both"));
  if (o.file.empty() && !o.has_prompt) return report(Error::input("generate: give a prompt with -p TEXT or -f FILE"));
  if (!o.draft.empty() && !o.spec.empty() && o.spec != "tree")
    return report(Error::input("generate: --draft goes with --spec tree or alone, not with --spec " + o.spec));
  if (!o.spec.empty() && o.spec != "ngram" && o.spec != "tree" && o.spec != "recycle")
    return report(Error::input("generate: --spec " + o.spec + ": expected ngram, tree or recycle"));
  if (o.spec == "tree" && o.draft.empty()) return report(Error::input("generate: --spec tree needs --draft MODEL"));
  if (o.spec == "tree") o.draft_for_tree = true;
  if (!o.decoder.empty() && (!o.draft.empty() || !o.spec.empty()))
    return report(Error::input("generate: --decoder does not combine with speculative decoding"));
  if (o.decoder == "ead" && o.small.empty()) return report(Error::input("generate: --decoder ead needs --small MODEL"));
  if (o.decoder != "ead" && !o.small.empty()) return report(Error::input("generate: --small is for --decoder ead"));
  if (o.view && o.format == "jsonl") return report(Error::input("generate: --view and --format jsonl exclude each other"));
  if (o.ngram_min > o.ngram_max) return report(Error::input("generate: --ngram-min above --ngram-max"));
  auto chain = sampling::Chain::parse(o.samplers);
  if (!chain) return report(chain.error());
  std::string text = o.prompt;
  if (!o.file.empty()) {
    auto t = read_text_file(o.file);
    if (!t) return report(t.error());
    text = std::move(*t);
  }
  const gguf::Residency residency = residency_named(o.load);
  auto eng = Engine::load(o.model, residency);
  if (!eng) return report(eng.error());
  const Engine& e = **eng;
  std::unique_ptr<Engine> draft;
  if (!o.draft.empty()) {
    auto dp = resolve_model(o.draft);
    if (!dp) return report(dp.error());
    auto d = Engine::load(*dp, residency);
    if (!d) return report(d.error());
    draft = std::move(*d);
    if (auto s = check_same_vocabulary(e, *draft, *dp); !s) return report(s.error());
  }
  std::unique_ptr<Engine> small;
  if (!o.small.empty()) {
    auto sp = resolve_model(o.small);
    if (!sp) return report(sp.error());
    auto d = Engine::load(*sp, residency);
    if (!d) return report(d.error());
    small = std::move(*d);
    if (auto s = check_same_vocabulary(e, *small, *sp); !s) return report(s.error());
  }
  if (!o.has_seed) o.seed = std::random_device{}();
  EncodeOptions eo;
  eo.parse_special = !o.no_parse_special;
  const std::vector<int32_t> prompt = e.tokenizer.encode(text, eo).ids;
  ThreadPool pool(thread_count(o.threads));
  sampling::Rng rng(o.seed);
  GenerateOptions go;
  go.n_new = o.n_new;
  go.top_k = o.format == "jsonl" ? o.top : (o.view ? 0 : 0);
  go.ignore_eos = o.ignore_eos;
  go.ctx = o.ctx;
  const bool speculative = draft || !o.spec.empty();
  if (o.decoder == "entropix" && o.samplers == "default") chain = sampling::Chain();  // entropix sets its own
                                                                                     // temperature and truncation
  const bool color = o.color == "always" || (o.color == "auto" && isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR"));
  std::vector<GenToken> kept;
  std::map<int64_t, Json> extra;  // decoder-specific fields by token index (filled by the step callbacks)
  std::string pending;  // text mode: bytes held back until they end a UTF-8 character
  GenSink sink = [&](const GenToken& t) {
    if (o.format == "jsonl") {
      Json j = token_json(e, t, speculative);
      if (auto it = extra.find(t.index); it != extra.end()) {
        for (auto& [k, v] : it->second.items()) j[k] = v;
        extra.erase(it);
      }
      std::string line = dump_json(j) + "\n";
      std::fwrite(line.data(), 1, line.size(), stdout);
    } else if (o.view) {
      kept.push_back(t);
    } else {
      pending += e.tokenizer.token_bytes(t.id);
      if (utf8_complete(pending)) {
        std::fwrite(pending.data(), 1, pending.size(), stdout);
        std::fflush(stdout);
        pending.clear();
      }
    }
  };
  Expected<GenerateSummary> sum = GenerateSummary{};
  Json decoder_summary = Json::object();
  if (o.spec == "tree" || o.spec == "recycle") {
    TreeSpecOptions to;
    to.drafter = o.spec == "tree" ? TreeDrafter::kDySpec : TreeDrafter::kRecycle;
    to.draft = draft.get();
    to.max_nodes = o.tree_nodes;
    to.max_depth = o.tree_depth;
    to.greedy_draft = o.greedy_draft;
    to.draft_seed = o.seed ^ 0x9E3779B97F4A7C15ull;
    sum = generate_tree_speculative(e, prompt, *chain, rng, go, to, pool, sink);
  } else if (speculative) {
    SpeculativeOptions so;
    so.draft = draft.get();
    so.n_draft = o.spec_n;
    so.greedy_draft = o.greedy_draft;
    so.stop_h = o.spec_h;
    so.ngram_min = o.ngram_min;
    so.ngram_max = o.ngram_max;
    so.draft_seed = o.seed ^ 0x9E3779B97F4A7C15ull;
    sum = generate_speculative(e, prompt, *chain, rng, go, so, pool, sink);
  } else if (o.decoder == "entropix") {
    EntropixOptions eo;
    auto r = generate_entropix(e, prompt, *chain, rng, go, eo, pool, sink, [&](const EntropixStep& st) {
      extra[st.index] = Json{{"state", entropix_state_name(st.action.state)}, {"temp", round6(st.action.temp)}};
    });
    if (r) {
      Json states = Json::object();
      for (int k = 0; k < 5; ++k) states[entropix_state_name(static_cast<EntropixState>(k))] = r->per_state[k];
      decoder_summary = Json{{"decoder", "entropix"}, {"states", states}};
      sum = static_cast<const GenerateSummary&>(*r);
    } else {
      sum = r.error();
    }
  } else if (o.decoder == "cntp") {
    CntpOptions co;
    co.max_trials = o.cntp_trials;
    auto r = generate_cntp(e, prompt, *chain, rng, go, co, pool, sink, [&](const CntpStep& st) {
      extra[st.index] = Json{{"cntp_trials", st.trials}, {"cntp_entropy", round6(st.entropy)}};
    });
    if (r) {
      decoder_summary = Json{{"decoder", "cntp"}, {"branched_steps", r->branched_steps}, {"rollouts", r->rollouts},
                             {"positions_evaluated", r->positions_evaluated}};
      sum = static_cast<const GenerateSummary&>(*r);
    } else {
      sum = r.error();
    }
  } else if (o.decoder == "ead") {
    EadOptions eo;
    eo.threshold = o.ead_threshold;
    eo.window = o.ead_window;
    eo.min_stay = o.ead_min_stay;
    auto r = generate_ead(e, *small, prompt, *chain, rng, go, eo, pool, sink, [&](const EadStep& st) {
      extra[st.index] = Json{{"model", st.model == EadModel::kLarge ? "large" : "small"},
                             {"window_entropy_bits", round6(st.mean_bits)}};
    });
    if (r) {
      decoder_summary = Json{{"decoder", "ead"}, {"large_fraction", round6(r->large_fraction())},
                             {"switches", r->switches}};
      sum = static_cast<const GenerateSummary&>(*r);
    } else {
      sum = r.error();
    }
  } else {
    sum = generate(e, prompt, *chain, rng, go, pool, sink);
  }
  if (!sum) return report(sum.error());
  const GenerateSummary& s = *sum;
  const double tps = s.seconds > 0 ? static_cast<double>(s.generated) / s.seconds : 0;
  if (o.format == "jsonl") {
    Json j = {{"prompt_tokens", s.prompt_tokens}, {"tokens", s.generated}, {"tokens_per_s", round6(tps)},
              {"prompt_s", round6(s.prompt_seconds)}, {"seconds", round6(s.seconds)}, {"stop", s.stop},
              {"seed", o.seed}, {"samplers", chain->spec()}};
    for (auto& [k, v] : decoder_summary.items()) j[k] = v;
    if (speculative) {
      j["drafter"] = o.spec == "tree" ? "dyspec" : o.spec == "recycle" ? "recycle" : draft ? "model" : "ngram";
      j["tokens_per_pass"] = round6(s.target_passes ? static_cast<double>(s.generated) / s.target_passes : 0);
      j["drafted"] = s.drafted;
      j["accepted"] = s.accepted;
      j["acceptance_rate"] = round6(s.drafted ? static_cast<double>(s.accepted) / s.drafted : 0);
      j["target_passes"] = s.target_passes;
    }
    const std::string line = dump_json(Json{{"summary", j}}) + "\n";
    std::fwrite(line.data(), 1, line.size(), stdout);
    return 0;
  }
  if (o.view) {
    print_generate_view(e, text, kept, s, color);
  } else {
    if (!pending.empty()) std::fwrite(pending.data(), 1, pending.size(), stdout);
    std::fputc('\n', stdout);
  }
  std::fprintf(stderr, "generate: %lld tokens, %.1f tokens/s, stop %s, seed %llu", static_cast<long long>(s.generated),
               tps, s.stop.c_str(), static_cast<unsigned long long>(o.seed));
  if (speculative)
    std::fprintf(stderr, ", drafted %lld, accepted %lld (%.1f%%), %lld target passes",
                 static_cast<long long>(s.drafted), static_cast<long long>(s.accepted),
                 s.drafted ? 100.0 * static_cast<double>(s.accepted) / static_cast<double>(s.drafted) : 0.0,
                 static_cast<long long>(s.target_passes));
  std::fprintf(stderr, "\n");
  return 0;
}

}  // namespace

void register_generate(CLI::App& app, Run& run) {
  auto* cmd = app.add_subcommand("generate", "Continue a prompt with a sampler chain (plain or speculative), "
                                             "recording each token's raw and processed distribution");
  auto o = std::make_shared<Opts>();
  cmd->add_option("-m,--model", o->model, "GGUF model file or name (default: smollm2-135m if installed, else the "
                                          "bundled demo model)");
  auto* prompt = cmd->add_option("-p,--prompt", o->prompt, "Prompt text");
  cmd->add_option("-f,--file", o->file, "Prompt file ('-' for stdin)");
  cmd->add_option("-n,--n-predict", o->n_new, "Tokens to generate")->check(CLI::Range(int64_t(0), int64_t(1) << 20));
  auto* seed = cmd->add_option("--seed", o->seed, "Random seed (default: a random one, printed in the summary)");
  cmd->add_option("--samplers", o->samplers,
                  "Sampler chain: a preset (default, hf, greedy) and/or items such as "
                  "\"penalties,repeat=1.1;top_k=40;min_p=0.05;temp=0.8\"; samplers: temp, dynatemp, top_k, top_p, "
                  "min_p, typical, top_n_sigma, eta, epsilon, top_h, xtc, dry, penalties, logit_bias; selectors: "
                  "dist, greedy, mirostat, mirostat_v2");
  cmd->add_option("--top", o->top, "Alternatives recorded per token in jsonl (0: none)")->check(CLI::Range(0, 1000));
  cmd->add_option("--format", o->format, "text or jsonl")->check(CLI::IsMember({"text", "jsonl"}));
  cmd->add_flag("--view", o->view, "Show the continuation coloured by surprisal, chain-changed tokens marked");
  cmd->add_option("--color", o->color, "With --view: auto, always or never")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  cmd->add_option("-t,--threads", o->threads, "Threads (default: all cores)")->check(CLI::Range(0, 1024));
  cmd->add_option("--load", o->load, kLoadHelp)->check(CLI::IsMember({"auto", "copy", "mmap"}));
  cmd->add_option("--ctx", o->ctx, "Context limit (default: the model's)")->check(CLI::Range(int64_t(2), int64_t(1) << 20));
  cmd->add_flag("--ignore-eos", o->ignore_eos, "Keep generating after an end-of-generation token");
  cmd->add_flag("--no-parse-special", o->no_parse_special,
                "Treat special-token text in the prompt (<|im_start|>) as plain text");
  cmd->add_option("--draft", o->draft, "Speculative decoding with this draft model (same vocabulary)");
  cmd->add_option("--spec", o->spec,
                  "ngram: draft by prompt lookup; tree: DySpec token trees from --draft; recycle: Token Recycling "
                  "trees from the target's own top-k successors");
  cmd->add_option("--spec-n", o->spec_n, "Most tokens drafted per round")->check(CLI::Range(1, 64));
  cmd->add_option("--spec-h", o->spec_h,
                  "Adaptive draft length: stop drafting when 1 - prod(q) exceeds this (0: off)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_flag("--greedy-draft", o->greedy_draft,
                "The draft model proposes its top token (deterministic draft: sample-and-compare verification)");
  cmd->add_option("--tree-nodes", o->tree_nodes, "Tree speculation: drafted nodes per round")->check(CLI::Range(1, 256));
  cmd->add_option("--tree-depth", o->tree_depth, "Tree speculation: longest drafted path")->check(CLI::Range(1, 64));
  cmd->add_option("--decoder", o->decoder,
                  "Entropy-gated decoding: entropix (entropy/varentropy quadrants), cntp (Cautious Next Token "
                  "Prediction rollouts), ead (Entropy-Adaptive Decoding with --small)")
      ->check(CLI::IsMember({"entropix", "cntp", "ead"}));
  cmd->add_option("--small", o->small, "EAD: the small model (same vocabulary); -m is the large one");
  cmd->add_option("--ead-threshold", o->ead_threshold, "EAD: switch to the large model above this windowed entropy (bits)");
  cmd->add_option("--ead-window", o->ead_window, "EAD: entropy window (tokens)")->check(CLI::Range(1, 1024));
  cmd->add_option("--ead-min-stay", o->ead_min_stay, "EAD: tokens the large model keeps before switching back")
      ->check(CLI::Range(0, 1 << 20));
  cmd->add_option("--cntp-trials", o->cntp_trials, "CNTP: most rollouts at the highest entropy")->check(CLI::Range(1, 64));
  cmd->add_option("--ngram-min", o->ngram_min, "Shortest suffix n-gram to look up")->check(CLI::Range(1, 16));
  cmd->add_option("--ngram-max", o->ngram_max, "Longest suffix n-gram to look up")->check(CLI::Range(1, 16));
  cmd->callback([&run, o, prompt, seed] {
    o->has_prompt = prompt->count() > 0;
    o->has_seed = seed->count() > 0;
    run = [o] {
      auto mp = resolve_model(o->model);
      if (!mp) return report(mp.error());
      o->model = *mp;
      return run_generate(*o);
    };
  });
}

}  // namespace ts::cli
