// The op registry, run side (internal, LibTorch): one ATen kernel per IR op, in groups
// under graph/kernels/. Only yamiro_torch translation units include this.
#pragma once
#include <ATen/ATen.h>

#include <map>
#include <string>
#include <vector>

#include "graph/ir.hpp"

namespace yamiro::graph {

// A node's weights on the device, in the run's dtype, by the IR's weight names.
using DeviceWeights = std::map<std::string, at::Tensor>;

// Runs one node. Inputs have the shapes infer_shapes gives; the result has one tensor
// per node output. Throws Error(Model) for attribute values the kernel cannot run, and
// whatever ATen throws (the executor adds the node's name).
using Kernel = std::vector<at::Tensor> (*)(const Node&, const std::vector<at::Tensor>& in, const DeviceWeights& w);

struct KernelEntry {
  const char* op;
  Kernel run;
};

namespace kernels {
std::vector<KernelEntry> conv_kernels();         // Conv ConvTranspose Dense Pool GlobalPool
std::vector<KernelEntry> elementwise_kernels();  // activations, Unary, Binary, Sum/Prod/Max, Affine, PRelu, Softmax
std::vector<KernelEntry> layout_kernels();       // Concat Slice CropLike Pad Reshape Transpose Flatten PixelShuffle
std::vector<KernelEntry> resize_kernels();       // Resize (ncnn Interp, ONNX Resize)
std::vector<KernelEntry> tensor_kernels();       // the ONNX frontend's ops (graph/ops/tensor.cpp, math.cpp)
}  // namespace kernels

// Folded blobs (graph/ops.hpp) reach kernels as CPU float64 tensors. as_data gives one
// the device and dtype of `like` (a no-op for data); host_ints reads one (or any tensor)
// as integers; data_like is the first input that is data (else the first).
at::Tensor as_data(const at::Tensor& t, const at::Tensor& like);
std::vector<std::int64_t> host_ints(const at::Tensor& t);
const at::Tensor& data_like(const std::vector<at::Tensor>& in);

namespace kernels {
// A ConvTranspose (groups 1, no dilation, equal strides s >= 2) as a convolution: its weight
// [I,O,kh,kw] rearranged into the [O*s*s, I, K, K] kernel (K = ceil(max(kh,kw)/s)) whose
// output, pixel-shuffled by s, is the transposed convolution's; ConvTranspose's kernel uses it
// when the node's weights carry it as "subpixel" (ATen's own transposed convolution is 5-10x
// slower on CPUs for these shapes). Returns an undefined tensor for other nodes.
at::Tensor subpixel_weight(const Node& n, const at::Tensor& weight);
}  // namespace kernels

// The kernel of an IR op, or nullptr. Thread-safe.
Kernel find_kernel(const std::string& op);

}  // namespace yamiro::graph
