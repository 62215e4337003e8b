// Runs the tokenscope binary from tests and captures its exit code, stdout and stderr.
#pragma once

#include <string>
#include <vector>

namespace ts::test {

struct CliResult {
  int exit_code = -1;
  std::string out, err;
};

// args are passed through /bin/sh quoted; stdin_text (if any) is fed to the program's standard input.
CliResult run_cli(const std::vector<std::string>& args, const std::string& stdin_text = "");
// A fresh temporary directory for this test.
std::string temp_dir();
void write_file(const std::string& path, const std::string& content);

}  // namespace ts::test
