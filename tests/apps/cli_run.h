// Runs the tokenscope binary from tests and captures its exit code, stdout and stderr.
#pragma once

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

namespace ts::test {

struct CliResult {
  int exit_code = -1;
  std::string out, err;
};

// args are passed through /bin/sh quoted; stdin_text (if any) is fed to the program's standard input.
CliResult run_cli(const std::vector<std::string>& args, const std::string& stdin_text = "");
// A fresh temporary directory (fixtures.h's TempDir), removed when the test program exits.
std::string temp_dir();
void write_file(const std::string& path, const std::string& content);

// Sets an environment variable (seen by the CLI runs this test starts) and restores it on scope exit.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace ts::test
