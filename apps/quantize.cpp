// tokenscope quantize: rewrite a GGUF model with its weight matrices in another type (a draft model for speculative
// decoding, a smaller file to compare with), with the project's own quantizers. See model/requantize.h.
#include <map>

#include "commands.h"
#include "common.h"
#include "gguf/gguf.h"
#include "model/requantize.h"
#include "runtime/engine.h"
#include "tensor/thread_pool.h"

namespace ts::cli {
namespace {

struct Opts {
  std::string in, out, type;
  int threads = 0;
  bool keep_output = false;
};

int run_quantize(const Opts& o) {
  const auto wt = weight_types().find(o.type);
  if (wt == weight_types().end()) return report(Error::input("quantize: --type " + o.type + ": unknown type"));
  auto f = gguf::File::open(o.in);
  if (!f) return report(f.error());
  ThreadPool pool(thread_count(o.threads));
  RequantizeOptions ro;
  ro.type = wt->second.type;
  ro.file_type = wt->second.file_type;
  ro.keep_embeddings = o.keep_output;
  auto counts = requantize(*f, ro, o.out, pool);
  if (!counts) return report(counts.error());
  auto eng = Engine::load(o.out, gguf::Residency::kMap);  // a check of what was written: no copy
  if (!eng) return report(Error::internal("quantize: wrote " + o.out + " but it does not load: " + eng.error().message));
  std::string summary;
  for (const auto& [name, n] : *counts) summary += (summary.empty() ? "" : ", ") + name + "×" + std::to_string(n);
  std::fprintf(stderr, "quantize: wrote %s (%s)\n", o.out.c_str(), summary.c_str());
  return 0;
}

}  // namespace

void register_quantize(CLI::App& app, Run& run) {
  auto* cmd = app.add_subcommand("quantize", "Rewrite a GGUF model with its weight matrices in another type");
  auto o = std::make_shared<Opts>();
  cmd->add_option("input", o->in, "GGUF model file or name (smollm2-135m, demo)")->required();
  cmd->add_option("-o,--output", o->out, "GGUF file to write")->required();
  std::vector<std::string> names;
  for (const auto& [k, v] : weight_types()) names.push_back(k);
  cmd->add_option("--type", o->type, "Weight type of the matrices")->required()->check(CLI::IsMember(names));
  cmd->add_flag("--keep-output", o->keep_output, "Leave token_embd.weight and output.weight in their stored type");
  cmd->add_option("-t,--threads", o->threads, "Threads (default: all cores)")->check(CLI::Range(0, 1024));
  cmd->callback([&run, o] {
    run = [o] {
      auto mp = resolve_model(o->in);
      if (!mp) return report(mp.error());
      o->in = *mp;
      return run_quantize(*o);
    };
  });
}

}  // namespace ts::cli
