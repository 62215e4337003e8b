#include "fixtures.h"

#include <cstdlib>
#include <filesystem>

namespace ts::test {

std::string fixtures_dir() {
  if (const char* env = std::getenv("TOKENSCOPE_FIXTURES"); env && *env) return env;
  std::filesystem::path p = std::filesystem::path(TS_SOURCE_DIR) / ".." / "shared" / "fixtures";
  std::error_code ec;
  auto canon = std::filesystem::weakly_canonical(p, ec);
  return ec ? p.string() : canon.string();
}

std::string fixture_path(const std::string& rel) {
  std::filesystem::path p = std::filesystem::path(fixtures_dir()) / rel;
  std::error_code ec;
  return std::filesystem::exists(p, ec) ? p.string() : std::string();
}

bool running_in_ci() {
  const char* ci = std::getenv("CI");
  return ci && (std::string(ci) == "true" || std::string(ci) == "1");
}

}  // namespace ts::test
