// The in-process server the route tests share: the demo model (twice: main and compare), an ephemeral port, and
// small helpers to post JSON and read server-sent events.
#pragma once

#include <httplib.h>

#include <memory>
#include <string>
#include <vector>

#include "runtime/engine.h"
#include "server/api.h"
#include "server/http_server.h"

namespace ts::server::test {

struct Reply {
  int status = 0;
  std::string body;
  Json json;  // parsed body (null when not JSON)
};

class TestServer {
 public:
  // Loads the demo model and starts a server on 127.0.0.1:<free port>; `tweak` may change the options first.
  explicit TestServer(void (*tweak)(ServerOptions&) = nullptr, bool with_compare = true);
  ~TestServer();

  int port() const { return port_; }
  const Engine& engine() const { return *engine_; }
  Reply post(const std::string& path, const Json& body, const httplib::Headers& headers = {}) const;
  Reply post_raw(const std::string& path, const std::string& body, const httplib::Headers& headers = {}) const;
  Reply get(const std::string& path, const httplib::Headers& headers = {}) const;
  std::vector<std::string> log_lines() const;

 private:
  std::unique_ptr<Engine> engine_, compare_;
  std::unique_ptr<Server> server_;
  int port_ = 0;
  struct Log;
  std::shared_ptr<Log> log_;
};

// The shared server of a test binary (created on first use).
TestServer& shared_server();

// The data lines of an SSE body, in order ("[DONE]" included as is).
std::vector<std::string> sse_data(const std::string& body);

std::string demo_model_path();

}  // namespace ts::server::test
