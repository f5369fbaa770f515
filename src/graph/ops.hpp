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
//                     reciprocal|tanh|log10|round|trunc|sign|expm1|sinh|asinh|cosh|acosh|atanh|log1p)
//   Binary         fn(add|sub|mul|div|max|min|pow|atan2|fmod|logaddexp|floor_div|remainder)
//                  reverse(0|1); two inputs (numpy broadcast) or one input and `scalar`;
//                  floor_div = floor(a/b), remainder = C remainder (quotient rounded to even)
//   Sum(coeffs?) Prod Max   n-ary, equal shapes
//   Affine         weight scale [K], bias [K]? on axis 1
//   Concat(axis)  Slice(axes starts ends max_lengths?; negative = from the end, kSliceEnd)
//   CropLike(axes offsets): input 0 cut to input 1's size on `axes`
//   Resize         mode(nearest|bilinear|bicubic) align_corners; scales[h,w] (out = floor(in*s)) or sizes[h,w]
//   PixelShuffle   factor mode(crd|dcr)
//   Pad            pads[t,l,b,r] mode(constant|replicate|reflect) value channel_pads[front,behind]
//   Reshape(shape: dims after the batch, 0 = same index, -1 = inferred), or with a second input:
//                  that value is the whole shape (ONNX: 0 copies the input's dim, -1 is inferred)
//   Transpose(perm, with the batch) Flatten(axis=1) Softmax(axis; coerce=1: ONNX < 13, flattened from axis)
// Ops from the ONNX frontend (graph/ops/tensor.cpp, graph/ops/math.cpp):
//   Constant       weight value (any shape; fp32), ints (exact int64 values, when integral)
//   ShapeOf(start,end) Gather(axis) Unsqueeze(axes) Squeeze(axes) Cast(to: float|int|bool)
//   Range(start,limit,delta values) ConstantOfShape(value; shape from input 0's value)
//   Where(cond,a,b) Expand(shape value) Tile(repeats value) Split(axis, split?: one output each)
//   MatMul (numpy matmul) Reduce(fn mean|sum|l2|max|min|prod, axes, keepdims)
//   LayerNorm(axis, epsilon; weight scale?, bias?) InstanceNorm(epsilon; weight scale, bias)
//   SpaceToDepth(factor) GridSample(mode bilinear|nearest|bicubic, padding zeros|border|reflection,
//   align_corners) Einsum(equation)
// Values: a blob of at most kMaxFoldValues values that follows from the input's shape
// alone (shape arithmetic: ShapeOf -> Gather -> Concat -> Reshape) is computed during shape
// inference ("folded"); ops whose output shape depends on such a value (Reshape's shape,
// Expand, Tile, Range, dynamic Slice and Resize) read it there, and the executor takes the
// folded blobs from a per-input-shape cache instead of running their nodes.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "graph/ir.hpp"

namespace yamiro::graph {

// A folded blob's values (row-major, as doubles: exact for integers up to 2^53); per
// input, nullptr where an input's values are not known.
using Value = std::vector<double>;
using Values = std::vector<const Value*>;
inline constexpr std::int64_t kMaxFoldValues = 4096;

struct OpSpec {
  const char* name;
  int min_inputs;
  int max_inputs;  // -1 = any number
  // Output shapes from the input shapes. Throws Error(Model) (graph::fail) when the inputs
  // do not fit the op (wrong rank, sizes that do not match, an empty result).
  std::vector<Shape> (*infer)(const Graph&, const Node&, const std::vector<Shape>& in);
  // Floating-point operations of one forward with these shapes (a multiply-add is 2).
  double (*flops)(const Node&, const std::vector<Shape>& in, const std::vector<Shape>& out);
  // Ops whose output shapes depend on input values: used instead of `infer` (which may be
  // null then). Throws Error(Model) when a value it needs is not known from the shapes.
  std::vector<Shape> (*infer_values)(const Graph&, const Node&, const std::vector<Shape>& in, const Values& v) = nullptr;
  // The single output's values from the inputs' values (and shapes), or empty when they do
  // not follow (an input not known). Only called for outputs of <= kMaxFoldValues values.
  Value (*fold)(const Graph&, const Node&, const std::vector<Shape>& in, const Values& v, const Shape& out) = nullptr;
};

// The spec of an IR op, or nullptr. Thread-safe.
const OpSpec* find_op(const std::string& op);
std::vector<std::string> op_names();

// Shapes of every blob for these input shapes (one per graph input). Throws Error(Model)
// naming the file and node whose shape cannot be inferred. Thread-safe.
std::map<std::string, Shape> infer_shapes(const Graph& g, const std::vector<Shape>& inputs);

// Shapes and the folded values (see above) of every blob. Throws like infer_shapes.
struct Inferred {
  std::map<std::string, Shape> shapes;
  std::map<std::string, Value> values;
};
Inferred infer(const Graph& g, const std::vector<Shape>& inputs);
// True when a graph has nodes whose outputs fold (Constant, ShapeOf): the executor then
// keeps a per-input-shape cache of folded blobs.
bool has_folding(const Graph& g);

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
  bool global_reduction = false;  // a GlobalPool (SE blocks), InstanceNorm, align_corners/roi Resize: output depends on the whole input
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
std::vector<OpSpec> tensor_ops();
std::vector<OpSpec> math_ops();
}  // namespace ops

// Helpers shared by the op files.
std::int64_t numel(const Shape& s);
std::string shape_text(const Shape& s);
// ONNX SAME padding for one axis: {before, after}.
// A value read as integers (clamped to +-9.2e18) or Error(Model) naming the node when absent.
std::vector<std::int64_t> value_ints(const Graph& g, const Node& n, const Values& v, std::size_t k, const char* what);
// The index into an input of shape `in` that a numpy broadcast reads for output index k.
std::int64_t broadcast_index(const Shape& in, const Shape& out, std::int64_t k);
// An axis in [-rank, rank) made non-negative, or Error(Model).
std::int64_t norm_axis(const Graph& g, const Node& n, std::int64_t axis, std::size_t rank);
std::pair<std::int64_t, std::int64_t> same_pads(std::int64_t in, std::int64_t extent, std::int64_t stride, bool upper);

}  // namespace yamiro::graph
