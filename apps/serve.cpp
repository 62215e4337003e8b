// tokenscope serve: the OpenAI-compatible HTTP API with whole token distributions, and the viewer at `/`
// (src/server/http_server.h has the routes, src/server/scheduler.h the concurrency design).
//
// Binds 127.0.0.1:8080 unless told otherwise; SIGINT / SIGTERM stop it cleanly (a thread waits for them with
// sigwait, so no work happens in a signal handler).
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include <pthread.h>

#include "commands.h"
#include "common.h"
#include "runtime/engine.h"
#include "runtime/speculative.h"
#include "server/http_server.h"

namespace ts::cli {
namespace {

struct Opts {
  std::string model, host = "127.0.0.1", api_key, draft, compare, alias, cors, chat_template_file;
  std::string precision = "int16";  // --precision of every model the server loads
  std::string load = "auto";        // --load of every model the server loads
  int port = 8080, threads = 0, parallel = 4;
  int64_t ctx = 0;
  double max_body_mib = 8;
  bool log_prompts = false;
};

Expected<std::unique_ptr<Engine>> load_named(const std::string& given, const std::string& what,
                                             gguf::Residency residency, Precision precision) {
  auto path = resolve_model(given);
  if (!path) return path.error();
  auto e = Engine::load(*path, residency, precision);
  if (!e) return Error::input(what + ": " + e.error().message);
  return std::move(*e);
}

std::string stem(const std::string& path) { return std::filesystem::path(path).stem().string(); }

int run_serve(Opts& o) {
  auto main_path = resolve_model(o.model);
  if (!main_path) return report(main_path.error());
  auto main = Engine::load(*main_path, residency_named(o.load), precision_named(o.precision));
  if (!main) return report(main.error());
  std::unique_ptr<Engine> draft, compare;
  if (!o.draft.empty()) {
    auto d = load_named(o.draft, "--draft", residency_named(o.load), precision_named(o.precision));
    if (!d) return report(d.error());
    draft = std::move(*d);
    if (auto s = check_same_vocabulary(**main, *draft, o.draft); !s) return report(s.error());
  }
  if (!o.compare.empty()) {
    auto c = load_named(o.compare, "--compare-model", residency_named(o.load), precision_named(o.precision));
    if (!c) return report(c.error());
    compare = std::move(*c);
    if (auto s = check_same_vocabulary(**main, *compare, o.compare); !s) return report(s.error());
  }
  server::ServerOptions so;
  so.host = o.host;
  so.port = o.port;
  so.threads = thread_count(o.threads);
  so.parallel = o.parallel;
  so.ctx = o.ctx;
  so.api_key = o.api_key;
  if (so.api_key.empty())
    if (const char* k = std::getenv("TOKENSCOPE_API_KEY"); k && *k) so.api_key = k;
  so.cors_origin = o.cors;
  so.max_body = static_cast<size_t>(o.max_body_mib * 1024 * 1024);
  so.log_prompts = o.log_prompts;
  if (!o.chat_template_file.empty()) {
    auto t = read_text_file(o.chat_template_file);
    if (!t) return report(t.error());
    so.chat_template = std::move(*t);
    so.chat_template_origin = o.chat_template_file;
  }
  server::ServerModels models;
  models.main = main->get();
  models.main_name = o.alias.empty() ? stem(*main_path) : o.alias;
  models.draft = draft.get();
  models.compare = compare.get();
  if (compare) models.compare_name = stem(o.compare) == models.main_name ? stem(o.compare) + "-b" : stem(o.compare);

  // Signals go to the waiting thread only: block them before any other thread starts.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not end the server

  server::Server srv(models, so);
  auto port = srv.bind();
  if (!port) return report(port.error());
  const bool loopback = o.host == "127.0.0.1" || o.host == "localhost" || o.host == "::1";
  if (!loopback && so.api_key.empty())
    std::fprintf(stderr, "tokenscope serve: warning: listening on %s without --api-key\n", o.host.c_str());
  std::fprintf(stderr,
               "tokenscope serve: %s as \"%s\"%s%s, %d parallel, on http://%s:%d/ (viewer at /, OpenAI API at /v1)\n",
               main_path->c_str(), models.main_name.c_str(), compare ? ", compare " : "",
               compare ? models.compare_name.c_str() : "", so.parallel, o.host.c_str(), *port);
  std::thread waiter([&srv, sigs] {
    int sig = 0;
    sigwait(&sigs, &sig);
    std::fprintf(stderr, "tokenscope serve: signal %d, stopping\n", sig);
    srv.stop();
  });
  srv.listen();
  // listen() also returns if the socket fails; wake the waiter so it can end.
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  return 0;
}

}  // namespace

void register_serve(CLI::App& app, Run& run) {
  auto* cmd = app.add_subcommand("serve", "OpenAI-compatible HTTP server with whole token distributions, and a "
                                          "viewer at /");
  auto o = std::make_shared<Opts>();
  cmd->add_option("-m,--model", o->model, "GGUF model file or name (default: smollm2-135m if installed, else the "
                                          "bundled demo model)");
  cmd->add_option("--host", o->host, "Address to bind (default 127.0.0.1: this machine only)");
  cmd->add_option("--port", o->port, "Port (0: any free one)")->check(CLI::Range(0, 65535));
  cmd->add_option("-t,--threads", o->threads, "Threads for the forward pass (default: all cores)")
      ->check(CLI::Range(0, 1024));
  cmd->add_option("--parallel", o->parallel,
                  "Requests decoded at once (continuous batching: one batched forward pass per step)")
      ->check(CLI::Range(1, 256));
  cmd->add_option("--ctx", o->ctx, "Context per sequence (default: the model's training context)")
      ->check(CLI::Range(int64_t(2), int64_t(1) << 20));
  cmd->add_option("--api-key", o->api_key,
                  "Require 'Authorization: Bearer KEY' on the API routes (or set TOKENSCOPE_API_KEY)");
  cmd->add_option("--precision", o->precision, kPrecisionHelp)->check(CLI::IsMember({"exact", "int16", "fast"}));
  cmd->add_option("--load", o->load, kLoadHelp)->check(CLI::IsMember({"auto", "copy", "mmap"}));
  cmd->add_option("--draft", o->draft, "Speculative decoding with this draft model (same vocabulary)");
  cmd->add_option("--compare-model", o->compare,
                  "Second model (same vocabulary) for /v1/compare, the viewer's diff and /v1/detect's Binoculars "
                  "observer");
  cmd->add_option("--alias", o->alias, "Model id reported by /v1/models (default: the file name)");
  cmd->add_option("--cors", o->cors, "Allow this browser origin (Access-Control-Allow-Origin); default: no CORS");
  cmd->add_flag("--log-prompts", o->log_prompts, "Put prompt text in the request log (default: never)");
  cmd->add_option("--max-body", o->max_body_mib, "Largest request body in MiB (413 beyond)")
      ->check(CLI::Range(0.001, 1024.0));
  cmd->add_option("--chat-template-file", o->chat_template_file,
                  "Jinja chat template to use instead of the model's tokenizer.chat_template");
  cmd->callback([&run, o] { run = [o] { return run_serve(*o); }; });
}

}  // namespace ts::cli
