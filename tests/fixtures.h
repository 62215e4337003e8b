// Where the golden tests find ../shared/fixtures, and what they do when it is missing; and where tests write files.
//
// A user's fresh clone has no ../shared: the tests that need it skip with a visible message. Under CI=true a missing
// fixture is a failure.
//
// Files a test writes go in a TempDir of its own, never under a fixed name in /tmp: ctest -j runs every test as its
// own process, at the same time as others, and two users may share /tmp.
#pragma once

#include <gtest/gtest.h>

#include <string>

namespace ts::test {

// Absolute path of ../shared/fixtures relative to the source tree, or TOKENSCOPE_FIXTURES if set.
std::string fixtures_dir();
// fixtures_dir() + "/" + rel if it exists, else "".
std::string fixture_path(const std::string& rel);
bool running_in_ci();

// A fresh empty directory temp_directory_path() / "tokenscope-test-<pid>-<n>" ($TMPDIR, else /tmp; n counts up within
// the process and past any name that already exists), removed with its contents when the object goes. Throws
// std::filesystem::filesystem_error when it cannot be made (gtest reports that as the test's failure). Only the process
// that made it removes it (a forked child, as a death test's, leaves it alone).
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
  int owner_pid_ = 0;
};

// One TempDir for the whole test program, removed when it exits: for helpers that hand out paths no test owns.
const TempDir& process_temp_dir();

}  // namespace ts::test

// Use at the top of a test: binds `var` to the fixture's absolute path, or skips (fails under CI=true).
#define TS_REQUIRE_FIXTURE(var, rel)                                                              \
  const std::string var = ::ts::test::fixture_path(rel);                                          \
  if (var.empty()) {                                                                               \
    if (::ts::test::running_in_ci()) FAIL() << "fixture missing under CI=true: " << (rel);         \
    GTEST_SKIP() << "fixture not found: ../shared/fixtures/" << (rel) << " (skipping golden test)"; \
  }
