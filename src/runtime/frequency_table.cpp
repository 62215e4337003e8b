// See frequency_table.h for the format.
#include "runtime/frequency_table.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace ts {

namespace {

constexpr char kMagic[8] = {'T', 'S', 'F', 'R', 'E', 'Q', '0', '1'};
constexpr uint64_t kHeaderBytes = 40;

void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t get_u64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

uint64_t FrequencyTable::total() const {
  uint64_t s = 0;
  for (uint64_t c : counts) s += c;
  return s;
}

uint64_t vocabulary_hash(const Tokenizer& tok) {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a 64 offset basis and prime
  auto mix = [&](unsigned char c) {
    h ^= c;
    h *= 0x100000001b3ULL;
  };
  for (int32_t id = 0; id < tok.vocab_size(); ++id) {
    for (unsigned char c : tok.token_text(id)) mix(c);
    mix(0);
  }
  return h;
}

Status write_frequency_table(const std::string& path, const FrequencyTable& t) {
  std::string out(kMagic, sizeof kMagic);
  put_u64(out, t.counts.size());
  put_u64(out, t.vocab_hash);
  put_u64(out, t.documents);
  put_u64(out, t.total());
  out.reserve(out.size() + 8 * t.counts.size());
  for (uint64_t c : t.counts) put_u64(out, c);
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) return Error::input(path + ": cannot create: " + std::strerror(errno));
  f.write(out.data(), static_cast<std::streamsize>(out.size()));
  f.close();
  if (!f) return Error::input(path + ": write error");
  return ok_status();
}

Expected<FrequencyTable> read_frequency_table(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Error::input(path + ": cannot open: " + std::strerror(errno));
  std::string data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (data.size() < kHeaderBytes || std::memcmp(data.data(), kMagic, sizeof kMagic) != 0)
    return Error::input(path + ": not a token frequency table (magic 'TSFREQ01' missing; made by `tokenscope freq`)");
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  FrequencyTable t;
  const uint64_t V = get_u64(p + 8);
  t.vocab_hash = get_u64(p + 16);
  t.documents = get_u64(p + 24);
  const uint64_t total = get_u64(p + 32);
  if (V > (data.size() - kHeaderBytes) / 8 || data.size() != kHeaderBytes + 8 * V)
    return Error::input(path + ": field 'vocab_size': value " + std::to_string(V) + " does not match the file size " +
                        std::to_string(data.size()));
  t.counts.resize(V);
  for (uint64_t i = 0; i < V; ++i) t.counts[i] = get_u64(p + kHeaderBytes + 8 * i);
  if (t.total() != total)
    return Error::input(path + ": field 'total': value " + std::to_string(total) + " but the counts sum to " +
                        std::to_string(t.total()));
  return t;
}

}  // namespace ts
