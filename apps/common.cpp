#include "common.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <vector>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <thread>

namespace ts::cli {

Expected<std::string> read_text_file(const std::string& path) {
  if (path == "-") {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    return ss.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::input(path + ": cannot open: " + std::strerror(errno));
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Error::input(path + ": read error");
  return s;
}

std::string dump_json(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Json bytes_array(const std::string& bytes) {
  Json a = Json::array();
  for (unsigned char c : bytes) a.push_back(static_cast<int>(c));
  return a;
}

double round6(double x) {
  if (!std::isfinite(x)) return x;
  return std::round(x * 1e6) / 1e6;
}

Expected<std::string> resolve_model(const std::string& given) {
  if (!given.empty()) return given;
  std::vector<std::string> candidates;
  std::error_code ec;
  if (const char* env = std::getenv("TOKENSCOPE_DEMO_MODEL"); env && *env) {
    if (!std::filesystem::is_regular_file(env, ec))
      return Error::input(std::string("TOKENSCOPE_DEMO_MODEL: no such file: ") + env);
    candidates.push_back(env);
  }
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    candidates.push_back((exe.parent_path().parent_path() / "models" / "tokenscope-demo.gguf").string());
    candidates.push_back((exe.parent_path() / "models" / "tokenscope-demo.gguf").string());
  }
#ifdef TS_DEMO_MODEL
  candidates.push_back(TS_DEMO_MODEL);
#endif
  for (const auto& c : candidates) {
    if (std::filesystem::is_regular_file(c, ec)) {
      std::fprintf(stderr, "tokenscope: no -m given; using the bundled demo model %s\n", c.c_str());
      return c;
    }
  }
  return Error::input("no model: give one with -m MODEL.gguf (the bundled demo model models/tokenscope-demo.gguf "
                      "was not found)");
}

int thread_count(int n) {
  if (n > 0) return n;
  const unsigned h = std::thread::hardware_concurrency();
  return h ? static_cast<int>(h) : 1;
}

}  // namespace ts::cli
