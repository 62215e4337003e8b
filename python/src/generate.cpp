// Model.generate: `tokenscope generate` with every generated token's raw and processed distribution as numpy arrays.
//
// The same seed, sampler spec, prompt and model give the same tokens as the CLI (runtime/generator.h; the Rng is
// identical on every platform). Raw statistics (logprob, rank, entropy, varentropy, top) are of the model's softmax;
// p_* are of the chain's processed distribution (what it kept and drew from); `changed` marks tokens where the chain
// chose other than the raw argmax.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>

#include <limits>
#include <optional>
#include <random>

#include "common.h"
#include "runtime/generator.h"
#include "sampling/chain.h"
#include "tensor/thread_pool.h"

namespace ts::py {
namespace {

struct GenerateResult {
  nb::object text, ids, prompt_ids, logprob, rank, entropy, varentropy, p_logprob, kept, p_entropy, changed;
  nb::object top_ids, top_logprobs, p_top_ids, p_top_logprobs;
  nb::object bytes;
  nb::dict summary;
  int64_t n = 0;
};

// The most likely entries of each record in [n, k] arrays, −1 / −inf past the end of a shorter list.
void fill_top(const std::vector<TopEntry>& top, size_t k, std::vector<int32_t>& ids, std::vector<double>& lp) {
  for (size_t j = 0; j < k; ++j) {
    ids.push_back(j < top.size() ? top[j].id : -1);
    lp.push_back(j < top.size() ? top[j].logprob : -std::numeric_limits<double>::infinity());
  }
}

}  // namespace

void bind_generate(nb::module_& m, nb::class_<PyModel>& model) {
  nb::class_<GenerateResult>(m, "GenerateResult",
                             "A generated continuation: its text and ids, and for every generated token the raw "
                             "distribution's statistics and the sampler chain's processed ones (numpy arrays).")
      .def_ro("text", &GenerateResult::text, "str: the continuation (not the prompt); invalid UTF-8 as U+FFFD.")
      .def_ro("bytes", &GenerateResult::bytes, "bytes: the continuation's raw bytes.")
      .def_ro("ids", &GenerateResult::ids, "int32 [n]: generated token ids.")
      .def_ro("prompt_ids", &GenerateResult::prompt_ids, "int32: the prompt's token ids.")
      .def_ro("logprob", &GenerateResult::logprob, "float64 [n]: raw log p(token), natural log.")
      .def_ro("rank", &GenerateResult::rank, "int64 [n]: raw rank of the token, 1 = most likely.")
      .def_ro("entropy", &GenerateResult::entropy, "float64 [n]: raw entropy, nats.")
      .def_ro("varentropy", &GenerateResult::varentropy, "float64 [n]: raw varentropy, nats².")
      .def_ro("p_logprob", &GenerateResult::p_logprob, "float64 [n]: log P(token) under the chain's distribution.")
      .def_ro("kept", &GenerateResult::kept, "int64 [n]: tokens the chain kept (its support size).")
      .def_ro("p_entropy", &GenerateResult::p_entropy, "float64 [n]: entropy of the chain's distribution, nats.")
      .def_ro("changed", &GenerateResult::changed, "bool [n]: the chain chose other than the raw argmax.")
      .def_ro("top_ids", &GenerateResult::top_ids, "int32 [n, top]: raw most likely tokens (−1 past the end).")
      .def_ro("top_logprobs", &GenerateResult::top_logprobs, "float64 [n, top]: their raw log-probabilities.")
      .def_ro("p_top_ids", &GenerateResult::p_top_ids, "int32 [n, top]: the chain's most likely tokens.")
      .def_ro("p_top_logprobs", &GenerateResult::p_top_logprobs, "float64 [n, top]: their processed logprobs.")
      .def_ro("summary", &GenerateResult::summary,
              "dict: prompt_tokens, tokens, tokens_per_s, prompt_s, seconds, stop ('length', 'eos' or 'context'), "
              "seed, samplers (the explicit chain spec).")
      .def("__len__", [](const GenerateResult& r) { return r.n; })
      .def("__repr__", [](const GenerateResult& r) {
        return "GenerateResult(text=" + nb::cast<std::string>(nb::repr(r.text)) +
               ", tokens=" + std::to_string(r.n) + ")";
      });

  model.def(
      "generate",
      [](const PyModel& self, nb::handle prompt, int64_t max_tokens, const std::string& samplers,
         std::optional<uint64_t> seed, int top, bool ignore_eos, int64_t ctx, bool parse_special) {
        if (max_tokens < 0)
          throw nb::value_error(("generate: max_tokens: value " + std::to_string(max_tokens) + " is negative").c_str());
        if (top < 0 || top > 1000)
          throw nb::value_error(("generate: top: value " + std::to_string(top) + " out of range 0..1000").c_str());
        if (ctx != 0 && ctx < 2)
          throw nb::value_error(("generate: ctx: value " + std::to_string(ctx) + " too small (need at least 2)").c_str());
        auto chain = sampling::Chain::parse(samplers);
        if (!chain) raise(chain.error());
        const Engine& e = *self.engine;
        const std::vector<DocInput> in = {doc_input(prompt, "generate: prompt", e.model->config().n_vocab)};
        const uint64_t s = seed ? *seed : static_cast<uint64_t>(std::random_device{}());
        const size_t k = static_cast<size_t>(top);
        std::vector<int32_t> prompt_ids, ids, top_ids, p_top_ids;
        std::vector<int64_t> rank, kept;
        std::vector<double> logprob, entropy, varentropy, p_logprob, p_entropy, top_lp, p_top_lp;
        std::vector<uint8_t> changed;
        std::string bytes;
        Expected<GenerateSummary> sum = Error::internal("generate: not run");
        {
          nb::gil_scoped_release nogil;
          if (in[0].is_text) {
            EncodeOptions eo;  // as apps/generate.cpp: BOS as the tokenizer says
            eo.parse_special = parse_special;
            prompt_ids = e.tokenizer.encode(in[0].text, eo).ids;
          } else {
            prompt_ids = in[0].ids;
          }
          ThreadPool pool(self.threads);
          sampling::Rng rng(s);
          GenerateOptions go;
          go.n_new = max_tokens;
          go.top_k = top;
          go.ignore_eos = ignore_eos;
          go.ctx = ctx;
          sum = ts::generate(e, prompt_ids, *chain, rng, go, pool, [&](const GenToken& t) {
            ids.push_back(t.id);
            bytes += e.tokenizer.token_bytes(t.id);
            logprob.push_back(t.raw.logprob);
            rank.push_back(t.raw.rank);
            entropy.push_back(t.raw.entropy);
            varentropy.push_back(t.raw.varentropy);
            p_logprob.push_back(t.processed_logprob);
            kept.push_back(t.kept);
            p_entropy.push_back(t.processed_entropy);
            changed.push_back(t.changed ? 1 : 0);
            fill_top(t.raw.top, k, top_ids, top_lp);
            fill_top(t.processed_top, k, p_top_ids, p_top_lp);
          });
        }
        if (!sum) raise(sum.error());
        GenerateResult r;
        const size_t n = ids.size();
        r.n = static_cast<int64_t>(n);
        r.bytes = nb::bytes(bytes.data(), bytes.size());
        r.text = str_from_bytes(bytes);
        r.ids = numpy_from(std::move(ids));
        r.prompt_ids = numpy_from(std::move(prompt_ids));
        r.logprob = numpy_from(std::move(logprob));
        r.rank = numpy_from(std::move(rank));
        r.entropy = numpy_from(std::move(entropy));
        r.varentropy = numpy_from(std::move(varentropy));
        r.p_logprob = numpy_from(std::move(p_logprob));
        r.kept = numpy_from(std::move(kept));
        r.p_entropy = numpy_from(std::move(p_entropy));
        r.changed = numpy_bool_from(std::move(changed));
        r.top_ids = numpy_from(std::move(top_ids), {n, k});
        r.top_logprobs = numpy_from(std::move(top_lp), {n, k});
        r.p_top_ids = numpy_from(std::move(p_top_ids), {n, k});
        r.p_top_logprobs = numpy_from(std::move(p_top_lp), {n, k});
        const GenerateSummary& g = *sum;
        r.summary["prompt_tokens"] = g.prompt_tokens;
        r.summary["tokens"] = g.generated;
        r.summary["tokens_per_s"] = g.seconds > 0 ? static_cast<double>(g.generated) / g.seconds : 0.0;
        r.summary["prompt_s"] = g.prompt_seconds;
        r.summary["seconds"] = g.seconds;
        r.summary["stop"] = g.stop;
        r.summary["seed"] = s;
        r.summary["samplers"] = chain->spec();
        return r;
      },
      nb::arg("prompt"), nb::arg("max_tokens") = 128, nb::arg("samplers") = "default", nb::arg("seed") = nb::none(),
      nb::arg("top") = 5, nb::arg("ignore_eos") = false, nb::arg("ctx") = 0, nb::arg("parse_special") = true,
      "Continues a prompt with a sampler chain, as `tokenscope generate --format jsonl` does.\n\n"
      "prompt: text (tokenized as the CLI does, BOS included when the model adds one) or token ids (used as given). "
      "samplers: a chain spec such as 'min_p=0.05;temp=0.8' or a preset ('default', 'hf', 'greedy'). seed: None "
      "draws one (reported in summary['seed']). top: alternatives recorded per token. ignore_eos: keep going past "
      "end-of-generation tokens. ctx: context limit (0: the model's). parse_special: special-token text in the "
      "prompt becomes the special token. The GIL is released while the model runs.");
}

}  // namespace ts::py
