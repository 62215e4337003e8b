// Shared pieces of the Python extension tokenscope._core: the Model object the bindings wrap, numpy arrays that
// take ownership of C++ buffers (no copy, no Python loop per token), and the mapping of ts::Error to exceptions.
//
// Errors: Error::Kind::kInput becomes ValueError, kInternal RuntimeError; the message is the CLI's one line
// ("file: field 'x': value 7 out of range 0..4"). Every heavy call drops the GIL around the engine and converts
// Python inputs to C++ values before, and C++ results to numpy arrays after.
#pragma once

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "runtime/engine.h"
#include "tokenscope/expected.h"

namespace ts::py {

namespace nb = nanobind;

// One loaded GGUF file. The engine is immutable after load and Model::forward keeps its scratch per call, so one
// Model serves calls from several Python threads at once; each call builds its own ThreadPool of `threads`.
struct PyModel {
  std::string path;
  std::unique_ptr<Engine> engine;
  int threads = 0;  // engine threads per call; 0: all hardware threads
};

[[noreturn]] inline void raise(const Error& e) {
  if (e.kind == Error::Kind::kInput) throw nb::value_error(e.message.c_str());
  throw std::runtime_error(e.message);
}

// A 1-D or 2-D numpy array that owns `v` (moved to the heap, freed by the array's capsule).
template <class T>
nb::object numpy_from(std::vector<T>&& v, std::initializer_list<size_t> shape) {
  auto* heap = new std::vector<T>(std::move(v));
  if (heap->empty()) heap->reserve(1);  // a valid data pointer even for 0 elements
  nb::capsule owner(heap, [](void* p) noexcept { delete static_cast<std::vector<T>*>(p); });
  return nb::cast(nb::ndarray<nb::numpy, T>(heap->data(), shape, owner));
}

template <class T>
nb::object numpy_from(std::vector<T>&& v) {
  const size_t n = v.size();
  return numpy_from(std::move(v), {n});
}

// numpy bool from 0/1 bytes (std::vector<bool> has no contiguous storage).
inline nb::object numpy_bool_from(std::vector<uint8_t>&& v) {
  auto* heap = new std::vector<uint8_t>(std::move(v));
  if (heap->empty()) heap->reserve(1);
  nb::capsule owner(heap, [](void* p) noexcept { delete static_cast<std::vector<uint8_t>*>(p); });
  return nb::cast(nb::ndarray<nb::numpy, bool>(reinterpret_cast<bool*>(heap->data()), {heap->size()}, owner));
}

// Python text as UTF-8 bytes; bytes objects are taken as they are.
std::string utf8_of(nb::handle text);
// A str from bytes that may end inside a UTF-8 character (invalid sequences become U+FFFD).
nb::str str_from_bytes(const std::string& bytes);

// A document given to score/detect: text (tokenized with BOS as the model says) or token ids (scored as given).
struct DocInput {
  bool is_text = false;
  std::string text;
  std::vector<int32_t> ids;
};

// `docs`: a str, bytes or a sequence of token ids counts as one document; any other sequence holds documents.
// Ids are checked against the vocabulary here ("documents[3]: field 'ids': value 40000 is not a token id in
// 0..31999", as `score --jsonl`).
std::vector<DocInput> doc_inputs(nb::handle docs, int64_t n_vocab);
// One document (generate's prompt): a str/bytes text or a sequence of token ids; `where` names it in errors.
DocInput doc_input(nb::handle doc, const std::string& where, int64_t n_vocab);

// A tokenized document (the CLI's Doc / Document): ids, byte offset of each token, bytes the predicted tokens cover.
struct TokenizedDoc {
  std::vector<int32_t> ids;
  std::vector<uint32_t> offsets;
  int64_t text_bytes = 0;
};
TokenizedDoc tokenize_doc(const Engine& e, const DocInput& in, bool parse_special);

void bind_tokenizer(nb::module_& m);
void bind_score(nb::module_& m, nb::class_<PyModel>& model);
void bind_generate(nb::module_& m, nb::class_<PyModel>& model);
void bind_detect(nb::module_& m, nb::class_<PyModel>& model);

}  // namespace ts::py
