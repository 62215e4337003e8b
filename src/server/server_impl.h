// Internal to src/server: the state behind Server and the helpers its route files share.
#pragma once

#include <httplib.h>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "server/api.h"
#include "server/chat.h"
#include "server/http_server.h"
#include "server/scheduler.h"

namespace ts::server {

struct AnalysisRequest;  // analysis_task.h
struct AnalysisResult;

struct Server::Impl {
  Impl(ServerModels m, ServerOptions o);

  ServerModels models;
  ServerOptions opt;
  httplib::Server http;
  std::unique_ptr<Scheduler> scheduler;
  std::thread thread;  // start(): the listening thread
  bool bound = false;

  // What the log line of a request reports beyond method, route and status (keyed by the request object, which
  // lives until the logger has run).
  struct Note {
    std::chrono::steady_clock::time_point t0;
    int64_t tokens = 0;
    std::string prompt;
  };
  std::mutex notes_mu;
  std::unordered_map<const httplib::Request*, Note> notes;
  void note(const httplib::Request& req, int64_t tokens, const std::string& prompt = {});
  void log_line(const httplib::Request& req, const httplib::Response& res);

  void setup_routes();
  // The engine a request's "model" names: the compare model by its name, otherwise the main one.
  const Engine& engine_for(const std::string& model) const;
  const std::string& name_of(const Engine& e) const;
  int64_t context_of(const Engine& e) const;  // generation context: --ctx capped by the training context
  ChatTemplate chat_template_for(const Engine& e) const;

  // Route handlers.
  void completions(const httplib::Request& req, httplib::Response& res);
  void chat(const httplib::Request& req, httplib::Response& res);
  void score(const httplib::Request& req, httplib::Response& res, bool compare);
  void tokenize(const httplib::Request& req, httplib::Response& res);
  void detokenize(const httplib::Request& req, httplib::Response& res);
  void analyze(const httplib::Request& req, httplib::Response& res);  // analysis_routes.cpp
  void detect(const httplib::Request& req, httplib::Response& res);
  // Runs an AnalysisTask to its end; false when the response is already settled (an error, a gone client).
  bool run_analysis(const httplib::Request& req, httplib::Response& res, AnalysisRequest ar,
                    std::shared_ptr<AnalysisResult>& out, int64_t tokens, const std::string& prompt);
};

void send_json(httplib::Response& res, const Json& j, int status = 200);
void send_error(httplib::Response& res, const ApiError& e);

// Pulls the job's events into f until kDone or kError (both passed to f too). Returns false, having cancelled the
// job, when the client disconnected first.
bool drain_job(Job& job, const httplib::Request& req, const std::function<void(Event&)>& f);

}  // namespace ts::server
