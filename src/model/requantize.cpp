// See requantize.h.
#include "model/requantize.h"

#include <vector>

#include "tensor/quant.h"

namespace ts {
namespace {

DType storage_for(DType want, uint64_t cols) {
  for (DType t : {want, DType::Q8_0, DType::F16})
    if (cols % traits(t).block_elems == 0) return t;
  return DType::F32;
}

}  // namespace

Expected<std::map<std::string, int>> requantize(const gguf::File& in, const RequantizeOptions& opt,
                                                const std::string& out_path, ThreadPool& pool) {
  if (out_path == in.path()) return Error::input("quantize: " + out_path + ": output would overwrite the input");
  gguf::Writer w;
  w.set_alignment(in.alignment());
  for (const auto& [k, v] : in.metadata()) {
    if (k == "general.alignment" || k == "general.file_type") continue;
    w.add(k, v);
  }
  w.add_u32("general.file_type", opt.file_type);
  std::map<std::string, int> counts;
  for (const gguf::TensorInfo& t : in.tensors()) {
    const bool matrix = t.dims.size() >= 2;
    const bool embedding = t.name == "output.weight" || t.name == "token_embd.weight";
    if (!matrix || (opt.keep_embeddings && embedding)) {
      w.add_tensor(t.name, t.type, t.dims, std::string(reinterpret_cast<const char*>(t.data), t.n_bytes));
      ++counts[std::string(dtype_name(t.type))];
      continue;
    }
    const int64_t cols = static_cast<int64_t>(t.dims[0]);
    const int64_t rows = static_cast<int64_t>(t.rows());
    const DType type = storage_for(opt.type, static_cast<uint64_t>(cols));
    const size_t in_rb = row_bytes(t.type, cols), out_rb = row_bytes(type, cols);
    std::string data(out_rb * static_cast<size_t>(rows), '\0');
    pool.parallel_for(rows, 16, [&](int64_t begin, int64_t end, int) {
      std::vector<float> row(static_cast<size_t>(cols));
      for (int64_t r = begin; r < end; ++r) {
        dequantize_row(t.type, t.data + static_cast<size_t>(r) * in_rb, row.data(), cols);
        quantize_row(type, row.data(), data.data() + static_cast<size_t>(r) * out_rb, cols);
      }
    });
    ++counts[std::string(dtype_name(type))];
    w.add_tensor(t.name, type, t.dims, std::move(data));
  }
  if (auto s = w.write(out_path); !s) return s.error();
  return counts;
}

}  // namespace ts
