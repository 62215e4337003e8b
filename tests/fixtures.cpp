#include "fixtures.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <system_error>

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

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  namespace fs = std::filesystem;
  const fs::path base = fs::temp_directory_path();
  const std::string stem = "tokenscope-test-" + std::to_string(::getpid()) + "-";
  for (;;) {
    const fs::path p = base / (stem + std::to_string(counter++));
    std::error_code ec;
    if (fs::create_directory(p, ec)) {  // false without error: the name exists (a dead process's, or another user's)
      path_ = p.string();
      owner_pid_ = ::getpid();
      return;
    }
    if (ec && ec != std::errc::file_exists) throw fs::filesystem_error("cannot make a test directory", p, ec);
  }
}

TempDir::~TempDir() {
  if (::getpid() != owner_pid_) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

const TempDir& process_temp_dir() {
  static const TempDir dir;
  return dir;
}

}  // namespace ts::test
