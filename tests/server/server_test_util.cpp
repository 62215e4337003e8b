#include "server_test_util.h"

#include <gtest/gtest.h>

#include <csignal>
#include <mutex>

namespace ts::server::test {

struct TestServer::Log {
  std::mutex mu;
  std::vector<std::string> lines;
};

std::string demo_model_path() { return std::string(TS_SOURCE_DIR) + "/models/tokenscope-demo.gguf"; }

TestServer::TestServer(void (*tweak)(ServerOptions&), bool with_compare) : log_(std::make_shared<Log>()) {
  std::signal(SIGPIPE, SIG_IGN);
  auto e = Engine::load(demo_model_path());
  if (!e) throw std::runtime_error(e.error().message);
  engine_ = std::move(*e);
  ServerModels m;
  m.main = engine_.get();
  m.main_name = "demo";
  if (with_compare) {
    auto c = Engine::load(demo_model_path());
    if (!c) throw std::runtime_error(c.error().message);
    compare_ = std::move(*c);
    m.compare = compare_.get();
    m.compare_name = "demo-b";
  }
  ServerOptions o;
  o.port = 0;
  o.threads = 2;
  o.parallel = 4;
  auto log = log_;
  o.log = [log](const std::string& line) {
    std::lock_guard<std::mutex> lock(log->mu);
    log->lines.push_back(line);
  };
  if (tweak) tweak(o);
  server_ = std::make_unique<Server>(m, o);
  auto p = server_->start();
  if (!p) throw std::runtime_error(p.error().message);
  port_ = *p;
}

TestServer::~TestServer() { server_->stop(); }

namespace {

Reply to_reply(const httplib::Result& r) {
  Reply out;
  if (!r) {
    out.status = -1;
    out.body = httplib::to_string(r.error());
    return out;
  }
  out.status = r->status;
  out.body = r->body;
  out.json = Json::parse(r->body, nullptr, false);
  if (out.json.is_discarded()) out.json = nullptr;
  return out;
}

}  // namespace

Reply TestServer::post_raw(const std::string& path, const std::string& body, const httplib::Headers& headers) const {
  httplib::Client c("127.0.0.1", port_);
  c.set_read_timeout(120);
  c.set_write_timeout(60);
  return to_reply(c.Post(path.c_str(), headers, body, "application/json"));
}

Reply TestServer::post(const std::string& path, const Json& body, const httplib::Headers& headers) const {
  return post_raw(path, body.dump(), headers);
}

Reply TestServer::get(const std::string& path, const httplib::Headers& headers) const {
  httplib::Client c("127.0.0.1", port_);
  c.set_read_timeout(60);
  return to_reply(c.Get(path.c_str(), headers));
}

std::vector<std::string> TestServer::log_lines() const {
  std::lock_guard<std::mutex> lock(log_->mu);
  return log_->lines;
}

TestServer& shared_server() {
  static TestServer* s = new TestServer();  // lives until exit: tests share one model and port
  return *s;
}

std::vector<std::string> sse_data(const std::string& body) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find("\n\n", pos);
    if (end == std::string::npos) end = body.size();
    const std::string block = body.substr(pos, end - pos);
    if (block.rfind("data: ", 0) == 0) out.push_back(block.substr(6));
    pos = end + 2;
  }
  return out;
}

}  // namespace ts::server::test
