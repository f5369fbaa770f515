#include "models/tensor_data.hpp"

#include <cstring>
#include <filesystem>
#include <fstream>

#include "yamiro/error.hpp"

namespace yamiro {
namespace {

constexpr std::size_t kMaxDims = 8;

[[noreturn]] void fail(const std::string& what, const std::string& why) { throw Error(ErrorKind::Model, what + ": " + why); }

std::uint64_t load_le(const unsigned char* p, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  return v;
}

float decode(DType dtype, const unsigned char* p) {
  switch (dtype) {
    case DType::F32: {
      const auto bits = static_cast<std::uint32_t>(load_le(p, 4));
      float f;
      std::memcpy(&f, &bits, 4);
      return f;
    }
    case DType::F64: {
      const std::uint64_t bits = load_le(p, 8);
      double d;
      std::memcpy(&d, &bits, 8);
      return static_cast<float>(d);
    }
    case DType::F16: return half_to_float(static_cast<std::uint16_t>(load_le(p, 2)));
    case DType::BF16: return bfloat16_to_float(static_cast<std::uint16_t>(load_le(p, 2)));
    case DType::I64: return static_cast<float>(static_cast<std::int64_t>(load_le(p, 8)));
    case DType::I32: return static_cast<float>(static_cast<std::int32_t>(load_le(p, 4)));
    case DType::I16: return static_cast<float>(static_cast<std::int16_t>(load_le(p, 2)));
    case DType::I8: return static_cast<float>(static_cast<std::int8_t>(p[0]));
    case DType::U8: return static_cast<float>(p[0]);
    case DType::Bool: return p[0] ? 1.0f : 0.0f;
  }
  return 0.0f;
}

bool little_endian_host() {
  const std::uint32_t one = 1;
  unsigned char first;
  std::memcpy(&first, &one, 1);
  return first == 1;
}

}  // namespace

std::size_t dtype_size(DType dtype) noexcept {
  switch (dtype) {
    case DType::F64: case DType::I64: return 8;
    case DType::F32: case DType::I32: return 4;
    case DType::F16: case DType::BF16: case DType::I16: return 2;
    case DType::I8: case DType::U8: case DType::Bool: return 1;
  }
  return 1;
}

const char* dtype_name(DType dtype) noexcept {
  switch (dtype) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    case DType::F64: return "F64";
    case DType::I64: return "I64";
    case DType::I32: return "I32";
    case DType::I16: return "I16";
    case DType::I8: return "I8";
    case DType::U8: return "U8";
    case DType::Bool: return "BOOL";
  }
  return "?";
}

float half_to_float(std::uint16_t h) noexcept {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000) << 16;
  std::uint32_t exp = (h >> 10) & 0x1F, mant = h & 0x3FF, bits;
  if (exp == 0x1F) {
    bits = sign | 0x7F800000u | (mant << 13);  // inf / NaN
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign;
  } else {  // subnormal: normalise
    exp = 113;
    while (!(mant & 0x400)) { mant <<= 1; --exp; }
    bits = sign | (exp << 23) | ((mant & 0x3FF) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

float bfloat16_to_float(std::uint16_t b) noexcept {
  const std::uint32_t bits = static_cast<std::uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

std::vector<unsigned char> read_model_file(const std::string& path, std::uint64_t max_bytes) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) fail(path, "cannot open the model file");
  const std::streamoff size = f.tellg();
  if (size < 0) fail(path, "cannot read the model file");
  if (static_cast<std::uint64_t>(size) > max_bytes)
    fail(path, "model file larger than " + std::to_string(max_bytes >> 20) + " MiB");
  std::vector<unsigned char> bytes(static_cast<std::size_t>(size));
  f.seekg(0);
  if (!f.read(reinterpret_cast<char*>(bytes.data()), size)) fail(path, "cannot read the model file");
  return bytes;
}

Model model_from_weights(const std::string& path, const std::string& format, StateDict weights) {
  Model m;
  m.path = path;
  m.name = std::filesystem::path(path).stem().string();
  m.format = format;
  try {
    m.weights = to_basicsr_names(std::move(weights));
    m.info = detect_architecture(m.weights);
  } catch (const Error& e) {
    fail(path, e.what());
  }
  return m;
}

std::vector<std::int64_t> contiguous_strides(const std::vector<std::int64_t>& shape) {
  std::vector<std::int64_t> stride(shape.size(), 1);
  for (std::size_t i = shape.size(); i-- > 1;) stride[i - 1] = stride[i] * shape[i];
  return stride;
}

HostTensor gather_tensor(DType dtype, const unsigned char* storage, std::size_t storage_bytes, std::int64_t offset,
                         const std::vector<std::int64_t>& shape, const std::vector<std::int64_t>& stride,
                         const std::string& what) {
  const std::size_t esize = dtype_size(dtype);
  const auto capacity = static_cast<std::int64_t>(storage_bytes / esize);
  if (shape.size() != stride.size()) fail(what, "tensor has " + std::to_string(shape.size()) + " sizes but " +
                                                    std::to_string(stride.size()) + " strides");
  if (shape.size() > kMaxDims) fail(what, "tensor has more than " + std::to_string(kMaxDims) + " dimensions");
  if (offset < 0) fail(what, "negative storage offset");
  // numel and the highest element index, both bounded by the storage's capacity so
  // nothing below can overflow.
  std::int64_t numel = 1, last = offset;
  bool empty = false;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] < 0 || stride[d] < 0) fail(what, "negative tensor size or stride");
    if (shape[d] == 0) empty = true;
  }
  if (!empty) {
    for (std::size_t d = 0; d < shape.size(); ++d) {
      if (numel > capacity / shape[d]) fail(what, "tensor is larger than its storage");
      numel *= shape[d];
      if (shape[d] > 1 && stride[d] > (capacity - last) / (shape[d] - 1))
        fail(what, "tensor reaches past the end of its storage");
      last += (shape[d] - 1) * stride[d];
    }
    if (last >= capacity) fail(what, "tensor reaches past the end of its storage (offset " + std::to_string(offset) +
                                         ", storage of " + std::to_string(capacity) + " elements)");
  } else {
    numel = 0;
  }
  HostTensor out;
  out.shape = shape;
  out.values.resize(static_cast<std::size_t>(numel));
  if (numel == 0) return out;
  const unsigned char* base = storage + static_cast<std::size_t>(offset) * esize;
  if (stride == contiguous_strides(shape)) {
    if (dtype == DType::F32 && little_endian_host()) {  // the common case: one copy
      std::memcpy(out.values.data(), base, static_cast<std::size_t>(numel) * 4);
    } else {
      for (std::size_t i = 0; i < out.values.size(); ++i) out.values[i] = decode(dtype, base + i * esize);
    }
    return out;
  }
  std::vector<std::int64_t> index(shape.size(), 0);
  std::int64_t at = offset;
  for (std::int64_t i = 0; i < numel; ++i) {
    out.values[static_cast<std::size_t>(i)] = decode(dtype, storage + static_cast<std::size_t>(at) * esize);
    for (std::size_t d = shape.size(); d-- > 0;) {  // odometer over the dimensions
      at += stride[d];
      if (++index[d] < shape[d]) break;
      at -= stride[d] * shape[d];
      index[d] = 0;
    }
  }
  return out;
}

}  // namespace yamiro
