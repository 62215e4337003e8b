// The models of a multi-model subcommand (compare, detect): each file loaded once however many roles it plays, and
// every model checked to share the first one's vocabulary (runtime/analyzer.h: check_shared_vocabulary).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "runtime/engine.h"
#include "tokenscope/expected.h"

namespace ts::cli {

class ModelSet {
 public:
  // `given`: a path or a model name (resolve_model); empty is resolve_model's default. Errors: load failures,
  // a vocabulary that differs from the first model's.
  Expected<const Engine*> load(const std::string& given);
  const std::string& path_of(const Engine* e) const;

 private:
  struct Entry {
    std::string path;
    std::unique_ptr<Engine> engine;
  };
  std::vector<Entry> entries_;
};

}  // namespace ts::cli
