// A model file opened for use: its mapping, the transformer and the tokenizer, loaded together.
#pragma once

#include <memory>
#include <string>

#include "gguf/gguf.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"
#include "tokenscope/expected.h"

namespace ts {

struct Engine {
  std::shared_ptr<const gguf::File> file;
  std::unique_ptr<Model> model;
  Tokenizer tokenizer;

  // Opens, validates and loads everything; errors name the file and the field. By default the weights are copied
  // into huge-page memory when they fit (gguf::Residency::kAuto: faster generation), else mapped. precision: the
  // model's (Model::load: it also picks the weights' layout).
  static Expected<std::unique_ptr<Engine>> load(const std::string& path,
                                                gguf::Residency residency = gguf::Residency::kAuto,
                                                Precision precision = Precision::kInt16);
};

}  // namespace ts
