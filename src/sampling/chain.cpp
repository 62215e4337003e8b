#include "sampling/chain.h"

#include <algorithm>

#include "sampling/samplers.h"
#include "sampling/spec.h"

namespace ts::sampling {
namespace {

using ParseFn = Expected<SamplerPtr> (*)(SpecArgs&);

struct Kind {
  const char* name;  // as written in specs; the first of a group is canonical
  const char* canonical;
  ParseFn parse;
};

constexpr Kind kKinds[] = {
    {"temp", "temp", &Temperature::parse},
    {"temperature", "temp", &Temperature::parse},
    {"top_k", "top_k", &TopK::parse},
    {"top_p", "top_p", &TopP::parse},
    {"min_p", "min_p", &MinP::parse},
    {"typical", "typical", &Typical::parse},
    {"typ_p", "typical", &Typical::parse},
    {"typical_p", "typical", &Typical::parse},
    {"top_n_sigma", "top_n_sigma", &TopNSigma::parse},
    {"epsilon", "epsilon", &Epsilon::parse},
    {"eta", "eta", &Eta::parse},
    {"top_h", "top_h", &TopH::parse},
    {"xtc", "xtc", &Xtc::parse},
    {"dry", "dry", &Dry::parse},
    {"penalties", "penalties", &Penalties::parse},
    {"logit_bias", "logit_bias", &LogitBias::parse},
    {"greedy", "greedy", &Greedy::parse},
    {"dist", "dist", &Dist::parse},
    {"mirostat", "mirostat", &Mirostat::parse},
    {"mirostat_v1", "mirostat", &Mirostat::parse},
    {"mirostat_v2", "mirostat_v2", &MirostatV2::parse},
};

// Canonical positions of the shapers when items are added to a preset.
const std::vector<std::string> kDefaultOrder = {"logit_bias", "penalties", "dry",     "top_n_sigma", "top_k",
                                                "typical",    "top_p",     "min_p",   "epsilon",     "eta",
                                                "top_h",      "xtc",       "temp"};
const std::vector<std::string> kHfOrder = {"logit_bias", "penalties", "dry",         "temp",  "top_k",
                                           "top_p",      "min_p",     "typical",     "epsilon", "eta",
                                           "top_n_sigma", "top_h",    "xtc"};

struct Preset {
  const char* name;
  const char* spec;
  const std::vector<std::string>* order;
};
const Preset kPresets[] = {
    {"default", "top_k=40;top_p=0.95;min_p=0.05;temp=0.8;dist", &kDefaultOrder},
    {"hf", "temp=1;top_k=50;dist", &kHfOrder},
    {"greedy", "greedy", &kDefaultOrder},
};

const Preset* find_preset(const SpecItem& item) {
  for (const Preset& p : kPresets)
    if (item.name == p.name) return &p;
  return nullptr;
}

std::string known_names() {
  std::string s;
  for (const Kind& k : kKinds) s += (s.empty() ? "" : ", ") + std::string(k.name);
  for (const Preset& p : kPresets)
    if (std::string_view(p.name) != "greedy") s += ", " + std::string(p.name);
  return s;
}

Expected<SamplerPtr> parse_item(const SpecItem& item) {
  for (const Kind& k : kKinds) {
    if (item.name != k.name) continue;
    SpecArgs args(item);
    return k.parse(args);
  }
  return Error::input("sampler spec: '" + item.text + "': unknown sampler '" + item.name + "' (known: " +
                      known_names() + ")");
}

// Only called on samplers whose is_selector() is true.
std::unique_ptr<Selector> as_selector(SamplerPtr s) {
  return std::unique_ptr<Selector>(static_cast<Selector*>(s.release()));
}

size_t order_of(const std::vector<std::string>& order, const std::string& name) {
  return static_cast<size_t>(std::find(order.begin(), order.end(), name) - order.begin());
}

// A spec with no preset: the items in the order written; a selector only at the end.
Expected<Chain> parse_explicit(const std::vector<SpecItem>& items) {
  std::vector<SamplerPtr> shapers;
  std::unique_ptr<Selector> selector;
  for (size_t i = 0; i < items.size(); ++i) {
    if (find_preset(items[i]) && items[i].name != "greedy")
      return Error::input("sampler spec: '" + items[i].text + "': the preset '" + items[i].name +
                          "' must be the first item");
    auto s = parse_item(items[i]);
    if (!s.ok()) return s.error();
    if ((*s)->is_selector()) {
      if (i + 1 != items.size())
        return Error::input("sampler spec: '" + items[i].text + "': the selector '" + (*s)->name() +
                            "' must be the last item");
      selector = as_selector(std::move(*s));
    } else {
      shapers.push_back(std::move(*s));
    }
  }
  return Chain(std::move(shapers), std::move(selector));
}

Expected<Chain> parse_with_preset(const Preset& preset, const std::vector<SpecItem>& items) {
  if (!items[0].args.empty())
    return Error::input("sampler spec: '" + items[0].text + "': the preset '" + preset.name + "' takes no parameters");
  auto base_items = split_spec(preset.spec);
  auto base = parse_explicit(*base_items);  // the preset tables are ours; they parse
  struct Entry {
    SamplerPtr s;
    bool from_preset;
  };
  std::vector<Entry> list;
  for (const auto& s : base->shapers()) list.push_back({s->clone(), true});
  std::unique_ptr<Selector> selector = as_selector(base->selector().clone());
  bool explicit_selector = false;

  for (size_t i = 1; i < items.size(); ++i) {
    if (find_preset(items[i]) && items[i].name != "greedy")
      return Error::input("sampler spec: '" + items[i].text + "': the preset '" + items[i].name +
                          "' must be the first item");
    auto s = parse_item(items[i]);
    if (!s.ok()) return s.error();
    if ((*s)->is_selector()) {
      selector = as_selector(std::move(*s));
      explicit_selector = true;
      continue;
    }
    const std::string name = (*s)->name();
    auto same = std::find_if(list.begin(), list.end(), [&](const Entry& e) { return e.s->name() == name; });
    if (same != list.end()) {
      *same = Entry{std::move(*s), false};
      continue;
    }
    const size_t pos = order_of(*preset.order, name);
    auto at = std::find_if(list.begin(), list.end(),
                           [&](const Entry& e) { return order_of(*preset.order, e.s->name()) > pos; });
    list.insert(at, Entry{std::move(*s), false});
  }

  const bool mirostat = explicit_selector && (selector->name() == "mirostat" || selector->name() == "mirostat_v2");
  std::vector<SamplerPtr> shapers;
  for (Entry& e : list) {
    const std::string name = e.s->name();
    if (mirostat && e.from_preset && name != "logit_bias" && name != "temp") continue;
    shapers.push_back(std::move(e.s));
  }
  return Chain(std::move(shapers), std::move(selector));
}

}  // namespace

Chain::Chain() : selector_(std::make_unique<Dist>()) {}

Chain::Chain(std::vector<std::unique_ptr<Sampler>> shapers, std::unique_ptr<Selector> selector)
    : shapers_(std::move(shapers)), selector_(selector ? std::move(selector) : std::make_unique<Dist>()) {}

Chain::Chain(const Chain& other) : selector_(as_selector(other.selector_->clone())) {
  shapers_.reserve(other.shapers_.size());
  for (const auto& s : other.shapers_) shapers_.push_back(s->clone());
}

Chain& Chain::operator=(const Chain& other) {
  if (this != &other) *this = Chain(other);
  return *this;
}

Expected<Chain> Chain::parse(std::string_view spec) {
  auto items = split_spec(spec);
  if (!items.ok()) return items.error();
  if (items->empty()) return Error::input("sampler spec: empty (try \"default\", \"hf\" or \"greedy\")");
  if (const Preset* p = find_preset((*items)[0]); p && (items->size() > 1 || p->name != std::string("greedy")))
    return parse_with_preset(*p, *items);
  return parse_explicit(*items);
}

std::string Chain::spec() const {
  std::string s;
  for (const auto& x : shapers_) s += x->spec() + ";";
  return s + selector_->spec();
}

Candidates Chain::apply(const float* logits, int64_t n_vocab, const Context& ctx) {
  Candidates c = from_logits(logits, n_vocab);
  apply(c, ctx);
  return c;
}

void Chain::apply(Candidates& c, const Context& ctx) {
  for (const auto& s : shapers_) s->apply(c, ctx);
  selector_->apply(c, ctx);
  softmax(c);
  std::erase_if(c.data, [](const Candidate& x) { return !(x.p > 0); });
}

int32_t Chain::select(const Candidates& c, Rng& rng) const { return selector_->select(c, rng); }

void Chain::accept(int32_t token) {
  for (const auto& s : shapers_) s->accept(token);
  selector_->accept(token);
}

void Chain::reset() {
  for (const auto& s : shapers_) s->reset();
  selector_->reset();
}

}  // namespace ts::sampling
