#include "runtime/engine.h"

namespace ts {

Expected<std::unique_ptr<Engine>> Engine::load(const std::string& path, gguf::Residency residency,
                                               Precision precision) {
  auto f = gguf::File::open(path, residency);
  if (!f) return f.error();
  auto e = std::make_unique<Engine>();
  e->file = std::make_shared<const gguf::File>(std::move(*f));
  auto tok = Tokenizer::from_gguf(*e->file);
  if (!tok) return tok.error();
  e->tokenizer = std::move(*tok);
  auto m = Model::load(e->file, precision);
  if (!m) return m.error();
  e->model = std::move(*m);
  if (e->tokenizer.vocab_size() > e->model->config().n_vocab)
    return Error::input(path + ": tokenizer.ggml.tokens: " + std::to_string(e->tokenizer.vocab_size()) +
                        " tokens but the model has " + std::to_string(e->model->config().n_vocab) + " embedding rows");
  return e;
}

}  // namespace ts
