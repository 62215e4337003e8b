// See http_server.h for the routes and defaults; completions and chat are in openai_routes.cpp, score and compare in
// score_routes.cpp, analyze and detect in analysis_routes.cpp.
#include "server/http_server.h"

#include <algorithm>
#include <cstdio>

#include <sys/socket.h>

#include "server/connection_watch.h"
#include "server/requests.h"
#include "server/server_impl.h"
#include "server/web_assets.h"

namespace ts::server {

void send_json(httplib::Response& res, const Json& j, int status) {
  res.status = status;
  res.set_content(json_text(j), "application/json");
}

void send_error(httplib::Response& res, const ApiError& e) { send_json(res, error_json(e), e.status); }

bool drain_job(Job& job, const httplib::Request& req, const std::function<void(Event&)>& f) {
  ConnectionWatch watch(req.local_addr, req.local_port, req.remote_addr, req.remote_port);
  using Clock = std::chrono::steady_clock;
  constexpr auto kCheckEvery = std::chrono::milliseconds(100);
  auto next_check = Clock::now() + kCheckEvery;
  Event ev;
  for (;;) {
    const bool got = job.next(ev, kCheckEvery);
    if (Clock::now() >= next_check) {  // checked on time, whether events keep coming or not
      next_check = Clock::now() + kCheckEvery;
      if (watch.closed()) {
        job.cancel();
        return false;
      }
    }
    if (!got) continue;
    const bool last = ev.kind == Event::Kind::kDone || ev.kind == Event::Kind::kError;
    f(ev);
    if (last) return true;
  }
}

Server::Impl::Impl(ServerModels m, ServerOptions o) : models(std::move(m)), opt(std::move(o)) {
  SchedulerOptions so;
  so.threads = opt.threads;
  so.parallel = opt.parallel;
  scheduler = std::make_unique<Scheduler>(so);
  if (!opt.log) opt.log = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
}

const Engine& Server::Impl::engine_for(const std::string& model) const {
  if (models.compare && !model.empty() && model == models.compare_name) return *models.compare;
  return *models.main;
}

const std::string& Server::Impl::name_of(const Engine& e) const {
  return &e == models.compare ? models.compare_name : models.main_name;
}

int64_t Server::Impl::context_of(const Engine& e) const {
  const int64_t train = e.model->config().n_ctx_train;
  return opt.ctx > 0 ? std::min(opt.ctx, train) : train;
}

ChatTemplate Server::Impl::chat_template_for(const Engine& e) const {
  return chat_template_of(e, &e == models.main ? opt.chat_template : std::string(), opt.chat_template_origin);
}

void Server::Impl::note(const httplib::Request& req, int64_t tokens, const std::string& prompt) {
  std::lock_guard<std::mutex> lock(notes_mu);
  Note& n = notes[&req];
  n.tokens = tokens;
  if (opt.log_prompts) n.prompt = prompt;
}

void Server::Impl::log_line(const httplib::Request& req, const httplib::Response& res) {
  Note n;
  {
    std::lock_guard<std::mutex> lock(notes_mu);
    auto it = notes.find(&req);
    if (it != notes.end()) {
      n = std::move(it->second);
      notes.erase(it);
    }
  }
  const double ms =
      n.t0.time_since_epoch().count() == 0
          ? 0.0
          : std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - n.t0).count();
  char stats[96];
  std::snprintf(stats, sizeof stats, " %d tokens=%lld ms=%.1f", res.status, static_cast<long long>(n.tokens), ms);
  // the route without the query string, and never longer than a line
  std::string line = req.method + " " + req.path.substr(0, 200) + stats;
  if (opt.log_prompts && !n.prompt.empty()) line += " prompt=" + json_text(Json(n.prompt));
  opt.log(line);
}

namespace {

bool authorized(const httplib::Request& req, const std::string& key) {
  const std::string auth = req.get_header_value("Authorization");
  if (auth == "Bearer " + key) return true;
  return req.get_header_value("X-Api-Key") == key;
}

// Routes that stay open when an API key is set: the viewer's files and the health check.
bool public_route(const httplib::Request& req) {
  if (req.method != "GET") return false;
  return req.path == "/health" || find_web_asset(req.path) != nullptr;
}

}  // namespace

void Server::Impl::setup_routes() {
  const int http_threads = std::max(8, opt.parallel * 4);
  http.new_task_queue = [http_threads] { return new httplib::ThreadPool(static_cast<size_t>(http_threads)); };
  http.set_payload_max_length(opt.max_body);
  // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, which lets a second server bind a port already in use
  // and silently share its connections.
  http.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  if (!opt.cors_origin.empty())
    http.set_default_headers({{"Access-Control-Allow-Origin", opt.cors_origin}, {"Vary", "Origin"}});

  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    {
      std::lock_guard<std::mutex> lock(notes_mu);
      notes[&req].t0 = std::chrono::steady_clock::now();
    }
    if (req.method == "OPTIONS" && !opt.cors_origin.empty()) {
      res.status = 204;
      res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
      res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Api-Key");
      res.set_header("Access-Control-Max-Age", "600");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (!opt.api_key.empty() && !public_route(req) && !authorized(req, opt.api_key)) {
      send_error(res, ApiError{401, "missing or invalid API key (send it as 'Authorization: Bearer KEY')",
                               "authentication_error", "", "invalid_api_key"});
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });

  // Fills the body of errors that httplib answers itself (unknown route, body too large, bad request line).
  http.set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request& req,
                                                                      httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    ApiError e;
    e.status = res.status;
    if (res.status == 404) {
      e.message = "unknown route " + req.method + " " + req.path.substr(0, 200);
      e.type = "not_found_error";
      e.code = "not_found";
    } else if (res.status == 413) {
      e.message = "request body larger than the limit of " + std::to_string(opt.max_body) + " bytes";
      e.code = "payload_too_large";
    } else {
      e.message = "request rejected (HTTP " + std::to_string(res.status) + ")";
    }
    send_error(res, e);
    return httplib::Server::HandlerResponse::Handled;
  }));
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    send_error(res, ApiError::internal("internal error: " + what));
  });
  http.set_logger([this](const httplib::Request& req, const httplib::Response& res) { log_line(req, res); });

  http.Get("/health", [this](const httplib::Request& req, httplib::Response& res) {
    const Scheduler::Load load = scheduler->load();
    Json j = {{"status", "ok"},
              {"model", models.main_name},
              {"n_ctx", context_of(*models.main)},
              {"parallel", scheduler->parallel()},
              {"active", load.active},
              {"queued", load.queued},
              {"cancelled", load.cancelled},
              {"compare_model", models.compare ? Json(models.compare_name) : Json(nullptr)},
              {"draft", models.draft != nullptr},
              {"chat", chat_templates_supported() && !chat_template_for(*models.main).source.empty()},
              {"auth", !opt.api_key.empty()}};
    send_json(res, j);
  });
  http.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    const int64_t created =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    Json data = Json::array();
    auto add = [&](const Engine& e, const std::string& name) {
      const ModelConfig& c = e.model->config();
      data.push_back(Json{{"id", name},
                          {"object", "model"},
                          {"created", created},
                          {"owned_by", "tokenscope"},
                          {"meta", Json{{"n_vocab", c.n_vocab}, {"n_ctx_train", c.n_ctx_train}, {"n_ctx", context_of(e)}}}});
    };
    add(*models.main, models.main_name);
    if (models.compare) add(*models.compare, models.compare_name);
    send_json(res, Json{{"object", "list"}, {"data", std::move(data)}});
  });
  http.Post("/v1/completions", [this](const httplib::Request& q, httplib::Response& r) { completions(q, r); });
  http.Post("/v1/chat/completions", [this](const httplib::Request& q, httplib::Response& r) { chat(q, r); });
  http.Post("/v1/score", [this](const httplib::Request& q, httplib::Response& r) { score(q, r, false); });
  http.Post("/v1/compare", [this](const httplib::Request& q, httplib::Response& r) { score(q, r, true); });
  http.Post("/tokenize", [this](const httplib::Request& q, httplib::Response& r) { tokenize(q, r); });
  http.Post("/detokenize", [this](const httplib::Request& q, httplib::Response& r) { detokenize(q, r); });
  http.Post("/v1/analyze", [this](const httplib::Request& q, httplib::Response& r) { analyze(q, r); });
  http.Post("/v1/detect", [this](const httplib::Request& q, httplib::Response& r) { detect(q, r); });
  http.Get(R"(/[A-Za-z0-9_.\-]*)", [](const httplib::Request& req, httplib::Response& res) {
    const WebAsset* a = find_web_asset(req.path);
    if (!a) {
      send_error(res, ApiError{404, "unknown route GET " + req.path.substr(0, 200), "not_found_error", "", "not_found"});
      return;
    }
    res.set_content(a->data.data(), a->data.size(), std::string(a->mime));
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Content-Type-Options", "nosniff");
  });
}

void Server::Impl::tokenize(const httplib::Request& req, httplib::Response& res) {
  auto body = parse_body(req.body);
  if (!body) return send_error(res, body.error());
  auto b = parse_tokenize(*body);
  if (!b) return send_error(res, b.error());
  const Engine& e = engine_for(body->value("model", std::string()));
  EncodeOptions eo;
  eo.add_special = b->add_special;
  eo.parse_special = b->parse_special;
  const Encoding enc = e.tokenizer.encode(b->content, eo);
  Json tokens = Json::array();
  for (size_t i = 0; i < enc.ids.size(); ++i) {
    if (b->with_pieces)
      tokens.push_back(Json{{"id", enc.ids[i]},
                            {"piece", e.tokenizer.token_text(enc.ids[i])},
                            {"bytes", bytes_array(e.tokenizer.token_bytes(enc.ids[i]))},
                            {"offset", enc.offsets[i]}});
    else
      tokens.push_back(enc.ids[i]);
  }
  note(req, static_cast<int64_t>(enc.ids.size()), b->content);
  send_json(res, Json{{"tokens", std::move(tokens)}});
}

void Server::Impl::detokenize(const httplib::Request& req, httplib::Response& res) {
  auto body = parse_body(req.body);
  if (!body) return send_error(res, body.error());
  auto b = parse_detokenize(*body);
  if (!b) return send_error(res, b.error());
  const Engine& e = engine_for(body->value("model", std::string()));
  const int32_t V = e.tokenizer.vocab_size();
  for (int32_t id : b->tokens)
    if (id >= V)
      return send_error(res, ApiError::bad("field 'tokens': token id " + std::to_string(id) + " out of range 0.." +
                                               std::to_string(V - 1),
                                           "tokens"));
  note(req, static_cast<int64_t>(b->tokens.size()));
  send_json(res, Json{{"content", e.tokenizer.decode(b->tokens)}});
}

Server::Server(ServerModels models, ServerOptions opt)
    : impl_(std::make_unique<Impl>(std::move(models), std::move(opt))) {
  impl_->setup_routes();
}

Server::~Server() { stop(); }

Expected<int> Server::bind() {
  Impl& s = *impl_;
  int port = s.opt.port;
  if (port == 0) {
    port = s.http.bind_to_any_port(s.opt.host);
    if (port <= 0) return Error::input("serve: cannot bind " + s.opt.host + " to a free port");
  } else if (!s.http.bind_to_port(s.opt.host, port)) {
    return Error::input("serve: cannot bind " + s.opt.host + ":" + std::to_string(port) +
                        " (in use, or not an address of this machine)");
  }
  s.bound = true;
  return port;
}

void Server::listen() { impl_->http.listen_after_bind(); }

Expected<int> Server::start() {
  auto port = bind();
  if (!port) return port;
  impl_->thread = std::thread([this] { listen(); });
  // listen_after_bind() sets is_running() as its first step; wait for it, so a test's first request is served.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!impl_->http.is_running() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  return port;
}

void Server::stop() {
  if (!impl_) return;
  impl_->http.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace ts::server
