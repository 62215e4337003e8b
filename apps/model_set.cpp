// See model_set.h for the contract.
#include "model_set.h"

#include <filesystem>

#include "common.h"
#include "runtime/analyzer.h"

namespace ts::cli {

namespace {

// Two spellings of one file (./a.gguf, a.gguf) should load it once.
std::string canonical_or_same(const std::string& path) {
  std::error_code ec;
  const auto c = std::filesystem::weakly_canonical(path, ec);
  return ec ? path : c.string();
}

}  // namespace

Expected<const Engine*> ModelSet::load(const std::string& given) {
  auto path = resolve_model(given);
  if (!path) return path.error();
  const std::string key = canonical_or_same(*path);
  for (const Entry& e : entries_)
    if (canonical_or_same(e.path) == key) return static_cast<const Engine*>(e.engine.get());
  auto eng = Engine::load(*path);
  if (!eng) return eng.error();
  if (!entries_.empty())
    if (auto s = check_shared_vocabulary(*entries_.front().engine, entries_.front().path, **eng, *path); !s)
      return s.error();
  entries_.push_back({*path, std::move(*eng)});
  return static_cast<const Engine*>(entries_.back().engine.get());
}

const std::string& ModelSet::path_of(const Engine* e) const {
  static const std::string none;
  for (const Entry& x : entries_)
    if (x.engine.get() == e) return x.path;
  return none;
}

}  // namespace ts::cli
