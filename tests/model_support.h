// Test support: load a model from a GGUF path, failing the test (not aborting) with the loader's message.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "gguf/gguf.h"
#include "model/model.h"

namespace ts::test {

inline std::unique_ptr<Model> load_model(const std::string& path) {
  auto f = gguf::File::open(path);
  EXPECT_TRUE(f.ok()) << (f.ok() ? "" : f.error().message);
  if (!f.ok()) return nullptr;
  auto m = Model::load(std::make_shared<const gguf::File>(std::move(*f)));
  EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().message);
  return m.ok() ? std::move(*m) : nullptr;
}

}  // namespace ts::test
