// Raw tensor data shared by the PyTorch and safetensors readers (internal): element
// types, half/bfloat16 decoding, and a bounds-checked strided gather into fp32.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "yamiro/model.hpp"

namespace yamiro {

enum class DType { F32, F16, BF16, F64, I64, I32, I16, I8, U8, Bool };

// Bytes per element.
std::size_t dtype_size(DType dtype) noexcept;

// "F32", "F16", ... (safetensors spelling).
const char* dtype_name(DType dtype) noexcept;

// IEEE half / bfloat16 bits to float (subnormals, infinities and NaN included).
float half_to_float(std::uint16_t bits) noexcept;
float bfloat16_to_float(std::uint16_t bits) noexcept;

// Copies the view (offset, shape, stride; all in elements) of a storage of
// `storage_bytes` little-endian bytes of `dtype` into a contiguous fp32 tensor.
// `what` names the tensor ("file: key") in errors. Throws Error(Model) for negative
// or mismatched sizes/strides, an element index outside the storage, or a view with
// more elements than its storage holds (expanded views would let a tiny file ask for
// unbounded memory). Thread-safe.
HostTensor gather_tensor(DType dtype, const unsigned char* storage, std::size_t storage_bytes,
                         std::int64_t offset, const std::vector<std::int64_t>& shape,
                         const std::vector<std::int64_t>& stride, const std::string& what);

// The whole file at `path`. Throws Error(Model) when it cannot be read or is larger
// than `max_bytes`.
std::vector<unsigned char> read_model_file(const std::string& path, std::uint64_t max_bytes);

// The Model for weights read from `path`: names made basicsr (to_basicsr_names), the
// architecture detected. Throws Error(Model), prefixed with `path`, when the layout
// is not a known one.
Model model_from_weights(const std::string& path, const std::string& format, StateDict weights);

// Row-major strides for `shape`.
std::vector<std::int64_t> contiguous_strides(const std::vector<std::int64_t>& shape);

}  // namespace yamiro
