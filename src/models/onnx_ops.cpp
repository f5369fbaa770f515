// One converter per ONNX op type: ONNX attributes and constant inputs to IR nodes, with
// ONNX's conventions (opset differences, defaults, layouts) resolved here.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "models/onnx_import.hpp"

namespace yamiro::onnx {
namespace {

using V = std::vector<std::int64_t>;
using graph::Node;  // the IR node; onnx::Node is the file's
using Src = onnx::Node;

const std::string& out0(const Src& n) { return n.outputs.at(0); }

// The IR name of an activation output, keeping the input's integer type.
Node& unary_op(const Src& n, Builder& b, const std::string& op) {
  Node& ir = b.add(n, op, {b.in(n, 0)}, {out0(n)});
  b.set_int(out0(n), b.is_int(n.inputs[0]));
  return ir;
}

void relu(const Src& n, Builder& b) { unary_op(n, b, "Relu"); }
void leaky_relu(const Src& n, Builder& b) { unary_op(n, b, "Relu").attrs["alpha"] = b.af(n, "alpha", 0.01); }
void sigmoid(const Src& n, Builder& b) { unary_op(n, b, "Sigmoid"); }
void tanh_(const Src& n, Builder& b) { unary_op(n, b, "Tanh"); }
void mish(const Src& n, Builder& b) { unary_op(n, b, "Mish"); }
void identity(const Src& n, Builder& b) { unary_op(n, b, "Identity"); }
void hard_sigmoid(const Src& n, Builder& b) {
  Node& ir = unary_op(n, b, "HardSigmoid");
  ir.attrs["alpha"] = b.af(n, "alpha", 0.2), ir.attrs["beta"] = b.af(n, "beta", 0.5);
}
void hard_swish(const Src& n, Builder& b) {
  Node& ir = unary_op(n, b, "HardSwish");
  ir.attrs["alpha"] = 1.0 / 6, ir.attrs["beta"] = 0.5;
}
void gelu(const Src& n, Builder& b) {
  Node& ir = unary_op(n, b, "Unary");
  ir.attrs["fn"] = std::string("gelu");
  ir.attrs["approximate"] = b.as(n, "approximate", "none");
}

void unary(const Src& n, Builder& b) {
  static const std::map<std::string, std::string> fns = {
      {"Sqrt", "sqrt"}, {"Neg", "neg"}, {"Abs", "abs"}, {"Exp", "exp"}, {"Log", "log"}, {"Erf", "erf"},
      {"Floor", "floor"}, {"Ceil", "ceil"}, {"Reciprocal", "reciprocal"}, {"Sin", "sin"}, {"Cos", "cos"},
      {"Tan", "tan"}, {"Atan", "atan"}, {"Round", "round"}, {"Softplus", "softplus"}, {"Not", "not"}, {"Sign", "sign"}};
  unary_op(n, b, "Unary").attrs["fn"] = fns.at(n.op_type);
  if (n.op_type == "Not") b.set_int(out0(n), true);
}

void binary(const Src& n, Builder& b) {
  static const std::map<std::string, std::string> fns = {
      {"Add", "add"}, {"Sub", "sub"}, {"Mul", "mul"}, {"Div", "div"}, {"Pow", "pow"}, {"Max", "max"}, {"Min", "min"},
      {"Equal", "eq"}, {"Less", "lt"}, {"Greater", "gt"}, {"LessOrEqual", "le"}, {"GreaterOrEqual", "ge"},
      {"And", "and"}, {"Or", "or"}, {"Sum", "add"}};
  const std::string fn = fns.at(n.op_type);
  if (n.inputs.empty()) b.fail(n, "has no input");
  const bool compare = fn == "eq" || fn == "lt" || fn == "gt" || fn == "le" || fn == "ge" || fn == "and" || fn == "or";
  const bool ints = b.is_int(n.inputs[0]);
  std::string acc = b.in(n, 0);
  if (n.inputs.size() == 1) {  // Max/Min/Sum of one input
    b.add(n, "Identity", {acc}, {out0(n)});
    b.set_int(out0(n), ints);
    return;
  }
  for (std::size_t k = 1; k < n.inputs.size(); ++k) {
    const std::string dst = k + 1 == n.inputs.size() ? out0(n) : b.temp(out0(n));
    // A rank-0 constant operand becomes the node's scalar (broadcasting is unchanged).
    const Tensor* c = b.constant(n, k);
    Node* ir;
    if (k == 1 && c && c->dims.empty() && !b.constant(n, 0)) {
      ir = &b.add(n, "Binary", {acc}, {dst});
      ir->attrs["scalar"] = c->is_float() ? static_cast<double>(c->floats.at(0)) : static_cast<double>(c->ints.at(0));
    } else {
      ir = &b.add(n, "Binary", {acc, b.in(n, k)}, {dst});
    }
    ir->attrs["fn"] = fn;
    if (ints && !compare) ir->attrs["dtype"] = std::string("int");
    b.set_int(dst, ints || compare);
    acc = dst;
  }
}

V pair_attr(const Src& n, Builder& b, const char* key, std::int64_t fallback) {
  const V v = b.aints(n, key, {fallback, fallback});
  if (v.size() != 2) b.fail(n, std::string("'") + key + "' has " + std::to_string(v.size()) + " values: only 2-D ops are supported");
  return v;
}

std::string auto_pad(const Src& n, Builder& b) {
  const std::string p = b.as(n, "auto_pad", "NOTSET");
  if (p == "NOTSET" || p == "VALID") return "none";
  if (p == "SAME_UPPER") return "same_upper";
  if (p == "SAME_LOWER") return "same_lower";
  b.fail(n, "unknown auto_pad '" + p + "'");
}

void conv(const Src& n, Builder& b) {
  const Tensor& w = b.need_constant(n, 1, "the weight");
  if (w.dims.size() != 4) b.fail(n, "weight of rank " + std::to_string(w.dims.size()) + ": only 2-D convolutions are supported");
  Node& ir = b.add(n, n.op_type, {b.in(n, 0)}, {out0(n)});
  ir.weights["weight"] = host_tensor(w);
  if (b.has(n, 2)) ir.weights["bias"] = host_tensor(b.need_constant(n, 2, "the bias"));
  ir.attrs["kernel"] = pair_attr(n, b, "kernel_shape", 0);
  if (std::get<V>(ir.attrs["kernel"])[0] == 0) ir.attrs["kernel"] = V{w.dims[2], w.dims[3]};
  ir.attrs["stride"] = pair_attr(n, b, "strides", 1);
  ir.attrs["dilation"] = pair_attr(n, b, "dilations", 1);
  ir.attrs["group"] = b.ai(n, "group", 1);
  const V pads = b.aints(n, "pads", {0, 0, 0, 0});
  if (pads.size() != 4) b.fail(n, "pads need 4 values");
  ir.attrs["pads"] = pads;  // ONNX [top, left, bottom, right] is the IR's order
  const std::string ap = auto_pad(n, b);
  if (n.op_type == "Conv") {
    ir.attrs["auto_pad"] = ap;
  } else {
    if (ap != "none") b.fail(n, "auto_pad SAME on a ConvTranspose is not supported");
    if (n.attr("output_shape")) b.fail(n, "output_shape is not supported (give pads and output_padding)");
    ir.attrs["output_padding"] = pair_attr(n, b, "output_padding", 0);
  }
}

void prelu(const Src& n, Builder& b) {
  const Tensor& s = b.need_constant(n, 1, "the slope");
  // [C], [C,1,1], [1,C,1,1] or one value: a slope per channel (axis 1).
  std::int64_t big = 0;
  for (auto d : s.dims)
    if (d != 1) ++big;
  if (big > 1 || (s.dims.size() == 4 && s.dims[0] != 1) || (s.dims.size() == 2 && s.numel() != 1))
    b.fail(n, "slope of shape other than one value per channel is not supported");
  Node& ir = b.add(n, "PRelu", {b.in(n, 0)}, {out0(n)});
  HostTensor h = host_tensor(s);
  h.shape = {s.numel()};
  ir.weights["slope"] = h;
}

void clip(const Src& n, Builder& b) {
  Node& ir = unary_op(n, b, "Clip");
  double lo = b.af(n, "min", -3.4e38), hi = b.af(n, "max", 3.4e38);
  if (b.has(n, 1)) lo = b.const_floats(n, 1, "min").at(0);
  if (b.has(n, 2)) hi = b.const_floats(n, 2, "max").at(0);
  ir.attrs["min"] = lo, ir.attrs["max"] = hi;
}

void matmul(const Src& n, Builder& b) { b.add(n, "MatMul", {b.in(n, 0), b.in(n, 1)}, {out0(n)}); }

void gemm(const Src& n, Builder& b) {
  if (b.ai(n, "transA", 0)) b.fail(n, "transA is not supported");
  const Tensor& w = b.need_constant(n, 1, "B");
  if (w.dims.size() != 2) b.fail(n, "B must be 2-D");
  const double alpha = b.af(n, "alpha", 1), beta = b.af(n, "beta", 1);
  HostTensor h = host_tensor(w);
  if (!b.ai(n, "transB", 0)) {  // Dense takes [O, K]
    HostTensor t;
    t.shape = {w.dims[1], w.dims[0]};
    t.values.resize(h.values.size());
    for (std::int64_t i = 0; i < w.dims[0]; ++i)
      for (std::int64_t j = 0; j < w.dims[1]; ++j) t.values[j * w.dims[0] + i] = h.values[i * w.dims[1] + j];
    h = std::move(t);
  }
  for (float& v : h.values) v = static_cast<float>(v * alpha);
  Node& ir = b.add(n, "Dense", {b.in(n, 0)}, {out0(n)});
  ir.weights["weight"] = h;
  if (b.has(n, 2)) {
    const Tensor& c = b.need_constant(n, 2, "C");
    if (c.numel() != h.shape[0]) b.fail(n, "C must be one value per output");
    HostTensor bias = host_tensor(c);
    bias.shape = {c.numel()};
    for (float& v : bias.values) v = static_cast<float>(v * beta);
    ir.weights["bias"] = bias;
  }
}

void softmax(const Src& n, Builder& b) {
  Node& ir = b.add(n, "Softmax", {b.in(n, 0)}, {out0(n)});
  ir.attrs["axis"] = b.ai(n, "axis", b.opset() < 13 ? 1 : -1);
  if (b.opset() < 13) ir.attrs["coerce"] = std::int64_t{1};
}

void concat(const Src& n, Builder& b) {
  std::vector<std::string> ins;
  for (std::size_t k = 0; k < n.inputs.size(); ++k)
    if (b.has(n, k)) ins.push_back(b.in(n, k));
  b.add(n, "Concat", ins, {out0(n)}).attrs["axis"] = b.ai(n, "axis", 0);
  b.set_int(out0(n), !n.inputs.empty() && b.is_int(n.inputs[0]));
}

void split(const Src& n, Builder& b) {
  Node& ir = b.add(n, "Split", {b.in(n, 0)}, n.outputs);
  ir.attrs["axis"] = b.ai(n, "axis", 0);
  V parts = b.aints(n, "split", {});
  if (b.has(n, 1)) parts = b.const_ints(n, 1, "split");
  if (!parts.empty()) ir.attrs["split"] = parts;
  for (const auto& o : n.outputs) b.set_int(o, b.is_int(n.inputs[0]));
}

void slice(const Src& n, Builder& b) {
  bool constant = true;
  for (std::size_t k = 1; k < 5; ++k) constant = constant && (!b.has(n, k) || b.constant(n, k));
  Node* ir;
  if (constant) {
    const V starts = b.const_ints(n, 1, "starts"), ends = b.const_ints(n, 2, "ends");
    V axes;
    if (b.has(n, 3)) axes = b.const_ints(n, 3, "axes");
    else for (std::size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<std::int64_t>(i));
    ir = &b.add(n, "Slice", {b.in(n, 0)}, {out0(n)});
    ir->attrs["starts"] = starts, ir->attrs["ends"] = ends, ir->attrs["axes"] = axes;
    if (b.has(n, 4)) ir->attrs["steps"] = b.const_ints(n, 4, "steps");
  } else {
    std::vector<std::string> ins{b.in(n, 0), b.in(n, 1), b.in(n, 2)};
    if (b.has(n, 3) || b.has(n, 4)) {
      if (!b.has(n, 3)) b.fail(n, "computed starts with steps but no axes are not supported");
      ins.push_back(b.in(n, 3));
    }
    if (b.has(n, 4)) ins.push_back(b.in(n, 4));
    ir = &b.add(n, "Slice", ins, {out0(n)});
  }
  b.set_int(out0(n), b.is_int(n.inputs[0]));
}

void gather(const Src& n, Builder& b) {
  b.add(n, "Gather", {b.in(n, 0), b.in(n, 1)}, {out0(n)}).attrs["axis"] = b.ai(n, "axis", 0);
  b.set_int(out0(n), b.is_int(n.inputs[0]));
}

void shape(const Src& n, Builder& b) {
  Node& ir = b.add(n, "ShapeOf", {b.in(n, 0)}, {out0(n)});
  if (n.attr("start")) ir.attrs["start"] = b.ai(n, "start", 0);
  if (n.attr("end")) ir.attrs["end"] = b.ai(n, "end", 0);
  b.set_int(out0(n), true);
}

void squeeze_like(const Src& n, Builder& b) {
  V axes = b.aints(n, "axes", {});
  if (b.has(n, 1)) axes = b.const_ints(n, 1, "axes");
  if (n.op_type == "Unsqueeze" && axes.empty()) b.fail(n, "has no axes");
  Node& ir = unary_op(n, b, n.op_type);
  if (!axes.empty()) ir.attrs["axes"] = axes;
}

void reshape(const Src& n, Builder& b) {
  b.add(n, "Reshape", {b.in(n, 0), b.in(n, 1)}, {out0(n)}).attrs["allowzero"] = b.ai(n, "allowzero", 0);
  b.set_int(out0(n), b.is_int(n.inputs[0]));
}

void flatten(const Src& n, Builder& b) { unary_op(n, b, "Flatten").attrs["axis"] = b.ai(n, "axis", 1); }

void transpose(const Src& n, Builder& b) {
  const V perm = b.aints(n, "perm", {});
  if (perm.empty()) b.fail(n, "a Transpose without perm (reversing all axes) is not supported");
  unary_op(n, b, "Transpose").attrs["perm"] = perm;
}

void expand_like(const Src& n, Builder& b) {
  b.add(n, n.op_type, {b.in(n, 0), b.in(n, 1)}, {out0(n)});
  b.set_int(out0(n), b.is_int(n.inputs[0]));
}

void constant_of_shape(const Src& n, Builder& b) {
  Node& ir = b.add(n, "ConstantOfShape", {b.in(n, 0)}, {out0(n)});
  double v = 0;
  bool ints = false;
  if (const Attribute* a = n.attr("value")) {
    if (a->t.numel() != 1) b.fail(n, "value must be one value");
    ints = !a->t.is_float();
    v = ints ? static_cast<double>(a->t.ints.at(0)) : a->t.floats.at(0);
  }
  ir.attrs["value"] = v;
  b.set_int(out0(n), ints);
}

void constant(const Src& n, Builder& b) {
  Tensor t;
  const Attribute *v = n.attr("value"), *vf = n.attr("value_float"), *vfs = n.attr("value_floats");
  const Attribute *vi = n.attr("value_int"), *vis = n.attr("value_ints");
  if (v) t = v->t;
  else if (vf) t.data_type = kFloat, t.floats = {vf->f};
  else if (vfs) t.data_type = kFloat, t.dims = {static_cast<std::int64_t>(vfs->floats.size())}, t.floats = vfs->floats;
  else if (vi) t.data_type = kInt64, t.ints = {vi->i};
  else if (vis) t.data_type = kInt64, t.dims = {static_cast<std::int64_t>(vis->ints.size())}, t.ints = vis->ints;
  else b.fail(n, "has no value (sparse or string constants are not supported)");
  t.name = out0(n);
  b.add_constant(out0(n), std::move(t));
}

void cast(const Src& n, Builder& b) {
  const std::int64_t to = b.ai(n, "to", kFloat);
  const std::string kind = is_float_type(static_cast<int>(to)) ? "float" : to == kBool ? "bool" : "int";
  if (to == kString) b.fail(n, "casts to string");
  Node& ir = b.add(n, "Cast", {b.in(n, 0)}, {out0(n)});
  ir.attrs["to"] = kind;
  b.set_int(out0(n), kind != "float");
}

void range(const Src& n, Builder& b) {
  b.add(n, "Range", {b.in(n, 0), b.in(n, 1), b.in(n, 2)}, {out0(n)});
  b.set_int(out0(n), b.is_int(n.inputs[0]));
}

void where(const Src& n, Builder& b) {
  b.add(n, "Where", {b.in(n, 0), b.in(n, 1), b.in(n, 2)}, {out0(n)});
  b.set_int(out0(n), b.is_int(n.inputs[1]));
}

void dropout(const Src& n, Builder& b) {
  if (n.outputs.size() > 1 && !n.outputs[1].empty()) b.fail(n, "its mask output is not supported");
  b.add(n, "Identity", {b.in(n, 0)}, {out0(n)});
}

void reduce(const Src& n, Builder& b) {
  static const std::map<std::string, std::string> fns = {
      {"ReduceMean", "mean"}, {"ReduceSum", "sum"}, {"ReduceL2", "l2"}, {"ReduceL1", "l1"}, {"ReduceMax", "max"},
      {"ReduceMin", "min"}, {"ReduceProd", "prod"}, {"ReduceSumSquare", "sumsquare"}, {"ReduceLogSumExp", "logsumexp"}};
  V axes = b.aints(n, "axes", {});
  if (b.has(n, 1)) axes = b.const_ints(n, 1, "axes");
  if (axes.empty() && b.ai(n, "noop_with_empty_axes", 0)) {
    identity(n, b);
    return;
  }
  Node& ir = unary_op(n, b, "Reduce");
  ir.attrs["fn"] = fns.at(n.op_type);
  if (!axes.empty()) ir.attrs["axes"] = axes;
  ir.attrs["keepdims"] = b.ai(n, "keepdims", 1);
}

void batch_norm(const Src& n, Builder& b) {
  if (b.ai(n, "training_mode", 0)) b.fail(n, "training mode is not supported");
  const auto g = b.const_floats(n, 1, "scale"), beta = b.const_floats(n, 2, "B");
  const auto mean = b.const_floats(n, 3, "mean"), var = b.const_floats(n, 4, "var");
  if (beta.size() != g.size() || mean.size() != g.size() || var.size() != g.size()) b.fail(n, "statistics of different sizes");
  const double eps = b.af(n, "epsilon", 1e-5);
  HostTensor scale, bias;
  scale.shape = bias.shape = {static_cast<std::int64_t>(g.size())};
  for (std::size_t c = 0; c < g.size(); ++c) {
    const double s = g[c] / std::sqrt(static_cast<double>(var[c]) + eps);
    scale.values.push_back(static_cast<float>(s));
    bias.values.push_back(static_cast<float>(beta[c] - mean[c] * s));
  }
  Node& ir = b.add(n, "Affine", {b.in(n, 0)}, {out0(n)});
  ir.weights["scale"] = scale, ir.weights["bias"] = bias;
}

void instance_norm(const Src& n, Builder& b) {
  Node& ir = b.add(n, "InstanceNorm", {b.in(n, 0)}, {out0(n)});
  ir.weights["scale"] = host_tensor(b.need_constant(n, 1, "scale"));
  ir.weights["bias"] = host_tensor(b.need_constant(n, 2, "B"));
  ir.weights["scale"].shape = {ir.weights["scale"].numel()};
  ir.weights["bias"].shape = {ir.weights["bias"].numel()};
  ir.attrs["epsilon"] = b.af(n, "epsilon", 1e-5);
}

void layer_norm(const Src& n, Builder& b) {
  for (std::size_t k = 1; k < n.outputs.size(); ++k)
    if (!n.outputs[k].empty()) b.fail(n, "its mean / inverse deviation outputs are not supported");
  Node& ir = b.add(n, "LayerNorm", {b.in(n, 0)}, {out0(n)});
  ir.weights["scale"] = host_tensor(b.need_constant(n, 1, "scale"));
  if (b.has(n, 2)) ir.weights["bias"] = host_tensor(b.need_constant(n, 2, "B"));
  ir.attrs["axis"] = b.ai(n, "axis", -1);
  ir.attrs["epsilon"] = b.af(n, "epsilon", 1e-5);
}

void global_pool(const Src& n, Builder& b) {
  Node& ir = b.add(n, "GlobalPool", {b.in(n, 0)}, {out0(n)});
  ir.attrs["mode"] = std::string(n.op_type == "GlobalMaxPool" ? "max" : "avg");
  ir.attrs["keepdims"] = std::int64_t{1};
}

void pool(const Src& n, Builder& b) {
  if (n.outputs.size() > 1 && !n.outputs[1].empty()) b.fail(n, "its indices output is not supported");
  if (b.aints(n, "dilations", {1, 1}) != V{1, 1}) b.fail(n, "dilated pooling is not supported");
  Node& ir = b.add(n, "Pool", {b.in(n, 0)}, {out0(n)});
  ir.attrs["mode"] = std::string(n.op_type == "MaxPool" ? "max" : "avg");
  ir.attrs["kernel"] = pair_attr(n, b, "kernel_shape", 1);
  ir.attrs["stride"] = pair_attr(n, b, "strides", 1);
  const V pads = b.aints(n, "pads", {0, 0, 0, 0});
  if (pads.size() != 4) b.fail(n, "pads need 4 values");
  ir.attrs["pads"] = pads;
  std::string ap = auto_pad(n, b);
  if (b.ai(n, "ceil_mode", 0)) {
    if (ap != "none") b.fail(n, "ceil_mode with auto_pad is not supported");
    ap = "ceil";
  }
  ir.attrs["auto_pad"] = ap;
  ir.attrs["count_include_pad"] = b.ai(n, "count_include_pad", 0);
}

void depth_to_space(const Src& n, Builder& b) {
  Node& ir = b.add(n, "PixelShuffle", {b.in(n, 0)}, {out0(n)});
  ir.attrs["factor"] = b.ai(n, "blocksize", 0);
  const std::string mode = b.as(n, "mode", "DCR");
  if (mode != "DCR" && mode != "CRD") b.fail(n, "unknown mode '" + mode + "'");
  ir.attrs["mode"] = std::string(mode == "CRD" ? "crd" : "dcr");
}

void space_to_depth(const Src& n, Builder& b) {
  b.add(n, "SpaceToDepth", {b.in(n, 0)}, {out0(n)}).attrs["factor"] = b.ai(n, "blocksize", 0);
}

void grid_sample(const Src& n, Builder& b) {
  Node& ir = b.add(n, "GridSample", {b.in(n, 0), b.in(n, 1)}, {out0(n)});
  const std::string mode = b.as(n, "mode", "bilinear");
  ir.attrs["mode"] = std::string(mode == "linear" ? "bilinear" : mode == "cubic" ? "bicubic" : mode);
  ir.attrs["padding"] = b.as(n, "padding_mode", "zeros");
  ir.attrs["align_corners"] = b.ai(n, "align_corners", 0);
}

void einsum(const Src& n, Builder& b) {
  std::vector<std::string> ins;
  for (std::size_t k = 0; k < n.inputs.size(); ++k) ins.push_back(b.in(n, k));
  b.add(n, "Einsum", ins, {out0(n)}).attrs["equation"] = b.as(n, "equation", "");
}

const std::map<std::string, Converter>& table() {
  static const std::map<std::string, Converter> t = {
      {"Conv", &conv}, {"ConvTranspose", &conv}, {"Relu", &relu}, {"LeakyRelu", &leaky_relu}, {"PRelu", &prelu},
      {"Sigmoid", &sigmoid}, {"Tanh", &tanh_}, {"HardSigmoid", &hard_sigmoid}, {"HardSwish", &hard_swish},
      {"Gelu", &gelu}, {"Mish", &mish}, {"Clip", &clip}, {"Identity", &identity}, {"Dropout", &dropout},
      {"Sqrt", &unary}, {"Neg", &unary}, {"Abs", &unary}, {"Exp", &unary}, {"Log", &unary}, {"Erf", &unary},
      {"Floor", &unary}, {"Ceil", &unary}, {"Reciprocal", &unary}, {"Sin", &unary}, {"Cos", &unary}, {"Tan", &unary},
      {"Atan", &unary}, {"Round", &unary}, {"Softplus", &unary}, {"Not", &unary}, {"Sign", &unary},
      {"Add", &binary}, {"Sub", &binary}, {"Mul", &binary}, {"Div", &binary}, {"Pow", &binary}, {"Max", &binary},
      {"Min", &binary}, {"Sum", &binary}, {"Equal", &binary}, {"Less", &binary}, {"Greater", &binary},
      {"LessOrEqual", &binary}, {"GreaterOrEqual", &binary}, {"And", &binary}, {"Or", &binary},
      {"MatMul", &matmul}, {"Gemm", &gemm}, {"Softmax", &softmax}, {"Concat", &concat}, {"Split", &split},
      {"Slice", &slice}, {"Gather", &gather}, {"Shape", &shape}, {"Unsqueeze", &squeeze_like},
      {"Squeeze", &squeeze_like}, {"Reshape", &reshape}, {"Flatten", &flatten}, {"Transpose", &transpose},
      {"Expand", &expand_like}, {"Tile", &expand_like}, {"ConstantOfShape", &constant_of_shape},
      {"Constant", &constant}, {"Cast", &cast}, {"Range", &range}, {"Where", &where},
      {"ReduceMean", &reduce}, {"ReduceSum", &reduce}, {"ReduceL2", &reduce}, {"ReduceL1", &reduce},
      {"ReduceMax", &reduce}, {"ReduceMin", &reduce}, {"ReduceProd", &reduce}, {"ReduceSumSquare", &reduce},
      {"ReduceLogSumExp", &reduce}, {"BatchNormalization", &batch_norm}, {"InstanceNormalization", &instance_norm},
      {"LayerNormalization", &layer_norm}, {"GlobalAveragePool", &global_pool}, {"GlobalMaxPool", &global_pool},
      {"MaxPool", &pool}, {"AveragePool", &pool}, {"Pad", &convert_pad}, {"Resize", &convert_resize},
      {"DepthToSpace", &depth_to_space}, {"SpaceToDepth", &space_to_depth}, {"GridSample", &grid_sample},
      {"Einsum", &einsum},
  };
  return t;
}

}  // namespace

Converter find_converter(const std::string& op) {
  const auto it = table().find(op);
  return it == table().end() ? nullptr : it->second;
}

std::vector<std::string> known_ops() {
  std::vector<std::string> out;
  for (const auto& [k, v] : table()) out.push_back(k);
  return out;
}

}  // namespace yamiro::onnx
