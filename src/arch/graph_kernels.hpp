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
std::vector<KernelEntry> layout_kernels();       // Concat Slice CropLike Pad Reshape Transpose Flatten Resize PixelShuffle
}  // namespace kernels

// The kernel of an IR op, or nullptr. Thread-safe.
Kernel find_kernel(const std::string& op);

}  // namespace yamiro::graph
