// The text form of a sampler chain, shared by every sampler's parse and spec():
//
//   spec  := item { ';' item }                 e.g.  "penalties,repeat=1.1;top_k=40;min_p=0.05;temp=0.8"
//   item  := name [ '=' value ] { ',' key '=' value }
//
// `name=value` sets the sampler's primary parameter (top_k=40); the others are keyed (temp=0.8,range=0.5). Spaces
// around names, keys and values are ignored. Values may contain the escapes \n \t \r \\ \; \, \= \| \s (a space)
// and \xHH, so that DRY's sequence breakers can be any bytes. Numbers are written in the shortest form that reads
// back to the same float, so spec() → parse → spec() is the identity.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenscope/expected.h"

namespace ts::sampling {

struct SpecItem {
  std::string text;     // the item as written, for error messages
  std::string name;
  std::vector<std::pair<std::string, std::string>> args;  // key "" = the primary value; values still escaped
};

// Splits a spec into items (empty items are skipped). Errors: malformed escapes, missing names or keys.
Expected<std::vector<SpecItem>> split_spec(std::string_view spec);

// Reads one item's parameters; each get_* consumes its key, finish() rejects whatever was not consumed.
// Errors read "sampler spec: 'top_p=1.5': top_p 1.5 out of range 0..1".
class SpecArgs {
 public:
  explicit SpecArgs(const SpecItem& item) : item_(item), used_(item.args.size(), false) {}

  // key "" reads the primary value (reported under the item's name).
  Status get_float(std::string_view key, float& v, double lo, double hi);
  Status get_int(std::string_view key, int32_t& v, int64_t lo, int64_t hi);
  Status get_string(std::string_view key, std::string& v);
  // A '|'-separated list (an escaped \| is a literal bar); an empty value is an empty list.
  Status get_list(std::string_view key, std::vector<std::string>& v);
  // Entries whose key is not one of the names asked for so far, in order, values still escaped (logit_bias's
  // numeric keys).
  std::vector<std::pair<std::string, std::string>> take_rest();
  Status finish();

  Error error(const std::string& what) const;
  const SpecItem& item() const { return item_; }

 private:
  const std::string* find(std::string_view key);

  const SpecItem& item_;
  std::vector<bool> used_;
  std::vector<std::string> known_;
};

Expected<std::string> unescape_value(std::string_view s);
Expected<float> parse_float(std::string_view s);  // also "inf", "-inf"; rejects NaN and trailing text
Expected<int64_t> parse_int(std::string_view s);

std::string format_float(float v);  // shortest text that reads back to v
std::string escape_value(std::string_view s);

// Builds "name[=primary][,key=value]...".
class SpecWriter {
 public:
  explicit SpecWriter(std::string name) : s_(std::move(name)) {}
  SpecWriter& primary(float v) { return raw_primary(format_float(v)); }
  SpecWriter& primary(int64_t v) { return raw_primary(std::to_string(v)); }
  SpecWriter& key(std::string_view k, float v) { return raw(k, format_float(v)); }
  SpecWriter& key(std::string_view k, int64_t v) { return raw(k, std::to_string(v)); }
  SpecWriter& raw(std::string_view k, std::string_view escaped_value);
  std::string str() const { return s_; }

 private:
  SpecWriter& raw_primary(const std::string& v) {
    s_ += "=" + v;
    return *this;
  }
  std::string s_;
};

}  // namespace ts::sampling
