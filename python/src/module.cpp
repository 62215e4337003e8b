// tokenscope._core: the Model and Tokenizer classes and the input conversions every binding shares. score, generate
// and detect are bound in their own files (score.cpp, generate.cpp, detect.cpp).
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include "common.h"

namespace ts::py {

std::string utf8_of(nb::handle text) {
  if (nb::isinstance<nb::bytes>(text)) {
    nb::bytes b = nb::borrow<nb::bytes>(text);
    return std::string(b.c_str(), b.size());
  }
  Py_ssize_t n = 0;
  const char* s = PyUnicode_AsUTF8AndSize(text.ptr(), &n);
  if (!s) throw nb::python_error();
  return std::string(s, static_cast<size_t>(n));
}

nb::str str_from_bytes(const std::string& bytes) {
  PyObject* s = PyUnicode_DecodeUTF8(bytes.data(), static_cast<Py_ssize_t>(bytes.size()), "replace");
  if (!s) throw nb::python_error();
  return nb::steal<nb::str>(s);
}

namespace {

bool is_text(nb::handle h) { return nb::isinstance<nb::str>(h) || nb::isinstance<nb::bytes>(h); }

// A 1-D numpy (or other buffer) array of integers: one document of ids.
bool is_id_array(nb::handle h) {
  if (!nb::hasattr(h, "ndim") || !nb::hasattr(h, "dtype")) return false;
  if (nb::cast<int>(h.attr("ndim")) != 1) return false;
  const std::string kind = nb::cast<std::string>(h.attr("dtype").attr("kind"));
  return kind == "i" || kind == "u";
}

std::vector<int32_t> ids_of(nb::handle h, const std::string& where, int64_t n_vocab) {
  std::vector<int32_t> ids;
  nb::object as_list;
  if (is_id_array(h)) {
    as_list = h.attr("tolist")();  // one conversion in C, then plain ints
    h = as_list;
  }
  if (!nb::isinstance<nb::sequence>(h))
    throw nb::type_error((where + ": expected a str or a sequence of token ids, got " +
                          nb::cast<std::string>(nb::str(h.type().attr("__name__"))))
                             .c_str());
  nb::sequence seq = nb::borrow<nb::sequence>(h);
  ids.reserve(nb::len(seq));
  for (nb::handle x : seq) {
    int64_t v = 0;
    if (!nb::try_cast<int64_t>(x, v, /*convert=*/false) && !(nb::hasattr(x, "__index__") &&
                                                            nb::try_cast<int64_t>(x.attr("__index__")(), v, false)))
      throw nb::value_error((where + ": field 'ids': value " + nb::cast<std::string>(nb::repr(x)) +
                             " is not a token id in 0.." + std::to_string(n_vocab - 1))
                                .c_str());
    if (v < 0 || v >= n_vocab)
      throw nb::value_error((where + ": field 'ids': value " + std::to_string(v) + " is not a token id in 0.." +
                             std::to_string(n_vocab - 1))
                                .c_str());
    ids.push_back(static_cast<int32_t>(v));
  }
  return ids;
}

}  // namespace

DocInput doc_input(nb::handle h, const std::string& where, int64_t n_vocab) {
  DocInput d;
  if (is_text(h)) {
    d.is_text = true;
    d.text = utf8_of(h);
  } else {
    d.ids = ids_of(h, where, n_vocab);
  }
  return d;
}

std::vector<DocInput> doc_inputs(nb::handle docs, int64_t n_vocab) {
  std::vector<DocInput> out;
  auto one = [&](nb::handle h, const std::string& where) { out.push_back(doc_input(h, where, n_vocab)); };
  if (is_text(docs) || is_id_array(docs)) {
    one(docs, "documents[0]");
    return out;
  }
  if (!nb::hasattr(docs, "__iter__"))
    throw nb::type_error("documents: expected a str, a list of str or a list of token-id sequences");
  int64_t i = 0;
  for (nb::handle h : docs) {
    const std::string where = "documents[" + std::to_string(i++) + "]";
    if (nb::isinstance<nb::int_>(h))
      throw nb::type_error((where + ": expected a str or a sequence of token ids, got int (wrap one document's "
                                    "ids in a list: [[1, 2, 3]])")
                               .c_str());
    one(h, where);
  }
  return out;
}

TokenizedDoc tokenize_doc(const Engine& e, const DocInput& in, bool parse_special) {
  TokenizedDoc d;
  if (in.is_text) {
    // as apps/score.cpp doc_from_text: BOS as the tokenizer says; predicted tokens cover the text from offsets[1]
    EncodeOptions eo;
    eo.add_special = true;
    eo.parse_special = parse_special;
    Encoding enc = e.tokenizer.encode(in.text, eo);
    d.ids = std::move(enc.ids);
    d.offsets = std::move(enc.offsets);
    d.text_bytes = d.ids.size() > 1
                       ? static_cast<int64_t>(in.text.size() - std::min<uint64_t>(in.text.size(), d.offsets[1]))
                       : 0;
    return d;
  }
  // as apps/score.cpp doc_from_ids: offsets in the concatenated token bytes
  d.ids = in.ids;
  uint32_t off = 0;
  for (size_t i = 0; i < d.ids.size(); ++i) {
    d.offsets.push_back(off);
    const int32_t id = d.ids[i];
    const uint64_t nb = id < e.tokenizer.vocab_size() ? e.tokenizer.token_bytes(id).size() : 0;
    off += static_cast<uint32_t>(nb);
    if (i > 0) d.text_bytes += static_cast<int64_t>(nb);
  }
  return d;
}

namespace {

std::vector<int32_t> ids_arg(nb::handle ids, int64_t n_vocab) { return ids_of(ids, "ids", n_vocab); }

void bind_tokenizer_impl(nb::module_& m) {
  nb::class_<Tokenizer>(m, "Tokenizer",
                        "The model's tokenizer (SentencePiece BPE or byte-level BPE), read from the GGUF metadata. "
                        "Obtained as Model.tokenizer; immutable and safe to share between threads.")
      .def(
          "encode",
          [](const Tokenizer& t, nb::handle text, bool add_special, bool parse_special) {
            const std::string s = utf8_of(text);
            Encoding enc;
            {
              nb::gil_scoped_release nogil;
              enc = t.encode(s, EncodeOptions{add_special, parse_special});
            }
            return numpy_from(std::move(enc.ids));
          },
          nb::arg("text"), nb::arg("add_special") = true, nb::arg("parse_special") = true,
          "Token ids (numpy int32) of a text. add_special: add BOS/EOS as the model's metadata says. parse_special: "
          "text of special tokens such as '<s>' becomes that token (as `tokenscope tokenize`; `score` uses False).")
      .def(
          "encode_with_offsets",
          [](const Tokenizer& t, nb::handle text, bool add_special, bool parse_special) {
            const std::string s = utf8_of(text);
            Encoding enc;
            {
              nb::gil_scoped_release nogil;
              enc = t.encode(s, EncodeOptions{add_special, parse_special});
            }
            std::vector<int64_t> off(enc.offsets.begin(), enc.offsets.end());
            return nb::make_tuple(numpy_from(std::move(enc.ids)), numpy_from(std::move(off)));
          },
          nb::arg("text"), nb::arg("add_special") = true, nb::arg("parse_special") = true,
          "(ids, offsets): token ids (int32) and the byte offset (int64) in the UTF-8 text where each token starts.")
      .def(
          "decode",
          [](const Tokenizer& t, nb::handle ids, bool strip_prefix_space) {
            return str_from_bytes(t.decode(ids_arg(ids, t.vocab_size()), strip_prefix_space));
          },
          nb::arg("ids"), nb::arg("strip_prefix_space") = true,
          "The text of token ids (control tokens give nothing; invalid UTF-8 becomes U+FFFD).")
      .def(
          "decode_bytes",
          [](const Tokenizer& t, nb::handle ids, bool strip_prefix_space) {
            const std::string b = t.decode(ids_arg(ids, t.vocab_size()), strip_prefix_space);
            return nb::bytes(b.data(), b.size());
          },
          nb::arg("ids"), nb::arg("strip_prefix_space") = true, "The raw bytes of token ids.")
      .def(
          "token_text",
          [](const Tokenizer& t, int32_t id) {
            if (id < 0 || id >= t.vocab_size())
              throw nb::value_error(("token id " + std::to_string(id) + " out of range 0.." +
                                     std::to_string(t.vocab_size() - 1)).c_str());
            return t.token_text(id);
          },
          nb::arg("id"), "The token as stored in the vocabulary ('▁The', 'Ġthe', '<0x0A>').")
      .def(
          "token_bytes",
          [](const Tokenizer& t, int32_t id) {
            if (id < 0 || id >= t.vocab_size())
              throw nb::value_error(("token id " + std::to_string(id) + " out of range 0.." +
                                     std::to_string(t.vocab_size() - 1)).c_str());
            const std::string b = t.token_bytes(id);
            return nb::bytes(b.data(), b.size());
          },
          nb::arg("id"), "The raw bytes the token stands for.")
      .def("token_id", &Tokenizer::token_id, nb::arg("text"), "Exact vocabulary lookup; -1 when absent.")
      .def("__len__", &Tokenizer::vocab_size)
      .def_prop_ro("vocab_size", &Tokenizer::vocab_size)
      .def_prop_ro("bos_id", &Tokenizer::bos_id, "BOS token id, -1 when absent.")
      .def_prop_ro("eos_id", &Tokenizer::eos_id, "EOS token id, -1 when absent.")
      .def_prop_ro("add_bos", &Tokenizer::add_bos)
      .def_prop_ro("model", &Tokenizer::model, "'llama' (SentencePiece BPE) or 'gpt2' (byte-level BPE).")
      .def_prop_ro("pre", &Tokenizer::pre, "The pre-tokenizer used.");
}

}  // namespace

void bind_tokenizer(nb::module_& m) { bind_tokenizer_impl(m); }

}  // namespace ts::py

NB_MODULE(_core, m) {
  namespace nb = nanobind;
  using namespace ts::py;
  m.doc() = "tokenscope's C++ engine (use the `tokenscope` package, which re-exports these names).";
  bind_tokenizer(m);
  auto model = nb::class_<PyModel>(m, "Model",
                                   "A GGUF language model. Model(path, threads=0, precision='int16', load='auto'): "
                                   "path is a GGUF file (the package resolves 'demo' and known names first); "
                                   "threads is the engine's thread count per call, 0 for all cores; precision of "
                                   "the matrix products: int16 (the default: 16-bit activations per block of 32, ~5e-5 of "
                                   "exact; F16/BF16/F32 weights compute exactly), exact (fp32 activations) or fast "
                                   "(int8 activations as llama.cpp for prompts, F16/BF16/F32 weights and activations rounded to 13 bits per "
                                   "block of 32; generation runs int16's GEMV or, for float weights, exactly); load: "
                                   "where the weights live, copy (read into memory on 2 MiB huge pages: faster "
                                   "generation), mmap (map the file) or auto (copy when huge pages are on and the "
                                   "file is 32 MiB to half the available memory).");
  model
      .def(
          "__init__",
          [](PyModel* self, const std::string& path, int threads, const std::string& precision,
             const std::string& load) {
            if (threads < 0)
              throw nb::value_error(("threads: value " + std::to_string(threads) + " is negative").c_str());
            if (precision != "exact" && precision != "int16" && precision != "fast")
              throw nb::value_error(("precision: value '" + precision + "' is not exact, int16 or fast").c_str());
            if (load != "auto" && load != "copy" && load != "mmap")
              throw nb::value_error(("load: value '" + load + "' is not auto, copy or mmap").c_str());
            const ts::gguf::Residency residency = load == "copy"   ? ts::gguf::Residency::kCopy
                                                  : load == "mmap" ? ts::gguf::Residency::kMap
                                                                   : ts::gguf::Residency::kAuto;
            const ts::Precision p = precision == "exact"  ? ts::Precision::kExact
                                    : precision == "fast" ? ts::Precision::kFast
                                                          : ts::Precision::kInt16;
            ts::Expected<std::unique_ptr<ts::Engine>> e = ts::Error::internal("not loaded");
            {
              nb::gil_scoped_release nogil;
              e = ts::Engine::load(path, residency, p);
            }
            if (!e) raise(e.error());
            new (self) PyModel{path, std::move(*e), threads};
          },
          nb::arg("path"), nb::arg("threads") = 0, nb::arg("precision") = "int16", nb::arg("load") = "auto")
      .def_ro("path", &PyModel::path, "The GGUF file.")
      .def_rw("threads", &PyModel::threads, "Engine threads per call (0: all cores).")
      .def_prop_ro(
          "precision",
          [](const PyModel& p) {
            const ts::Precision q = p.engine->model->precision();
            return std::string(q == ts::Precision::kExact ? "exact" : q == ts::Precision::kFast ? "fast" : "int16");
          },
          "Precision of the matrix products: int16 (the default), exact or fast.")
      .def_prop_ro(
          "weights_copied", [](const PyModel& p) { return p.engine->file->copied(); },
          "Whether the weights were copied into memory (load='copy', or 'auto''s choice) rather than mapped.")
      .def_prop_ro(
          "tokenizer", [](const PyModel& p) -> const ts::Tokenizer& { return p.engine->tokenizer; },
          nb::rv_policy::reference_internal, "The model's tokenizer.")
      .def_prop_ro("arch", [](const PyModel& p) { return p.engine->model->config().arch; })
      .def_prop_ro("name", [](const PyModel& p) { return p.engine->model->config().name; })
      .def_prop_ro("n_vocab", [](const PyModel& p) { return p.engine->model->config().n_vocab; })
      .def_prop_ro("n_ctx_train", [](const PyModel& p) { return p.engine->model->config().n_ctx_train; })
      .def_prop_ro("n_embd", [](const PyModel& p) { return p.engine->model->config().n_embd; })
      .def_prop_ro("n_layer", [](const PyModel& p) { return p.engine->model->config().n_layer; })
      .def("__repr__", [](const PyModel& p) {
        const auto& c = p.engine->model->config();
        return "Model('" + p.path + "', arch=" + c.arch + ", n_vocab=" + std::to_string(c.n_vocab) +
               ", threads=" + std::to_string(p.threads) + ")";
      });
  bind_score(m, model);
  bind_generate(m, model);
  bind_detect(m, model);
}
