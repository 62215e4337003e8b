#include "cli_run.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "fixtures.h"

namespace ts::test {

namespace {

std::string quote(const std::string& s) {
  std::string r = "'";
  for (char c : s) r += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return r + "'";
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Directories made by temp_dir(), removed when the test program exits.
std::vector<std::unique_ptr<TempDir>>& temp_dirs() {
  static std::vector<std::unique_ptr<TempDir>> t;
  return t;
}

}  // namespace

std::string temp_dir() { return temp_dirs().emplace_back(std::make_unique<TempDir>())->path(); }

void write_file(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
}

CliResult run_cli(const std::vector<std::string>& args, const std::string& stdin_text) {
  const std::string dir = temp_dir();
  std::string cmd = quote(TS_CLI_PATH);
  for (const auto& a : args) cmd += " " + quote(a);
  write_file(dir + "/in", stdin_text);
  cmd += " < " + quote(dir + "/in") + " > " + quote(dir + "/out") + " 2> " + quote(dir + "/err");
  const int status = std::system(cmd.c_str());
  CliResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(dir + "/out");
  r.err = slurp(dir + "/err");
  return r;
}

}  // namespace ts::test
