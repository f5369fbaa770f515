// The op registry, shape side (no LibTorch): one OpSpec per IR op, each op group in its
// own file under graph/ops/ (its ATen kernels are in graph/kernels/). The IR ops:
//   Conv           kernel[h,w] stride[h,w] dilation[h,w] pads[t,l,b,r] auto_pad(none|same_upper|same_lower)
//                  group pad_value; weight [O,I/g,kh,kw], bias [O]?
//   ConvTranspose  kernel stride dilation pads[t,l,b,r] (cut from the full output) output_padding[h,w]
//                  group; weight [I,O/g,kh,kw], bias [O]?
//   Pool           mode(max|avg) kernel stride pads[t,l,b,r] auto_pad(none|ceil|same_upper|same_lower)
//                  count_include_pad
//   GlobalPool     mode(max|avg) keepdims: [N,C,H,W] -> [N,C] (or [N,C,1,1])
//   Dense          weight [O,K], bias [O]?: [N,...] flattened to [N,K] -> [N,O]
//   Relu(alpha: leaky slope) Clip(min,max) Sigmoid Tanh Mish Swish HardSigmoid(alpha,beta)
//   HardSwish(alpha,beta: x*clamp(alpha*x+beta,0,1)) Identity PRelu(weight slope [C] on axis 1)
//   Unary          fn(abs|neg|floor|ceil|square|sqrt|rsqrt|exp|log|sin|cos|tan|asin|acos|atan|
//                     reciprocal|tanh|log10|round|trunc)
//   Binary         fn(add|sub|mul|div|max|min|pow|atan2|fmod) reverse(0|1); two inputs (numpy
//                  broadcast) or one input and `scalar`
//   Sum(coeffs?) Prod Max   n-ary, equal shapes
//   Affine         weight scale [K], bias [K]? on axis 1
//   Concat(axis)  Slice(axes starts ends max_lengths?; negative = from the end, kSliceEnd)
//   CropLike(axes offsets): input 0 cut to input 1's size on `axes`
//   Resize         mode(nearest|bilinear|bicubic) align_corners; scales[h,w] (out = floor(in*s)) or sizes[h,w]
//   PixelShuffle   factor mode(crd|dcr)
//   Pad            pads[t,l,b,r] mode(constant|replicate|reflect) value channel_pads[front,behind]
//   Reshape(shape: dims after the batch, 0 = same index, -1 = inferred) Transpose(perm, with the
//   batch) Flatten Softmax(axis)
#pragma once
#include <map>
#include <string>
#include <vector>

#include "graph/ir.hpp"

namespace yamiro::graph {

struct OpSpec {
  const char* name;
  int min_inputs;
  int max_inputs;  // -1 = any number
  // Output shapes from the input shapes. Throws Error(Model) (graph::fail) when the inputs
  // do not fit the op (wrong rank, sizes that do not match, an empty result).
  std::vector<Shape> (*infer)(const Graph&, const Node&, const std::vector<Shape>& in);
  // Floating-point operations of one forward with these shapes (a multiply-add is 2).
  double (*flops)(const Node&, const std::vector<Shape>& in, const std::vector<Shape>& out);
};

// The spec of an IR op, or nullptr. Thread-safe.
const OpSpec* find_op(const std::string& op);
std::vector<std::string> op_names();

// Shapes of every blob for these input shapes (one per graph input). Throws Error(Model)
// naming the file and node whose shape cannot be inferred. Thread-safe.
std::map<std::string, Shape> infer_shapes(const Graph& g, const std::vector<Shape>& inputs);

struct Cost {
  double flops = 0;        // all nodes
  double bytes = 0;        // fp32 bytes of every blob made + weights read once
  std::int64_t peak_blob_bytes = 0;  // the largest single blob
  std::int64_t peak_live_bytes = 0;  // the most fp32 bytes alive at once (blobs freed after their last reader)
};
// The cost of one forward of a [1,C,h,w] input. Throws like infer_shapes.
Cost cost(const Graph& g, int h, int w);

// What a shape probe learns about an image-to-image graph (inputs [1,C,n,n]):
// out = scale * (n - 2*shrink) for the sizes n with n % multiple == remainder.
struct Contract {
  int scale = 0;
  int shrink = 0;           // input pixels lost per side (valid convolutions)
  int multiple = 1;         // the input size must be remainder (mod multiple)
  int remainder = 0;
  int align = 1;             // the largest stride inside the graph (lcm): a shift of the input by a
                             // multiple of it shifts every feature map by whole positions
  bool global_reduction = false;  // a GlobalPool (SE blocks): output depends on the whole input
};
// Throws Error(Model) when no input grid gives an image output of a whole scale 1..16.
Contract probe(const Graph& g);

// The graph input side for an image side of `side` under a model's contract: the shrink
// on both sides, rounded up to the input multiple (the executor pads the same way).
int valid_input_side(const ArchInfo& info, int side);

// Per-group spec tables (graph/ops/*.cpp).
namespace ops {
std::vector<OpSpec> conv_ops();
std::vector<OpSpec> pool_ops();
std::vector<OpSpec> elementwise_ops();
std::vector<OpSpec> layout_ops();
std::vector<OpSpec> resample_ops();
}  // namespace ops

// Helpers shared by the op files.
std::int64_t numel(const Shape& s);
std::string shape_text(const Shape& s);
// ONNX SAME padding for one axis: {before, after}.
std::pair<std::int64_t, std::int64_t> same_pads(std::int64_t in, std::int64_t extent, std::int64_t stride, bool upper);

}  // namespace yamiro::graph
