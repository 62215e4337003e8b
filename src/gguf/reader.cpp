// GGUF v2/v3 reader: maps the file read-only (or copies it, see Residency) and validates every field before it is used.
//
// Layout (little-endian, as in the GGUF spec, ggml/docs/gguf.md):
//   "GGUF" | u32 version | u64 n_tensors | u64 n_kv
//   n_kv    × { string key | u32 value type | value }
//   n_tensors × { string name | u32 n_dims | n_dims × u64 dim | u32 ggml type | u64 offset }
//   zero padding to general.alignment (default 32) | tensor data
// string = u64 length + bytes; array = u32 element type + u64 count + elements.
//
// Safety contract: every read goes through Parser, which checks the remaining bytes first; counts and lengths are
// compared with the remaining bytes before anything is allocated (so a huge count costs nothing); all offset and size
// arithmetic uses __builtin_*_overflow. Errors are one line: "<file>: <field>: <problem> (<value>)".
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <new>
#include <set>

#include "gguf/gguf.h"

static_assert(std::endian::native == std::endian::little, "the GGUF reader assumes a little-endian host");

namespace ts::gguf {

// Owns the bytes: either an mmap of the file or an aligned heap copy (from_bytes). Tensor data pointers point into
// it, and it never moves once created, so File can be moved freely.
struct File::Mapping {
  const uint8_t* data = nullptr;
  size_t size = 0;
  void* mmap_base = nullptr;  // non-null: munmap(mmap_base, mmap_size) on destruction
  size_t mmap_size = 0;
  uint8_t* heap = nullptr;    // non-null: free on destruction
  bool copied = false;        // the bytes are an anonymous copy of the file (Residency::kCopy)
  std::mutex forms_mutex;     // guards forms
  std::map<size_t, std::string> forms;  // tensors rewritten in place (rewrite_tensor), by index

  Mapping() = default;
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() {
    if (mmap_base) munmap(mmap_base, mmap_size);
    std::free(heap);
  }
};

namespace {

// Heap copies are 64-byte aligned like a page-aligned mmap would be, so SIMD loaders see the same alignment.
constexpr size_t kHeapAlign = 64;

// Smallest encodings, used to bound counts by the bytes that remain before allocating for them.
constexpr uint64_t kMinKvBytes = 8 + 1 + 4 + 1;              // key length, 1-byte key, type, 1-byte value
constexpr uint64_t kMinTensorInfoBytes = 8 + 1 + 4 + 8 + 4 + 8;  // name length, 1-byte name, n_dims, dim, type, offset

bool known_value_type(uint32_t t) { return t <= static_cast<uint32_t>(ValueType::FLOAT64); }

// Bytes of a fixed-size value type; 0 for STRING and ARRAY.
uint64_t scalar_bytes(ValueType t) {
  switch (t) {
    case ValueType::UINT8: case ValueType::INT8: case ValueType::BOOL: return 1;
    case ValueType::UINT16: case ValueType::INT16: return 2;
    case ValueType::UINT32: case ValueType::INT32: case ValueType::FLOAT32: return 4;
    case ValueType::UINT64: case ValueType::INT64: case ValueType::FLOAT64: return 8;
    default: return 0;
  }
}

// Smallest encoding of one element of type t (a string is at least its length; an array its type and count).
uint64_t min_elem_bytes(ValueType t) {
  if (t == ValueType::STRING) return 8;
  if (t == ValueType::ARRAY) return 12;
  return scalar_bytes(t);
}

std::string quote(std::string_view s) {
  // Names in messages are shown raw but cut short and stripped of control bytes, so a message stays one line.
  std::string out = "'";
  for (size_t k = 0; k < s.size() && k < 80; ++k) {
    const unsigned char c = static_cast<unsigned char>(s[k]);
    out += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
  }
  if (s.size() > 80) out += "...";
  return out + "'";
}

class Parser {
 public:
  Parser(const uint8_t* data, size_t size, const std::string& file) : p_(data), n_(size), file_(file) {}

  size_t pos() const { return pos_; }
  size_t remaining() const { return n_ - pos_; }
  const Error& error() const { return error_; }

  bool fail(const std::string& field, const std::string& problem, const std::string& value) {
    error_ = Error::input(file_ + ": " + field + ": " + problem + " (" + value + ")");
    return false;
  }

  bool need(uint64_t bytes, const std::string& field) {
    if (bytes <= remaining()) return true;
    return fail(field, "truncated, needs " + std::to_string(bytes) + " bytes at offset " + std::to_string(pos_),
                "file is " + std::to_string(n_) + " bytes");
  }

  template <class T>
  bool read(T& out, const std::string& field) {
    if (!need(sizeof(T), field)) return false;
    std::memcpy(&out, p_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }

  // index >= 0: an array element, named field[index] in messages (the name is built only on failure).
  bool read_string(std::string& out, const std::string& field, int64_t index = -1) {
    uint64_t len = 0;
    if (remaining() < sizeof len) return need(sizeof len, indexed(field, index) + " string length");
    (void)read(len, field);  // cannot fail: checked just above
    if (len > remaining())
      return fail(indexed(field, index), "string length past end of file",
                  "length " + std::to_string(len) + ", " + std::to_string(remaining()) + " bytes left");
    out.assign(reinterpret_cast<const char*>(p_ + pos_), static_cast<size_t>(len));
    pos_ += static_cast<size_t>(len);
    return true;
  }

  static std::string indexed(const std::string& field, int64_t index) {
    return index < 0 ? field : field + "[" + std::to_string(index) + "]";
  }

  // count elements of a fixed-size type whose bytes the caller has checked are present.
  template <class T, class Dst>
  void read_elems(std::vector<Dst>& out, size_t count) {
    for (size_t k = 0; k < count; ++k) {
      T x;
      std::memcpy(&x, p_ + pos_ + k * sizeof(T), sizeof(T));
      out[k] = static_cast<Dst>(x);
    }
    pos_ += count * sizeof(T);
  }

  bool read_bool(bool& out, const std::string& field) {
    uint8_t byte = 0;
    if (!read(byte, field)) return false;
    if (byte > 1) return fail(field, "bool byte must be 0 or 1", std::to_string(byte));
    out = byte != 0;
    return true;
  }

  bool read_value_type(ValueType& out, const std::string& field) {
    uint32_t t = 0;
    if (!read(t, field + " value type")) return false;
    if (!known_value_type(t)) return fail(field, "unknown value type", std::to_string(t));
    out = static_cast<ValueType>(t);
    return true;
  }

  // A scalar of fixed size as an unsigned/signed/float number into the matching Value field.
  bool read_scalar(ValueType t, Value& v, const std::string& field) {
    v.type = t;
    switch (t) {
      case ValueType::UINT8: { uint8_t x; if (!read(x, field)) return false; v.u = x; return true; }
      case ValueType::UINT16: { uint16_t x; if (!read(x, field)) return false; v.u = x; return true; }
      case ValueType::UINT32: { uint32_t x; if (!read(x, field)) return false; v.u = x; return true; }
      case ValueType::UINT64: { uint64_t x; if (!read(x, field)) return false; v.u = x; return true; }
      case ValueType::INT8: { int8_t x; if (!read(x, field)) return false; v.i = x; return true; }
      case ValueType::INT16: { int16_t x; if (!read(x, field)) return false; v.i = x; return true; }
      case ValueType::INT32: { int32_t x; if (!read(x, field)) return false; v.i = x; return true; }
      case ValueType::INT64: { int64_t x; if (!read(x, field)) return false; v.i = x; return true; }
      case ValueType::FLOAT32: { float x; if (!read(x, field)) return false; v.f = x; return true; }
      case ValueType::FLOAT64: { double x; if (!read(x, field)) return false; v.f = x; return true; }
      case ValueType::BOOL: return read_bool(v.b, field);
      default: return fail(field, "not a scalar value type", std::to_string(static_cast<uint32_t>(t)));
    }
  }

  // depth = how many arrays enclose this value (0 for a top-level value).
  bool read_value(ValueType t, Value& v, const std::string& field, int depth) {
    if (t == ValueType::STRING) {
      v.type = t;
      return read_string(v.s, field);
    }
    if (t != ValueType::ARRAY) return read_scalar(t, v, field);
    v.type = ValueType::ARRAY;
    if (depth + 1 > kMaxArrayDepth)
      return fail(field, "arrays nested too deep, at most " + std::to_string(kMaxArrayDepth) + " levels",
                  "depth " + std::to_string(depth + 1));
    if (!read_value_type(v.elem_type, field + " array element")) return false;
    uint64_t count = 0;
    if (!read(count, field + " array count")) return false;
    // Checked before resize(): a crafted count must not turn into a huge allocation.
    const uint64_t min_bytes = min_elem_bytes(v.elem_type);
    if (count > remaining() / min_bytes)
      return fail(field, "array count exceeds the remaining bytes",
                  "count " + std::to_string(count) + " of " + std::string(value_type_name(v.elem_type)) + ", " +
                      std::to_string(remaining()) + " bytes left");
    const size_t n = static_cast<size_t>(count);
    switch (v.elem_type) {
      case ValueType::STRING:
        v.strings.resize(n);
        for (size_t k = 0; k < n; ++k)
          if (!read_string(v.strings[k], field, static_cast<int64_t>(k))) return false;
        return true;
      case ValueType::ARRAY:
        v.nested.resize(n);
        for (size_t k = 0; k < n; ++k)
          if (!read_value(ValueType::ARRAY, v.nested[k], indexed(field, static_cast<int64_t>(k)), depth + 1))
            return false;
        return true;
      // Fixed-size elements: the count check above guarantees count × size bytes are present.
      case ValueType::FLOAT32: v.floats.resize(n); read_elems<float>(v.floats, n); return true;
      case ValueType::FLOAT64: v.floats.resize(n); read_elems<double>(v.floats, n); return true;
      case ValueType::UINT8: v.ints.resize(n); read_elems<uint8_t>(v.ints, n); return true;
      case ValueType::INT8: v.ints.resize(n); read_elems<int8_t>(v.ints, n); return true;
      case ValueType::UINT16: v.ints.resize(n); read_elems<uint16_t>(v.ints, n); return true;
      case ValueType::INT16: v.ints.resize(n); read_elems<int16_t>(v.ints, n); return true;
      case ValueType::UINT32: v.ints.resize(n); read_elems<uint32_t>(v.ints, n); return true;
      case ValueType::INT32: v.ints.resize(n); read_elems<int32_t>(v.ints, n); return true;
      case ValueType::UINT64: v.ints.resize(n); read_elems<uint64_t>(v.ints, n); return true;  // keeps the bits
      case ValueType::INT64: v.ints.resize(n); read_elems<int64_t>(v.ints, n); return true;
      case ValueType::BOOL:
        v.ints.resize(n);
        read_elems<uint8_t>(v.ints, n);
        for (size_t k = 0; k < n; ++k)
          if (v.ints[k] > 1)
            return fail(indexed(field, static_cast<int64_t>(k)), "bool byte must be 0 or 1", std::to_string(v.ints[k]));
        return true;
    }
    return fail(field, "unknown value type", std::to_string(static_cast<uint32_t>(v.elem_type)));
  }

 private:
  const uint8_t* p_;
  size_t n_;
  size_t pos_ = 0;
  const std::string& file_;
  Error error_;
};

// Keys are ASCII without control bytes or spaces (the spec asks for lower_snake_case joined by '.'; we accept any
// printable ASCII so that files with unusual but harmless keys still load).
bool valid_key(std::string_view k) {
  if (k.empty() || k.size() > kMaxKeyBytes) return false;
  for (unsigned char c : k)
    if (c <= 0x20 || c >= 0x7f) return false;
  return true;
}

std::string hex_bytes(const uint8_t* p, size_t n) {
  std::string out;
  static const char* kHex = "0123456789abcdef";
  for (size_t k = 0; k < n; ++k) {
    if (k) out += ' ';
    out += kHex[p[k] >> 4];
    out += kHex[p[k] & 15];
  }
  return out;
}

}  // namespace

File::File(File&&) noexcept = default;
File& File::operator=(File&&) noexcept = default;
namespace {
constexpr size_t kHugePage = size_t{2} << 20;
// The bytes of a copy of `size` bytes: whole huge pages.
size_t copy_bytes(size_t size) { return (size + kHugePage - 1) / kHugePage * kHugePage; }
}  // namespace

bool File::copied() const { return map_ && map_->copied; }

bool File::rewrite_tensor(size_t index, std::string_view form,
                          const std::function<void(uint8_t*, size_t)>& fn) const {
  if (!map_ || index >= tensors_.size() || (!map_->copied && !map_->heap)) return false;
  std::lock_guard<std::mutex> lock(map_->forms_mutex);
  if (auto it = map_->forms.find(index); it != map_->forms.end()) return it->second == form;
  const TensorInfo& t = tensors_[index];
  auto* data = const_cast<uint8_t*>(t.data);  // our own copy: writable once unprotected
  if (map_->copied) {
    // The copy is read-only (read_into_huge_pages): open all of it for the rewrite, not just the tensor's pages. A
    // protection change on part of the range splits it, and with it the 2 MiB pages across each cut, which stay
    // split (measured: a quarter of the 1.1B Q8_0 model's huge pages lost, and generation 10% slower).
    auto* copy = const_cast<uint8_t*>(map_->data);
    const size_t rounded = copy_bytes(map_->size);
    if (mprotect(copy, rounded, PROT_READ | PROT_WRITE) != 0) return false;
    fn(data, t.n_bytes);
    mprotect(copy, rounded, PROT_READ);
  } else {
    fn(data, t.n_bytes);
  }
  map_->forms.emplace(index, std::string(form));
  return true;
}

std::string File::tensor_form(size_t index) const {
  if (!map_) return {};
  std::lock_guard<std::mutex> lock(map_->forms_mutex);
  auto it = map_->forms.find(index);
  return it == map_->forms.end() ? std::string() : it->second;
}
File::~File() = default;

namespace {

// Transparent huge pages for anonymous memory: "[always]" or "[madvise]" in the kernel's setting.
bool huge_pages_available() {
  std::FILE* f = std::fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
  if (!f) return false;
  char buf[128] = {};
  const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  const std::string_view v(buf, n);
  return v.find("[always]") != std::string_view::npos || v.find("[madvise]") != std::string_view::npos;
}

// MemAvailable of /proc/meminfo in bytes; 0 when unknown.
uint64_t memory_available() {
  std::FILE* f = std::fopen("/proc/meminfo", "r");
  if (!f) return 0;
  char line[256];
  uint64_t kb = 0;
  while (std::fgets(line, sizeof line, f))
    if (std::sscanf(line, "MemAvailable: %lu kB", &kb) == 1) break;
  std::fclose(f);
  return kb * 1024;
}

// kAuto's choice: copy files of kAutoCopyMin bytes or more when huge pages are on and the copy takes at most half
// of the memory available. (Smaller files are read at once and their pages stay in the TLB's reach anyway.)
constexpr size_t kAutoCopyMin = size_t{32} << 20;
bool copy_chosen(Residency r, size_t size) {
  if (size == 0 || r == Residency::kMap) return false;
  if (r == Residency::kCopy) return true;
  return size >= kAutoCopyMin && huge_pages_available() && static_cast<uint64_t>(size) <= memory_available() / 2;
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14; older kernels answer EINVAL and the pages fault in on first write
#endif

// Reads the whole file into anonymous memory aligned to a huge page and advised to use huge pages. Returns the
// mapping's base (to munmap, `mapped` bytes) and the copy's start; nullptr when the memory cannot be had (the caller
// maps the file instead). A read error is an Error.
Expected<uint8_t*> read_into_huge_pages(int fd, const std::string& path, size_t size, void*& base, size_t& mapped) {
  const size_t rounded = copy_bytes(size);
  mapped = rounded + kHugePage;  // room to align the start
  base = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) {
    base = nullptr;
    return static_cast<uint8_t*>(nullptr);
  }
  auto* data = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(base) + kHugePage - 1) & ~(kHugePage - 1));
  madvise(data, rounded, MADV_HUGEPAGE);
  madvise(data, rounded, MADV_POPULATE_WRITE);  // fault the pages in at once: much faster than one at a time
  for (size_t off = 0; off < size;) {
    const ssize_t got = pread(fd, data + off, std::min<size_t>(size - off, size_t{64} << 20), static_cast<off_t>(off));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      const int e = errno;
      munmap(base, mapped);
      base = nullptr;
      return Error::input(path + ": read: " + (got < 0 ? std::string(std::strerror(e)) : "unexpected end of file") +
                          " (at byte " + std::to_string(off) + " of " + std::to_string(size) + ")");
    }
    off += static_cast<size_t>(got);
  }
  mprotect(data, rounded, PROT_READ);  // as read-only as the mapped file
  return data;
}

}  // namespace

Expected<File> File::open(const std::string& path, Residency residency) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error::input(path + ": open: " + std::strerror(errno) + " (errno " + std::to_string(errno) + ")");
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    return Error::input(path + ": stat: " + std::strerror(e) + " (errno " + std::to_string(e) + ")");
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Error::input(path + ": open: not a regular file (mode " + std::to_string(st.st_mode) + ")");
  }
  File f;
  f.path_ = path;
  f.map_ = std::make_unique<Mapping>();
  const size_t size = static_cast<size_t>(st.st_size);
  if (copy_chosen(residency, size)) {
    void* base = nullptr;
    size_t mapped = 0;
    auto data = read_into_huge_pages(fd, path, size, base, mapped);
    if (!data) {
      ::close(fd);
      return data.error();
    }
    if (*data) {
      f.map_->mmap_base = base;
      f.map_->mmap_size = mapped;
      f.map_->data = *data;
      f.map_->size = size;
      f.map_->copied = true;
    }
  }
  if (size > 0 && !f.map_->data) {  // mmap of length 0 fails; an empty file is reported by parse() as truncated
    void* base = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (base == MAP_FAILED) {
      const int e = errno;
      ::close(fd);
      return Error::input(path + ": mmap: " + std::strerror(e) + " (" + std::to_string(size) + " bytes)");
    }
    f.map_->mmap_base = base;
    f.map_->mmap_size = size;
    f.map_->data = static_cast<const uint8_t*>(base);
    f.map_->size = size;
  }
  ::close(fd);  // the mapping stays valid after close
  Status s = f.parse();
  if (!s) return s.error();
  return f;
}

Expected<File> File::from_bytes(std::string_view bytes, const std::string& name) {
  File f;
  f.path_ = name;
  f.map_ = std::make_unique<Mapping>();
  if (!bytes.empty()) {
    const size_t rounded = (bytes.size() + kHeapAlign - 1) / kHeapAlign * kHeapAlign;
    auto* heap = static_cast<uint8_t*>(std::aligned_alloc(kHeapAlign, rounded));
    if (!heap) return Error::internal(name + ": from_bytes: out of memory (" + std::to_string(bytes.size()) + " bytes)");
    std::memcpy(heap, bytes.data(), bytes.size());
    f.map_->heap = heap;
    f.map_->data = heap;
    f.map_->size = bytes.size();
  }
  Status s = f.parse();
  if (!s) return s.error();
  return f;
}

Status File::parse() {
  const uint8_t* base = map_->data;
  size_ = map_->size;
  Parser p(base, size_, path_);

  // Header.
  if (size_ < 4) return Error::input(path_ + ": magic: file too short for a GGUF header (" + std::to_string(size_) + " bytes)");
  if (std::memcmp(base, "GGUF", 4) != 0)
    return Error::input(path_ + ": magic: not a GGUF file, expected 'GGUF' (bytes " + hex_bytes(base, 4) + ")");
  uint32_t magic = 0;
  if (!p.read(magic, "magic")) return p.error();
  if (!p.read(version_, "version")) return p.error();
  if (version_ == 1)
    return Error::input(path_ + ": version: GGUF version 1 (32-bit counts) is not supported, only 2 and 3 (1)");
  if (version_ != 2 && version_ != 3) {
    const uint32_t swapped = __builtin_bswap32(version_);
    if (swapped >= 1 && swapped <= 3)
      return Error::input(path_ + ": version: big-endian GGUF is not supported (" + std::to_string(swapped) + ")");
    return Error::input(path_ + ": version: unsupported GGUF version, only 2 and 3 are read (" +
                        std::to_string(version_) + ")");
  }
  uint64_t n_tensors = 0, n_kv = 0;
  if (!p.read(n_tensors, "n_tensors")) return p.error();
  if (!p.read(n_kv, "n_kv")) return p.error();
  // Bound both counts by the bytes left, so reserve() below can never be asked for more than the file justifies.
  if (n_kv > p.remaining() / kMinKvBytes)
    return Error::input(path_ + ": n_kv: more key-value pairs than the file can hold (" + std::to_string(n_kv) + ")");
  if (n_tensors > p.remaining() / kMinTensorInfoBytes)
    return Error::input(path_ + ": n_tensors: more tensors than the file can hold (" + std::to_string(n_tensors) + ")");
  uint64_t need = 0;
  if (__builtin_mul_overflow(n_kv, kMinKvBytes, &need) ||
      __builtin_add_overflow(need, n_tensors * kMinTensorInfoBytes, &need) || need > p.remaining())
    return Error::input(path_ + ": n_tensors: " + std::to_string(n_tensors) + " tensors and " + std::to_string(n_kv) +
                        " keys cannot fit in the file (" + std::to_string(size_) + " bytes)");

  // Metadata.
  kv_.reserve(static_cast<size_t>(n_kv));
  for (uint64_t k = 0; k < n_kv; ++k) {
    const std::string slot = "kv[" + std::to_string(k) + "]";
    std::string key;
    if (!p.read_string(key, slot + " key")) return p.error();
    if (!valid_key(key))
      return Error::input(path_ + ": " + slot + " key: key must be 1.." + std::to_string(kMaxKeyBytes) +
                          " bytes of printable ASCII without spaces (" + quote(key) + ", " +
                          std::to_string(key.size()) + " bytes)");
    const std::string field = "key " + quote(key);
    if (kv_index_.count(key)) return Error::input(path_ + ": " + field + ": duplicate key (" + slot + ")");
    Value v;
    ValueType t{};
    if (!p.read_value_type(t, field)) return p.error();
    if (!p.read_value(t, v, field, 0)) return p.error();
    kv_index_.emplace(key, kv_.size());
    kv_.emplace_back(std::move(key), std::move(v));
  }

  // general.alignment: the spec says UINT32; any integer type is accepted, the value is what matters.
  if (const Value* a = find("general.alignment")) {
    if (!a->is_integer())
      return Error::input(path_ + ": general.alignment: must be an integer, found " +
                          std::string(value_type_name(a->type)) + " (" + a->to_string() + ")");
    const bool is_signed = a->type == ValueType::INT8 || a->type == ValueType::INT16 ||
                           a->type == ValueType::INT32 || a->type == ValueType::INT64;
    const uint64_t al = is_signed ? (a->i < 0 ? 0 : static_cast<uint64_t>(a->i)) : a->u;
    if (al == 0 || (al & (al - 1)) != 0)
      return Error::input(path_ + ": general.alignment: must be a nonzero power of two (" + a->to_string() + ")");
    alignment_ = al;
  } else {
    alignment_ = kDefaultAlignment;
  }

  // Tensor infos.
  tensors_.reserve(static_cast<size_t>(n_tensors));
  for (uint64_t k = 0; k < n_tensors; ++k) {
    const std::string slot = "tensor[" + std::to_string(k) + "]";
    TensorInfo t;
    if (!p.read_string(t.name, slot + " name")) return p.error();
    if (t.name.empty()) return Error::input(path_ + ": " + slot + " name: tensor name is empty (0 bytes)");
    const std::string field = "tensor " + quote(t.name);
    if (tensor_index_.count(t.name))
      return Error::input(path_ + ": " + field + ": duplicate tensor name (" + slot + ")");
    uint32_t n_dims = 0;
    if (!p.read(n_dims, field + " n_dims")) return p.error();
    if (n_dims < 1 || n_dims > kMaxDims)
      return Error::input(path_ + ": " + field + ": n_dims must be 1.." + std::to_string(kMaxDims) + " (" +
                          std::to_string(n_dims) + ")");
    t.dims.resize(n_dims);
    uint64_t n_elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      if (!p.read(t.dims[d], field + " dims[" + std::to_string(d) + "]")) return p.error();
      if (t.dims[d] == 0)
        return Error::input(path_ + ": " + field + ": dims[" + std::to_string(d) + "] must be at least 1 (0)");
      if (__builtin_mul_overflow(n_elements, t.dims[d], &n_elements) ||
          n_elements > static_cast<uint64_t>(INT64_MAX))
        return Error::input(path_ + ": " + field + ": element count (product of dims) overflows int64 (dims[" +
                            std::to_string(d) + "] = " + std::to_string(t.dims[d]) + ")");
    }
    t.n_elements = n_elements;
    uint32_t type_id = 0;
    if (!p.read(type_id, field + " type")) return p.error();
    const std::optional<DTypeTraits> tr = dtype_traits(type_id);
    if (!tr) return Error::input(path_ + ": " + field + ": unknown ggml type id (" + std::to_string(type_id) + ")");
    t.type = tr->type;
    if (t.dims[0] % tr->block_elems != 0)
      return Error::input(path_ + ": " + field + ": row length dims[0] is not a multiple of the " +
                          std::string(tr->name) + " block size " + std::to_string(tr->block_elems) + " (" +
                          std::to_string(t.dims[0]) + ")");
    // n_bytes = (elements / block_elems) * block_bytes; exact because dims[0] is a multiple of block_elems.
    if (__builtin_mul_overflow(n_elements / tr->block_elems, static_cast<uint64_t>(tr->block_bytes), &t.n_bytes))
      return Error::input(path_ + ": " + field + ": data size overflows 64 bits (" + std::to_string(n_elements) +
                          " elements)");
    if (!p.read(t.offset, field + " offset")) return p.error();
    if (t.offset % alignment_ != 0)
      return Error::input(path_ + ": " + field + ": offset is not a multiple of the alignment " +
                          std::to_string(alignment_) + " (" + std::to_string(t.offset) + ")");
    tensor_index_.emplace(t.name, tensors_.size());
    tensors_.push_back(std::move(t));
  }

  // Data section: header end rounded up to the alignment (a power of two, so the mask works).
  uint64_t end_of_header = p.pos();
  if (__builtin_add_overflow(end_of_header, alignment_ - 1, &data_offset_))
    return Error::input(path_ + ": general.alignment: data offset overflows (" + std::to_string(alignment_) + ")");
  data_offset_ &= ~(alignment_ - 1);

  for (TensorInfo& t : tensors_) {
    const std::string field = path_ + ": tensor " + quote(t.name) + ": ";
    const std::string eof = " past end of file (" + std::to_string(size_) + " bytes)";
    uint64_t start = 0, end = 0;
    if (__builtin_add_overflow(data_offset_, t.offset, &start))
      return Error::input(field + "offset " + std::to_string(t.offset) + eof);
    if (__builtin_add_overflow(start, t.n_bytes, &end))
      return Error::input(field + "data [" + std::to_string(start) + ", +" + std::to_string(t.n_bytes) + ")" + eof);
    if (end > size_)
      return Error::input(field + "data [" + std::to_string(start) + ", " + std::to_string(end) + ")" + eof);
    t.data = base + start;
  }
  return ok_status();
}

const Value* File::find(std::string_view key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

const TensorInfo* File::tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

uint64_t TensorInfo::rows() const {
  uint64_t r = 1;
  for (size_t d = 1; d < dims.size(); ++d) r *= dims[d];  // cannot overflow: the reader checked the product
  return r;
}

}  // namespace ts::gguf
