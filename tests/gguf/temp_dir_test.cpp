// fixtures.h's TempDir, which every test that writes files uses (here, in the lowest layer's test binary, because
// fixtures.cpp is linked into each of them).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "fixtures.h"

namespace ts::test {
namespace {

namespace fs = std::filesystem;

TEST(TempDir, EachIsANewEmptyDirectoryUnderTheTempPathRemovedWithItsFiles) {
  std::string first;
  {
    const TempDir a, b;
    first = a.path();
    EXPECT_NE(a.path(), b.path());
    for (const TempDir* d : {&a, &b}) {
      EXPECT_TRUE(fs::is_directory(d->path()));
      EXPECT_TRUE(fs::is_empty(d->path()));
      EXPECT_TRUE(fs::equivalent(fs::path(d->path()).parent_path(), fs::temp_directory_path()));
      EXPECT_TRUE(fs::path(d->path()).filename().string().starts_with("tokenscope-test-"));
    }
    std::ofstream(a.file("x.bin")) << "x";
    fs::create_directory(a.file("sub"));
    std::ofstream(a.file("sub/y.bin")) << "y";
  }
  EXPECT_FALSE(fs::exists(first));
}

TEST(TempDir, SkipsANameThatAlreadyExists) {
  // Make the name the next TempDir would take (pid, counter + 1 of a fresh one), as a stale one left by a dead
  // process with the same pid would be.
  std::string taken;
  {
    const TempDir probe;
    const std::string p = probe.path();
    const size_t dash = p.rfind('-');
    taken = p.substr(0, dash + 1) + std::to_string(std::stoi(p.substr(dash + 1)) + 1);
  }
  fs::create_directory(taken);
  std::ofstream(taken + "/keep") << "k";
  {
    const TempDir d;
    EXPECT_NE(d.path(), taken);
    EXPECT_TRUE(fs::is_empty(d.path()));
  }
  EXPECT_TRUE(fs::exists(taken + "/keep"));  // another's directory is left alone
  fs::remove_all(taken);
}

}  // namespace
}  // namespace ts::test
