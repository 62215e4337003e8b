// POST /v1/completions and /v1/chat/completions: validation against the model (vocabulary, context), the
// GenerateTask, and the answer — one JSON response, or server-sent events ("data: {chunk}\n\n" ... "data: [DONE]\n\n")
// when stream is true. Shapes in completion_run.h.
#include <random>

#include "server/completion_run.h"
#include "server/generate_task.h"
#include "server/requests.h"
#include "server/server_impl.h"

namespace ts::server {
namespace {

Parsed<PromptInfo> make_prompt(const Engine& e, const PromptInput& in, bool add_special, bool parse_special) {
  PromptInfo p;
  if (in.is_ids) {
    const int32_t V = e.tokenizer.vocab_size();
    for (int32_t id : in.ids) {
      if (id >= V)
        return ApiError::bad("field 'prompt': token id " + std::to_string(id) + " out of range 0.." +
                                 std::to_string(V - 1),
                             "prompt");
      p.offsets.push_back(static_cast<uint32_t>(p.text.size()));
      p.text += token_piece(e, id);
    }
    p.ids = in.ids;
  } else {
    EncodeOptions eo;
    eo.add_special = add_special;
    eo.parse_special = parse_special;
    Encoding enc = e.tokenizer.encode(in.text, eo);
    p.ids = std::move(enc.ids);
    p.offsets = std::move(enc.offsets);
    p.text = in.text;
  }
  if (p.ids.empty())
    return ApiError::bad("the prompt gives no tokens (empty text, and the model adds no BOS)", "prompt");
  return p;
}

std::optional<ApiError> check_fit(int64_t n_prompt, int64_t max_new, int64_t n_ctx, const char* max_key,
                                  const char* prompt_key) {
  if (max_new > n_ctx)
    return ApiError::bad(std::string(max_key) + " " + std::to_string(max_new) + " exceeds the context of " +
                             std::to_string(n_ctx) + " tokens",
                         max_key);
  if (n_prompt > n_ctx)
    return ApiError::bad("prompt of " + std::to_string(n_prompt) + " tokens exceeds the context of " +
                             std::to_string(n_ctx) + " tokens",
                         prompt_key);
  if (max_new > 0 && n_prompt >= n_ctx)
    return ApiError::bad("prompt of " + std::to_string(n_prompt) + " tokens fills the context of " +
                             std::to_string(n_ctx) + " tokens; no room to generate",
                         prompt_key);
  return {};
}

struct Plan {
  const Engine* engine = nullptr;
  RunOptions ro;
  std::vector<PromptInfo> prompts;
  sampling::Chain chain;
  SamplingFields fields;
  int64_t max_new = 0;
  std::string log_prompt;
};

void write_event(httplib::DataSink& sink, bool& ok, const std::string& data) {
  const std::string line = "data: " + data + "\n\n";
  if (ok) ok = sink.write(line.data(), line.size());
}

// Submits the plan's task and answers the request, whole or streamed.
void run_plan(Server::Impl& s, const httplib::Request& req, httplib::Response& res, Plan plan) {
  const Engine& e = *plan.engine;
  GenerateRequest g;
  g.engine = &e;
  g.max_new = plan.max_new;
  g.n_ctx = s.context_of(e);
  g.top_k = std::max(plan.ro.logprobs, plan.ro.ext.processed ? 5 : 0);
  g.ignore_eos = plan.ro.ext.ignore_eos;
  if (&e == s.models.main && s.models.draft) g.draft = s.models.draft;
  const uint64_t seed = plan.fields.seed ? *plan.fields.seed : std::random_device{}();
  const int n = plan.ro.n;
  for (size_t p = 0; p < plan.prompts.size(); ++p)
    for (int j = 0; j < n; ++j) {
      SeqRequest sr;
      sr.prompt = plan.prompts[p].ids;
      sr.prompt_top_k = j == 0 && plan.ro.echo && plan.ro.logprobs >= 0 ? plan.ro.logprobs : -1;
      sr.same_prompt_as = j == 0 ? -1 : static_cast<int>(p) * n;
      sr.chain = plan.chain;
      sr.seed = seed + static_cast<uint64_t>(g.seqs.size());
      g.seqs.push_back(std::move(sr));
    }
  const int n_seqs = static_cast<int>(g.seqs.size());
  auto job = s.scheduler->submit(make_generate_task(std::move(g)), n_seqs);
  if (!job) {
    const auto load = s.scheduler->load();
    return send_error(res, ApiError{503, "server busy: " + std::to_string(load.queued) + " requests waiting",
                                    "server_error", "", "server_busy"});
  }
  auto run = std::make_shared<CompletionRun>(e, plan.ro, std::move(plan.prompts));
  const bool include_usage = plan.ro.include_usage;
  const std::string log_prompt = plan.log_prompt;

  if (!plan.fields.stream) {
    std::optional<ApiError> err;
    const bool connected = drain_job(*job, req, [&](Event& ev) {
      if (ev.kind == Event::Kind::kError)
        err = ev.input_error ? ApiError::bad(ev.message) : ApiError::internal(ev.message);
      else
        run->apply(ev, *job, nullptr);
    });
    s.note(req, run->prompt_tokens() + run->completion_tokens(), log_prompt);
    if (!connected) {
      res.status = 499;  // nginx's "client closed request": nobody reads this, the log does
      return;
    }
    if (err) return send_error(res, *err);
    return send_json(res, run->response());
  }

  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  Server::Impl* sp = &s;
  const httplib::Request* rq = &req;  // alive until the response is written and logged
  res.set_chunked_content_provider(
      "text/event-stream",
      [sp, rq, job, run, include_usage, log_prompt](size_t, httplib::DataSink& sink) {
        Event ev;
        bool ok = true;
        const bool got = job->next(ev, std::chrono::milliseconds(1000));
        if (!got) {
          // An SSE comment: clients ignore it, and a write that fails tells that the client has gone.
          static const char kPing[] = ": ping\n\n";
          ok = sink.write(kPing, sizeof kPing - 1);
        } else if (ev.kind == Event::Kind::kError) {
          ApiError err = ev.input_error ? ApiError::bad(ev.message) : ApiError::internal(ev.message);
          write_event(sink, ok, json_text(error_json(err)));
        } else {
          std::vector<Json> chunks;
          run->apply(ev, *job, &chunks);
          for (const Json& c : chunks) write_event(sink, ok, json_text(c));
          if (ev.kind == Event::Kind::kDone && include_usage) write_event(sink, ok, json_text(run->usage_chunk()));
        }
        const bool last = got && (ev.kind == Event::Kind::kDone || ev.kind == Event::Kind::kError);
        if (last) write_event(sink, ok, "[DONE]");
        if (last || !ok) sp->note(*rq, run->prompt_tokens() + run->completion_tokens(), log_prompt);
        if (last && ok) sink.done();
        return ok;
      },
      [job](bool success) {
        if (!success) job->cancel();  // the client went away mid-stream
      });
}

}  // namespace

void Server::Impl::completions(const httplib::Request& req, httplib::Response& res) {
  auto body = parse_body(req.body);
  if (!body) return send_error(res, body.error());
  auto cb = parse_completion(*body);
  if (!cb) return send_error(res, cb.error());
  Plan plan;
  plan.engine = &engine_for(cb->s.model);
  const Engine& e = *plan.engine;
  auto chain = build_chain(cb->s);
  if (!chain) return send_error(res, chain.error());
  plan.chain = std::move(*chain);
  const int64_t n_ctx = context_of(e);
  plan.max_new = cb->s.max_tokens.value_or(16);
  for (const PromptInput& in : cb->prompts) {
    auto p = make_prompt(e, in, /*add_special=*/true, /*parse_special=*/true);
    if (!p) return send_error(res, p.error());
    if (auto err = check_fit(static_cast<int64_t>(p->ids.size()), plan.max_new, n_ctx, "max_tokens", "prompt"))
      return send_error(res, *err);
    plan.prompts.push_back(std::move(*p));
  }
  plan.ro.kind = ApiKind::kCompletion;
  plan.ro.logprobs = cb->logprobs;
  plan.ro.echo = cb->echo;
  plan.ro.ext = cb->s.ext;
  plan.ro.n = cb->s.n;
  plan.ro.include_usage = cb->s.include_usage;
  plan.ro.model = cb->s.model.empty() ? name_of(e) : cb->s.model;
  plan.ro.stop = cb->s.stop;
  plan.log_prompt = cb->prompts.front().is_ids ? std::string() : cb->prompts.front().text;
  plan.fields = std::move(cb->s);
  run_plan(*this, req, res, std::move(plan));
}

void Server::Impl::chat(const httplib::Request& req, httplib::Response& res) {
  auto body = parse_body(req.body);
  if (!body) return send_error(res, body.error());
  auto cb = parse_chat(*body);
  if (!cb) return send_error(res, cb.error());
  Plan plan;
  plan.engine = &engine_for(cb->s.model);
  const Engine& e = *plan.engine;
  auto chain = build_chain(cb->s);
  if (!chain) return send_error(res, chain.error());
  plan.chain = std::move(*chain);
  auto rendered = render_chat(chat_template_for(e), cb->messages, cb->add_generation_prompt);
  if (!rendered) return send_error(res, rendered.error());
  // As Hugging Face's apply_chat_template(tokenize=True): the template writes any BOS itself.
  PromptInput in;
  in.text = *rendered;
  auto p = make_prompt(e, in, /*add_special=*/false, /*parse_special=*/true);
  if (!p) return send_error(res, p.error());
  const int64_t n_ctx = context_of(e);
  const int64_t n_prompt = static_cast<int64_t>(p->ids.size());
  const char* max_key = body->contains("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
  plan.max_new = cb->s.max_tokens.value_or(std::max<int64_t>(0, n_ctx - n_prompt));
  if (auto err = check_fit(n_prompt, std::max<int64_t>(plan.max_new, 1), n_ctx, max_key, "messages"))
    return send_error(res, *err);
  plan.prompts.push_back(std::move(*p));
  plan.ro.kind = ApiKind::kChat;
  plan.ro.logprobs = cb->logprobs ? cb->top_logprobs : -1;
  plan.ro.ext = cb->s.ext;
  plan.ro.n = cb->s.n;
  plan.ro.include_usage = cb->s.include_usage;
  plan.ro.model = cb->s.model.empty() ? name_of(e) : cb->s.model;
  plan.ro.stop = cb->s.stop;
  plan.log_prompt = *rendered;
  plan.fields = std::move(cb->s);
  run_plan(*this, req, res, std::move(plan));
}

}  // namespace ts::server
