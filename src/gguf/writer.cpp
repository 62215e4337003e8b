// GGUF v3 writer: the layout read by reader.cpp, little-endian.
//
// Output: header (magic, version 3, u64 n_tensors, u64 n_kv), the metadata in the order added (a key added twice
// keeps its first position and its last value; general.alignment is appended when the alignment is not 32), the
// tensor infos in the order added with offsets = running sum of each tensor's data size rounded up to the alignment,
// zero padding to the alignment, then each tensor's data followed by zero padding to the alignment.
// to_bytes() does no validation, so tests can produce deliberately bad files; write() calls validate() first.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

#include "gguf/gguf.h"

namespace ts::gguf {
namespace {

class Out {
 public:
  template <class T>
  void put(T v) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));  // little-endian host (asserted in reader.cpp)
    s.append(b, sizeof(T));
  }
  void put_string(std::string_view v) {
    put<uint64_t>(v.size());
    s.append(v);
  }
  void pad_to(uint64_t alignment) {
    if (alignment <= 1) return;  // 0 is invalid but must not divide by zero here; the reader will refuse it
    const uint64_t rem = s.size() % alignment;
    if (rem) s.append(static_cast<size_t>(alignment - rem), '\0');
  }
  std::string s;
};

// Writes elements of an array whose items are held as int64 (integer types and BOOL), narrowed to the element type.
void put_int_elem(Out& o, ValueType t, int64_t x) {
  switch (t) {
    case ValueType::UINT8: o.put<uint8_t>(static_cast<uint8_t>(x)); break;
    case ValueType::INT8: o.put<int8_t>(static_cast<int8_t>(x)); break;
    case ValueType::BOOL: o.put<uint8_t>(x ? 1 : 0); break;
    case ValueType::UINT16: o.put<uint16_t>(static_cast<uint16_t>(x)); break;
    case ValueType::INT16: o.put<int16_t>(static_cast<int16_t>(x)); break;
    case ValueType::UINT32: o.put<uint32_t>(static_cast<uint32_t>(x)); break;
    case ValueType::INT32: o.put<int32_t>(static_cast<int32_t>(x)); break;
    case ValueType::UINT64: o.put<uint64_t>(static_cast<uint64_t>(x)); break;
    case ValueType::INT64: o.put<int64_t>(x); break;
    default: break;
  }
}

void put_value(Out& o, const Value& v) {
  switch (v.type) {
    case ValueType::UINT8: o.put<uint8_t>(static_cast<uint8_t>(v.u)); return;
    case ValueType::UINT16: o.put<uint16_t>(static_cast<uint16_t>(v.u)); return;
    case ValueType::UINT32: o.put<uint32_t>(static_cast<uint32_t>(v.u)); return;
    case ValueType::UINT64: o.put<uint64_t>(v.u); return;
    case ValueType::INT8: o.put<int8_t>(static_cast<int8_t>(v.i)); return;
    case ValueType::INT16: o.put<int16_t>(static_cast<int16_t>(v.i)); return;
    case ValueType::INT32: o.put<int32_t>(static_cast<int32_t>(v.i)); return;
    case ValueType::INT64: o.put<int64_t>(v.i); return;
    case ValueType::FLOAT32: o.put<float>(static_cast<float>(v.f)); return;
    case ValueType::FLOAT64: o.put<double>(v.f); return;
    case ValueType::BOOL: o.put<uint8_t>(v.b ? 1 : 0); return;
    case ValueType::STRING: o.put_string(v.s); return;
    case ValueType::ARRAY: break;
  }
  o.put<uint32_t>(static_cast<uint32_t>(v.elem_type));
  o.put<uint64_t>(v.array_size());
  switch (v.elem_type) {
    case ValueType::STRING:
      for (const std::string& x : v.strings) o.put_string(x);
      return;
    case ValueType::ARRAY:
      for (const Value& x : v.nested) put_value(o, x);  // each nested Value is itself an ARRAY
      return;
    case ValueType::FLOAT32:
      for (double x : v.floats) o.put<float>(static_cast<float>(x));
      return;
    case ValueType::FLOAT64:
      for (double x : v.floats) o.put<double>(x);
      return;
    default:
      for (int64_t x : v.ints) put_int_elem(o, v.elem_type, x);
      return;
  }
}

uint64_t align_up(uint64_t x, uint64_t a) { return a <= 1 ? x : (x + a - 1) / a * a; }

Value scalar(ValueType t) {
  Value v;
  v.type = t;
  return v;
}

Value array_of(ValueType elem) {
  Value v;
  v.type = ValueType::ARRAY;
  v.elem_type = elem;
  return v;
}

}  // namespace

void Writer::add(std::string key, Value v) {
  for (auto& kv : kv_)
    if (kv.first == key) {
      kv.second = std::move(v);
      return;
    }
  kv_.emplace_back(std::move(key), std::move(v));
}

void Writer::add_string(std::string key, std::string v) {
  Value x = scalar(ValueType::STRING);
  x.s = std::move(v);
  add(std::move(key), std::move(x));
}
void Writer::add_u32(std::string key, uint32_t v) {
  Value x = scalar(ValueType::UINT32);
  x.u = v;
  add(std::move(key), std::move(x));
}
void Writer::add_i32(std::string key, int32_t v) {
  Value x = scalar(ValueType::INT32);
  x.i = v;
  add(std::move(key), std::move(x));
}
void Writer::add_u64(std::string key, uint64_t v) {
  Value x = scalar(ValueType::UINT64);
  x.u = v;
  add(std::move(key), std::move(x));
}
void Writer::add_f32(std::string key, float v) {
  Value x = scalar(ValueType::FLOAT32);
  x.f = v;
  add(std::move(key), std::move(x));
}
void Writer::add_bool(std::string key, bool v) {
  Value x = scalar(ValueType::BOOL);
  x.b = v;
  add(std::move(key), std::move(x));
}
void Writer::add_string_array(std::string key, std::vector<std::string> v) {
  Value x = array_of(ValueType::STRING);
  x.strings = std::move(v);
  add(std::move(key), std::move(x));
}
void Writer::add_f32_array(std::string key, std::vector<double> v) {
  Value x = array_of(ValueType::FLOAT32);
  x.floats = std::move(v);
  add(std::move(key), std::move(x));
}
void Writer::add_i32_array(std::string key, std::vector<int64_t> v) {
  Value x = array_of(ValueType::INT32);
  x.ints = std::move(v);
  add(std::move(key), std::move(x));
}

void Writer::add_tensor(std::string name, DType type, std::vector<uint64_t> dims, std::string data) {
  tensors_.push_back(T{std::move(name), type, std::move(dims), std::move(data)});
}

Status Writer::validate() const {
  if (alignment_ == 0 || (alignment_ & (alignment_ - 1)) != 0)
    return Error::input("gguf writer: general.alignment: must be a nonzero power of two (" +
                        std::to_string(alignment_) + ")");
  std::set<std::string_view> names;
  for (const auto& [key, v] : kv_) {
    if (key.empty() || key.size() > kMaxKeyBytes)
      return Error::input("gguf writer: key '" + key + "': key length must be 1.." + std::to_string(kMaxKeyBytes) +
                          " (" + std::to_string(key.size()) + ")");
    if (key == "general.alignment" && (!v.is_integer() || v.as_int() != static_cast<int64_t>(alignment_)))
      return Error::input("gguf writer: key 'general.alignment': differs from set_alignment(" +
                          std::to_string(alignment_) + "); set it with set_alignment() (" + v.to_string() + ")");
  }
  for (const T& t : tensors_) {
    const std::string field = "gguf writer: tensor '" + t.name + "': ";
    if (t.name.empty()) return Error::input(field + "name is empty (0 bytes)");
    if (!names.insert(t.name).second) return Error::input(field + "duplicate tensor name (" + t.name + ")");
    if (t.dims.empty() || t.dims.size() > kMaxDims)
      return Error::input(field + "n_dims must be 1.." + std::to_string(kMaxDims) + " (" +
                          std::to_string(t.dims.size()) + ")");
    const DTypeTraits tr = traits(t.type);
    uint64_t n = 1;
    for (uint64_t d : t.dims)
      if (d == 0 || __builtin_mul_overflow(n, d, &n) || n > static_cast<uint64_t>(INT64_MAX))
        return Error::input(field + "dims must be >= 1 with a product that fits int64 (" + std::to_string(d) + ")");
    if (t.dims[0] % tr.block_elems != 0)
      return Error::input(field + "dims[0] is not a multiple of the block size " + std::to_string(tr.block_elems) +
                          " (" + std::to_string(t.dims[0]) + ")");
    uint64_t bytes = 0;
    if (__builtin_mul_overflow(n / tr.block_elems, static_cast<uint64_t>(tr.block_bytes), &bytes) ||
        bytes != t.data.size())
      return Error::input(field + "data size does not match dims and type " + std::string(tr.name) + " (" +
                          std::to_string(t.data.size()) + " bytes given, " + std::to_string(bytes) + " expected)");
  }
  return ok_status();
}

std::string Writer::header() const {
  Out o;
  const bool write_alignment = alignment_ != kDefaultAlignment &&
                               std::none_of(kv_.begin(), kv_.end(), [](const auto& kv) {
                                 return kv.first == "general.alignment";
                               });
  o.s.append("GGUF", 4);
  o.put<uint32_t>(3);
  o.put<uint64_t>(tensors_.size());
  o.put<uint64_t>(kv_.size() + (write_alignment ? 1 : 0));
  for (const auto& [key, v] : kv_) {
    o.put_string(key);
    o.put<uint32_t>(static_cast<uint32_t>(v.type));
    put_value(o, v);
  }
  if (write_alignment) {
    o.put_string("general.alignment");
    o.put<uint32_t>(static_cast<uint32_t>(ValueType::UINT32));
    o.put<uint32_t>(static_cast<uint32_t>(alignment_));
  }
  uint64_t offset = 0;
  for (const T& t : tensors_) {
    o.put_string(t.name);
    o.put<uint32_t>(static_cast<uint32_t>(t.dims.size()));
    for (uint64_t d : t.dims) o.put<uint64_t>(d);
    o.put<uint32_t>(static_cast<uint32_t>(t.type));
    o.put<uint64_t>(offset);
    offset = align_up(offset + t.data.size(), alignment_);
  }
  // The padding after the infos is written only when there is data, matching vocab-only files from llama.cpp.
  if (!tensors_.empty()) o.pad_to(alignment_);
  return o.s;
}

std::string Writer::to_bytes() const {
  Out o;
  o.s = header();
  for (const T& t : tensors_) {
    o.s.append(t.data);
    o.pad_to(alignment_);
  }
  return o.s;
}

Status Writer::write(const std::string& path) const {
  Status v = validate();
  if (!v) return Error::input(path + ": " + v.error().message);
  // Streamed: the header, then each tensor's data and padding, so writing needs no second copy of the weights.
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return Error::input(path + ": open for writing: " + std::strerror(errno) + " (errno " + std::to_string(errno) + ")");
  uint64_t total = 0;
  bool good = true;
  auto put = [&](const char* p, size_t n) {
    if (good && n && std::fwrite(p, 1, n, f) != n) good = false;
    total += n;
  };
  const std::string head = header();
  put(head.data(), head.size());
  const std::string zeros(static_cast<size_t>(alignment_ > 1 ? alignment_ : 1), '\0');
  for (const T& t : tensors_) {
    put(t.data.data(), t.data.size());
    const uint64_t rem = alignment_ > 1 ? total % alignment_ : 0;
    if (rem) put(zeros.data(), static_cast<size_t>(alignment_ - rem));
  }
  const int write_errno = errno;
  const bool closed = std::fclose(f) == 0;
  if (!good || !closed)
    return Error::input(path + ": write: " + std::strerror(!good ? write_errno : errno) + " (after " +
                        std::to_string(total) + " bytes)");
  return ok_status();
}

}  // namespace ts::gguf
