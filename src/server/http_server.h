// tokenscope's HTTP server: the OpenAI-compatible API, the tokenscope routes and the embedded viewer.
//
// Routes: GET / (the viewer, web/ compiled in), GET /health, GET /v1/models, POST /v1/completions,
// POST /v1/chat/completions, POST /v1/score, POST /v1/compare (with a compare model), POST /v1/analyze,
// POST /v1/detect (analysis_requests.h), POST /tokenize, POST /detokenize. Errors are OpenAI's {"error": {"message",
// "type", "param", "code"}}: 400 bad input, 401 a missing or wrong API key (when one is set; the viewer's files and
// /health stay open), 404 unknown route, 413 a body over max_body, 501 a feature this build lacks, 503 queue full.
//
// Safe defaults: binds 127.0.0.1; no CORS headers unless cors_origin is set; one log line per request (method,
// route, status, tokens, milliseconds) and no prompt text unless log_prompts.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "runtime/engine.h"
#include "tokenscope/expected.h"

namespace ts::server {

struct ServerModels {
  const Engine* main = nullptr;
  std::string main_name;             // the id clients send as "model" (--alias, else the file name)
  const Engine* draft = nullptr;     // speculative decoding for generation
  const Engine* compare = nullptr;   // second model for /v1/compare and the viewer's diff
  std::string compare_name;
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;               // 0: an ephemeral port (tests)
  int threads = 0;               // forward-pass threads; <= 0: all cores
  int parallel = 4;              // requests decoded at once
  int64_t ctx = 0;               // context per sequence; 0: the model's training context
  std::string api_key;           // non-empty: required as "Authorization: Bearer KEY" on the API routes
  std::string cors_origin;       // non-empty: Access-Control-Allow-Origin for this origin, and preflight answers
  size_t max_body = size_t(8) << 20;
  bool log_prompts = false;
  std::string chat_template;     // overrides the model's tokenizer.chat_template
  std::string chat_template_origin = "--chat-template-file";
  std::function<void(const std::string&)> log;  // one line per request; default: stderr
};

class Server {
 public:
  Server(ServerModels models, ServerOptions opt);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds host:port; returns the port (the chosen one for port 0). Errors name the address.
  Expected<int> bind();
  // Serves until stop(); call after bind().
  void listen();
  // bind() and listen() on a background thread; for tests.
  Expected<int> start();
  void stop();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace ts::server
