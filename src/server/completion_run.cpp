// See completion_run.h for the response shapes.
#include "server/completion_run.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>

#include "runtime/generator.h"

namespace ts::server {

std::string token_piece(const Engine& e, int32_t id) {
  const TokenKind k = e.tokenizer.token_kind(id);
  if (k == TokenKind::kControl || k == TokenKind::kUnused) return {};
  return e.tokenizer.token_bytes(id);
}

std::string token_display(const Engine& e, int32_t id) {
  const TokenKind k = e.tokenizer.token_kind(id);
  if (k == TokenKind::kControl || k == TokenKind::kUnused) return e.tokenizer.token_text(id);
  return e.tokenizer.token_bytes(id);
}

struct CompletionRun::Entry {
  int32_t id = -1;
  bool null_logprob = false;  // the first echoed token: nothing predicts it
  double logprob = 0;
  int64_t offset = 0;         // code points
  int64_t rank = 0;
  double entropy = 0;
  std::vector<TopEntry> top;
  const GenToken* gen = nullptr;  // generated tokens: the processed distribution
};

namespace {

std::string random_id(const char* prefix) {
  static thread_local std::mt19937_64 gen{std::random_device{}()};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s%016llx", prefix, static_cast<unsigned long long>(gen()));
  return buf;
}

}  // namespace

CompletionRun::CompletionRun(const Engine& e, RunOptions opt, std::vector<PromptInfo> prompts)
    : e_(e), opt_(std::move(opt)), prompts_(std::move(prompts)) {
  for (size_t p = 0; p < prompts_.size(); ++p)
    for (int j = 0; j < opt_.n; ++j) {
      Choice c;
      c.prompt = static_cast<int>(p);
      c.text = TextAssembler(opt_.stop);
      choices_.push_back(std::move(c));
    }
  id_ = random_id(opt_.kind == ApiKind::kChat ? "chatcmpl-" : "cmpl-");
  created_ = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                 .count();
}

std::string CompletionRun::finish_reason(const std::string& reason) {
  return reason == "length" || reason == "context" ? "length" : "stop";
}

void CompletionRun::apply(const Event& ev, Job& job, std::vector<Json>* chunks) {
  if (ev.kind == Event::Kind::kPrompt) {
    if (ev.seq < 0 || ev.seq >= n_choices()) return;
    auto& stats = prompts_[static_cast<size_t>(choices_[static_cast<size_t>(ev.seq)].prompt)].stats;
    stats.insert(stats.end(), ev.scored.begin(), ev.scored.end());
    return;
  }
  if (ev.kind != Event::Kind::kToken && ev.kind != Event::Kind::kFinish) return;
  if (ev.seq < 0 || ev.seq >= n_choices()) return;
  Choice& c = choices_[static_cast<size_t>(ev.seq)];
  if (!c.finish.empty()) return;  // stopped here already; the worker's late tokens do not count
  if (chunks) open_choice(ev.seq, chunks);
  if (ev.kind == Event::Kind::kToken) {
    ++c.counted;
    const int32_t id = ev.token.id;
    if (!opt_.ext.ignore_eos && is_end_of_generation(e_, id)) return;  // kFinish "eos" follows
    c.tokens.push_back(ev.token);
    if (c.text.add(token_piece(e_, id))) {
      c.finish = "stop";
      job.stop_seq(ev.seq);
    }
  } else {
    c.finish = finish_reason(ev.reason);
  }
  if (!chunks) return;
  const bool final = !c.finish.empty();
  TextAssembler::Release r = c.text.release(final);
  if (!r.text.empty() || r.end_token > r.first_token)
    chunks->push_back(chunk_for(ev.seq, r.text, released_entries(c, r.first_token, r.end_token), ""));
  if (final) chunks->push_back(chunk_for(ev.seq, "", {}, c.finish));
}

void CompletionRun::open_choice(int i, std::vector<Json>* chunks) {
  Choice& c = choices_[static_cast<size_t>(i)];
  if (c.opened) return;
  c.opened = true;
  if (opt_.kind == ApiKind::kChat) {
    Json ch = base(true);
    ch["choices"] = Json::array({Json{{"index", i},
                                      {"delta", Json{{"role", "assistant"}, {"content", ""}}},
                                      {"logprobs", nullptr},
                                      {"finish_reason", nullptr}}});
    chunks->push_back(std::move(ch));
  } else if (opt_.echo) {
    const PromptInfo& p = prompts_[static_cast<size_t>(c.prompt)];
    chunks->push_back(chunk_for(i, p.text, prompt_entries(p), ""));
  }
}

std::vector<CompletionRun::Entry> CompletionRun::prompt_entries(const PromptInfo& p) const {
  std::vector<Entry> out;
  out.reserve(p.ids.size());
  for (size_t i = 0; i < p.ids.size(); ++i) {
    Entry en;
    en.id = p.ids[i];
    en.offset = char_offset(p.text, p.offsets[i]);
    if (i == 0) {
      en.null_logprob = true;
    } else if (i - 1 < p.stats.size()) {
      const TokenStats& s = p.stats[i - 1].stats;
      en.logprob = s.logprob;
      en.rank = s.rank;
      en.entropy = s.entropy;
      en.top = s.top;
    }
    out.push_back(std::move(en));
  }
  return out;
}

CompletionRun::Entry CompletionRun::gen_entry(const GenToken& t, int64_t offset) const {
  Entry en;
  en.id = t.id;
  en.logprob = t.raw.logprob;
  en.rank = t.raw.rank;
  en.entropy = t.raw.entropy;
  en.top = t.raw.top;
  en.offset = offset;
  en.gen = &t;
  return en;
}

std::vector<CompletionRun::Entry> CompletionRun::released_entries(const Choice& c, size_t first, size_t end) const {
  std::vector<Entry> out;
  if (opt_.logprobs < 0) return out;
  const std::string& echo = opt_.echo ? prompts_[static_cast<size_t>(c.prompt)].text : std::string();
  const std::string full = echo + c.text.text();
  for (size_t k = first; k < end && k < c.tokens.size(); ++k)
    out.push_back(gen_entry(c.tokens[k], char_offset(full, echo.size() + c.text.token_start(k))));
  return out;
}

namespace {

Json processed_json(const Engine& e, const GenToken& t) {
  Json top = Json::array();
  for (const TopEntry& a : t.processed_top)
    top.push_back(Json{{"id", a.id}, {"token", token_display(e, a.id)}, {"logprob", api_logprob(a.logprob)}});
  return Json{{"p_logprob", api_logprob(t.processed_logprob)},
              {"kept", t.kept},
              {"p_entropy", t.processed_entropy},
              {"changed", t.changed},
              {"p_top", std::move(top)}};
}

}  // namespace

Json CompletionRun::legacy_logprobs(const std::vector<Entry>& entries) const {
  Json tokens = Json::array(), lps = Json::array(), tops = Json::array(), offsets = Json::array();
  Json ids = Json::array(), ranks = Json::array(), entropies = Json::array(), processed = Json::array();
  const size_t k = static_cast<size_t>(std::max(0, opt_.logprobs));
  for (const Entry& en : entries) {
    const std::string text = token_display(e_, en.id);
    tokens.push_back(text);
    offsets.push_back(en.offset);
    ids.push_back(en.id);
    if (en.null_logprob) {
      lps.push_back(nullptr);
      tops.push_back(nullptr);
      ranks.push_back(nullptr);
      entropies.push_back(nullptr);
    } else {
      lps.push_back(api_logprob(en.logprob));
      Json top = Json::object();
      for (size_t i = 0; i < en.top.size() && i < k; ++i) {
        const std::string t = token_display(e_, en.top[i].id);
        if (!top.contains(t)) top[t] = api_logprob(en.top[i].logprob);
      }
      if (!top.contains(text)) top[text] = api_logprob(en.logprob);  // the chosen token is always listed
      tops.push_back(std::move(top));
      ranks.push_back(en.rank);
      entropies.push_back(en.entropy);
    }
    processed.push_back(en.gen ? processed_json(e_, *en.gen) : Json(nullptr));
  }
  Json lp = {{"tokens", std::move(tokens)},
             {"token_logprobs", std::move(lps)},
             {"top_logprobs", std::move(tops)},
             {"text_offset", std::move(offsets)}};
  if (opt_.ext.any()) {
    Json ext = {{"ids", std::move(ids)}};
    if (opt_.ext.rank) ext["rank"] = std::move(ranks);
    if (opt_.ext.entropy) ext["entropy"] = std::move(entropies);
    if (opt_.ext.processed) ext["processed"] = std::move(processed);
    lp["tokenscope"] = std::move(ext);
  }
  return lp;
}

Json CompletionRun::chat_logprobs(const std::vector<Entry>& entries) const {
  Json content = Json::array();
  const size_t k = static_cast<size_t>(std::max(0, opt_.logprobs));
  for (const Entry& en : entries) {
    const std::string text = token_display(e_, en.id);
    Json top = Json::array();
    for (size_t i = 0; i < en.top.size() && i < k; ++i) {
      const std::string t = token_display(e_, en.top[i].id);
      top.push_back(Json{{"token", t}, {"logprob", api_logprob(en.top[i].logprob)}, {"bytes", bytes_array(t)}});
    }
    Json item = {{"token", text},
                 {"logprob", api_logprob(en.logprob)},
                 {"bytes", bytes_array(text)},
                 {"top_logprobs", std::move(top)}};
    if (opt_.ext.any()) item["id"] = en.id;
    if (opt_.ext.rank) item["rank"] = en.rank;
    if (opt_.ext.entropy) item["entropy"] = en.entropy;
    if (opt_.ext.processed && en.gen) item["processed"] = processed_json(e_, *en.gen);
    content.push_back(std::move(item));
  }
  return Json{{"content", std::move(content)}, {"refusal", nullptr}};
}

Json CompletionRun::base(bool chunk) const {
  const char* object = opt_.kind == ApiKind::kChat ? (chunk ? "chat.completion.chunk" : "chat.completion")
                                                   : "text_completion";
  return Json{{"id", id_}, {"object", object}, {"created", created_}, {"model", opt_.model}};
}

Json CompletionRun::chunk_for(int i, const std::string& text, const std::vector<Entry>& entries,
                              const std::string& finish) const {
  Json ch = base(true);
  Json choice;
  const bool with_lp = opt_.logprobs >= 0 && finish.empty();
  if (opt_.kind == ApiKind::kChat) {
    choice = {{"index", i},
              {"delta", finish.empty() ? Json{{"content", text}} : Json::object()},
              {"logprobs", with_lp ? chat_logprobs(entries) : Json(nullptr)},
              {"finish_reason", finish.empty() ? Json(nullptr) : Json(finish)}};
  } else {
    choice = {{"text", text},
              {"index", i},
              {"logprobs", with_lp ? legacy_logprobs(entries) : Json(nullptr)},
              {"finish_reason", finish.empty() ? Json(nullptr) : Json(finish)}};
  }
  ch["choices"] = Json::array({std::move(choice)});
  return ch;
}

int64_t CompletionRun::prompt_tokens() const {
  int64_t n = 0;
  for (const PromptInfo& p : prompts_) n += static_cast<int64_t>(p.ids.size());
  return n;
}

int64_t CompletionRun::completion_tokens() const {
  int64_t n = 0;
  for (const Choice& c : choices_) n += c.counted;
  return n;
}

Json CompletionRun::usage_chunk() const {
  Json ch = base(true);
  ch["choices"] = Json::array();
  ch["usage"] = Json{{"prompt_tokens", prompt_tokens()},
                     {"completion_tokens", completion_tokens()},
                     {"total_tokens", prompt_tokens() + completion_tokens()}};
  return ch;
}

Json CompletionRun::response() const {
  Json r = base(false);
  Json choices = Json::array();
  for (size_t i = 0; i < choices_.size(); ++i) {
    const Choice& c = choices_[i];
    const PromptInfo& p = prompts_[static_cast<size_t>(c.prompt)];
    std::vector<Entry> entries;
    if (opt_.logprobs >= 0) {
      if (opt_.echo) entries = prompt_entries(p);
      std::vector<Entry> gen = released_entries(c, 0, c.text.token_count());
      entries.insert(entries.end(), gen.begin(), gen.end());
    }
    const std::string finish = c.finish.empty() ? "length" : c.finish;
    if (opt_.kind == ApiKind::kChat) {
      choices.push_back(Json{{"index", i},
                             {"message", Json{{"role", "assistant"}, {"content", c.text.text()}, {"refusal", nullptr}}},
                             {"logprobs", opt_.logprobs >= 0 ? chat_logprobs(entries) : Json(nullptr)},
                             {"finish_reason", finish}});
    } else {
      choices.push_back(Json{{"text", (opt_.echo ? p.text : std::string()) + c.text.text()},
                             {"index", i},
                             {"logprobs", opt_.logprobs >= 0 ? legacy_logprobs(entries) : Json(nullptr)},
                             {"finish_reason", finish}});
    }
  }
  r["choices"] = std::move(choices);
  r["usage"] = Json{{"prompt_tokens", prompt_tokens()},
                    {"completion_tokens", completion_tokens()},
                    {"total_tokens", prompt_tokens() + completion_tokens()}};
  return r;
}

}  // namespace ts::server
