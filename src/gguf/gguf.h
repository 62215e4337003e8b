// GGUF reader (versions 2 and 3) over a read-only mmap, and a writer.
//
// Format (little-endian): magic "GGUF", u32 version, u64 n_tensors, u64 n_kv; n_kv × (string key, u32 value type,
// value); n_tensors × (string name, u32 n_dims, n_dims × u64 dim, u32 ggml type, u64 offset); padding to
// general.alignment (default 32); tensor data. A string is u64 length + bytes (no NUL). An array is u32 element type,
// u64 count, elements. Version 1 (u32 counts) is refused.
//
// Every count, length, dimension and offset is validated with overflow-checked arithmetic before use; a bad file
// gives an Error whose message names the file, the field and the value, e.g.
//   "model.gguf: tensor 'blk.0.attn_q.weight': data [1024, 3072) past end of file (2048 bytes)".
// Tensor data is never copied: TensorInfo::data points into the mapping, which lives as long as the File.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenscope/dtype.h"
#include "tokenscope/expected.h"

namespace ts::gguf {

inline constexpr uint64_t kDefaultAlignment = 32;  // when general.alignment is absent
inline constexpr uint32_t kMaxDims = 4;            // GGML_MAX_DIMS
inline constexpr int kMaxArrayDepth = 8;           // arrays nested deeper than this are refused
inline constexpr uint64_t kMaxKeyBytes = 65535;    // GGUF spec: keys are at most 2^16-1 bytes of ASCII

enum class ValueType : uint32_t {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
};
std::string_view value_type_name(ValueType t);

// One metadata value. Scalars fill exactly one of u/i/f/b/s by type; arrays set elem_type and one of the array
// vectors (integer types and BOOL -> ints, FLOAT32/FLOAT64 -> floats, STRING -> strings, ARRAY -> nested).
// UINT64 array elements are kept in `ints` as their bit pattern (cast back to uint64_t to read values >= 2^63).
struct Value {
  ValueType type = ValueType::UINT8;
  uint64_t u = 0;         // UINT8/16/32/64
  int64_t i = 0;          // INT8/16/32/64
  double f = 0.0;         // FLOAT32/64
  bool b = false;         // BOOL
  std::string s;          // STRING
  ValueType elem_type = ValueType::UINT8;  // ARRAY
  std::vector<int64_t> ints;
  std::vector<double> floats;
  std::vector<std::string> strings;
  std::vector<Value> nested;

  bool is_array() const { return type == ValueType::ARRAY; }
  size_t array_size() const;  // elements of an array, 0 for a scalar
  // Numeric value of a scalar integer/float/bool (nullopt-free convenience for callers that checked the type).
  bool is_integer() const;
  bool is_float() const;
  int64_t as_int() const;     // integer or bool scalar
  double as_double() const;   // integer, float or bool scalar
  std::string to_string(size_t max_array_items = 8) const;  // for `tokenscope info`
};

struct TensorInfo {
  std::string name;
  std::vector<uint64_t> dims;  // ggml order: dims[0] is the contiguous (row) length
  DType type = DType::F32;
  uint64_t offset = 0;         // relative to the start of the data section
  uint64_t n_elements = 0;
  uint64_t n_bytes = 0;
  const uint8_t* data = nullptr;  // into the mapping

  uint64_t rows() const;       // product of dims[1..]
};

// Where open() puts the file's bytes. kMap maps the file (pages shared with the OS page cache and other processes,
// nothing read up front). kCopy reads it into anonymous memory on 2 MiB pages: a full read at open (~0.2-0.3 s per
// GB), but weights streamed from there reach about 1.5-1.8x the per-core rate of the mapped file's 4 KiB pages
// (fewer TLB misses; measured on Zen 4), which is what generation is bound by. kAuto copies files of 32 MiB or more
// when transparent huge pages are on and the file takes at most half of MemAvailable, and maps otherwise; kCopy
// also falls back to mapping when the memory cannot be had.
enum class Residency { kAuto, kMap, kCopy };

class File {
 public:
  // Maps (or copies, see Residency) and validates the whole file. Never reads past its bytes, never aborts on bad
  // input.
  static Expected<File> open(const std::string& path, Residency residency = Residency::kMap);
  // Parses an in-memory image (tests, fuzzing); `name` stands for the file name in messages. The bytes are copied.
  static Expected<File> from_bytes(std::string_view bytes, const std::string& name = "<memory>");

  File(File&&) noexcept;
  File& operator=(File&&) noexcept;
  ~File();

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  // Header end rounded up to alignment(). A file without tensors may end before it (vocab-only files from
  // llama.cpp carry no trailing padding), so data_offset() can exceed file_size() when tensors() is empty.
  uint64_t data_offset() const { return data_offset_; }
  uint64_t file_size() const { return size_; }
  // Whether open() copied the bytes into memory (Residency::kCopy or kAuto's choice) rather than mapping the file.
  bool copied() const;

  // Metadata in file order, and lookup by key.
  const std::vector<std::pair<std::string, Value>>& metadata() const { return kv_; }
  const Value* find(std::string_view key) const;

  // Typed lookups. Missing key -> fallback (for the *_or forms) or an Error naming file and key; a value of the
  // wrong type -> an Error naming file, key, expected and actual type. Integer getters accept any integer type whose
  // value fits; float getters accept FLOAT32/FLOAT64 and integers.
  Expected<std::string> get_string(std::string_view key) const;
  Expected<int64_t> get_int(std::string_view key) const;
  Expected<double> get_float(std::string_view key) const;
  Expected<bool> get_bool(std::string_view key) const;
  std::string get_string_or(std::string_view key, std::string fallback) const;
  int64_t get_int_or(std::string_view key, int64_t fallback) const;
  double get_float_or(std::string_view key, double fallback) const;
  bool get_bool_or(std::string_view key, bool fallback) const;
  // Arrays: a missing key gives an empty vector only through find(); these return an Error when missing.
  Expected<const std::vector<std::string>*> get_string_array(std::string_view key) const;
  Expected<const std::vector<int64_t>*> get_int_array(std::string_view key) const;
  Expected<const std::vector<double>*> get_float_array(std::string_view key) const;

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* tensor(std::string_view name) const;

  // Rewrites tensor `index`'s bytes in place into another layout named `form` (the model's interleaved weights),
  // where the bytes are this process's own (copied(), or from_bytes): the first call for the tensor runs
  // fn(data, n_bytes) and records the form; later calls run nothing. Returns whether the tensor's bytes are in
  // `form` afterwards: false, doing nothing, for a mapped file or a tensor already in another form. From then on
  // TensorInfo::data holds the rewritten bytes (tensor_form names their layout; readers that need the file's own
  // bytes open their own File). Thread-safe.
  bool rewrite_tensor(size_t index, std::string_view form, const std::function<void(uint8_t*, size_t)>& fn) const;
  // The form tensor `index` was rewritten into, or "" for the file's own bytes.
  std::string tensor_form(size_t index) const;

 private:
  File() = default;
  Status parse();  // fills everything below from map_
  struct Mapping;
  std::unique_ptr<Mapping> map_;
  std::string path_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  uint64_t size_ = 0;
  std::vector<std::pair<std::string, Value>> kv_;
  std::map<std::string, size_t, std::less<>> kv_index_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;
};

// Writer: collects metadata and tensors, then writes a GGUF v3 file (or returns its bytes).
class Writer {
 public:
  void set_alignment(uint64_t a) { alignment_ = a; }  // also written as general.alignment when != 32
  void add(std::string key, Value v);
  // Convenience setters.
  void add_string(std::string key, std::string v);
  void add_u32(std::string key, uint32_t v);
  void add_i32(std::string key, int32_t v);
  void add_u64(std::string key, uint64_t v);
  void add_f32(std::string key, float v);
  void add_bool(std::string key, bool v);
  void add_string_array(std::string key, std::vector<std::string> v);
  void add_f32_array(std::string key, std::vector<double> v);  // stored as FLOAT32
  void add_i32_array(std::string key, std::vector<int64_t> v);  // stored as INT32
  // `data` must hold row_bytes(type, dims[0]) * rows bytes. dims in ggml order.
  void add_tensor(std::string name, DType type, std::vector<uint64_t> dims, std::string data);

  // to_bytes() writes what it was given without checks (tests use it to build bad files); validate() checks what
  // a reader would reject: alignment, dims, data sizes, duplicate names and keys. write() validates first.
  Status validate() const;
  std::string to_bytes() const;
  Status write(const std::string& path) const;  // error names the path and errno text

 private:
  std::string header() const;  // everything before the tensor data, padding included
  uint64_t alignment_ = 32;
  std::vector<std::pair<std::string, Value>> kv_;
  struct T { std::string name; DType type; std::vector<uint64_t> dims; std::string data; };
  std::vector<T> tensors_;
};

}  // namespace ts::gguf
