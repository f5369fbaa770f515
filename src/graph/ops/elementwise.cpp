// Shapes and FLOPs of the element-wise ops: activations, Unary, Binary (numpy
// broadcasting), the n-ary Sum/Prod/Max, Affine, PRelu and Softmax.
#include <algorithm>

#include "graph/ops.hpp"
#include "yamiro/error.hpp"

namespace yamiro::graph::ops {
namespace {

std::vector<Shape> same(const Graph&, const Node&, const std::vector<Shape>& in) { return {in[0]}; }

std::vector<Shape> nary(const Graph& g, const Node& n, const std::vector<Shape>& in) {
  for (const auto& s : in)
    if (s != in[0]) fail(g, &n, "inputs " + shape_text(in[0]) + " and " + shape_text(s) + " differ");
  if (n.op == "Sum") {
    const auto coeffs = n.floats("coeffs", {});
    if (!coeffs.empty() && coeffs.size() != in.size()) fail(g, &n, "needs one coefficient per input");
  }
  return {in[0]};
}

std::vector<Shape> binary(const Graph& g, const Node& n, const std::vector<Shape>& in) {
  if (in.size() == 1) {
    if (n.attrs.count("scalar") == 0) fail(g, &n, "has one input and no scalar");
    return {in[0]};
  }
  const Shape &a = in[0], &b = in[1];
  Shape out(std::max(a.size(), b.size()));
  for (std::size_t i = 0; i < out.size(); ++i) {
    const std::int64_t da = i < out.size() - a.size() ? 1 : a[i - (out.size() - a.size())];
    const std::int64_t db = i < out.size() - b.size() ? 1 : b[i - (out.size() - b.size())];
    if (da != db && da != 1 && db != 1) fail(g, &n, "cannot broadcast " + shape_text(a) + " with " + shape_text(b));
    out[i] = std::max(da, db);
  }
  return {out};
}

std::vector<Shape> affine(const Graph& g, const Node& n, const std::vector<Shape>& in) {
  const HostTensor& s = n.weight("scale");
  if (in[0].size() < 2 || s.numel() != in[0][1])
    fail(g, &n, std::to_string(s.numel()) + " scales for input " + shape_text(in[0]));
  if (n.has_weight("bias") && n.weight("bias").numel() != s.numel()) fail(g, &n, "bias and scale sizes differ");
  return {in[0]};
}

std::vector<Shape> prelu(const Graph& g, const Node& n, const std::vector<Shape>& in) {
  const std::int64_t k = n.weight("slope").numel();
  if (k != 1 && (in[0].size() < 2 || k != in[0][1])) fail(g, &n, std::to_string(k) + " slopes for input " + shape_text(in[0]));
  return {in[0]};
}

std::vector<Shape> softmax(const Graph& g, const Node& n, const std::vector<Shape>& in) {
  const std::int64_t axis = n.i("axis");
  if (axis < 1 || axis >= static_cast<std::int64_t>(in[0].size())) fail(g, &n, "axis out of range for " + shape_text(in[0]));
  return {in[0]};
}

double per_value(const Node&, const std::vector<Shape>&, const std::vector<Shape>& out) {
  return static_cast<double>(numel(out[0]));
}
double per_input_value(const Node&, const std::vector<Shape>& in, const std::vector<Shape>& out) {
  return static_cast<double>(numel(out[0])) * static_cast<double>(std::max<std::size_t>(1, in.size() - 1));
}
double none(const Node&, const std::vector<Shape>&, const std::vector<Shape>&) { return 0; }

}  // namespace

std::vector<OpSpec> elementwise_ops() {
  return {
      {"Relu", 1, 1, &same, &per_value},        {"Clip", 1, 1, &same, &per_value},
      {"Sigmoid", 1, 1, &same, &per_value},     {"Tanh", 1, 1, &same, &per_value},
      {"Mish", 1, 1, &same, &per_value},        {"Swish", 1, 1, &same, &per_value},
      {"HardSigmoid", 1, 1, &same, &per_value}, {"HardSwish", 1, 1, &same, &per_value},
      {"Identity", 1, 1, &same, &none},         {"Unary", 1, 1, &same, &per_value},
      {"PRelu", 1, 1, &prelu, &per_value},      {"Affine", 1, 1, &affine, &per_value},
      {"Binary", 1, 2, &binary, &per_value},    {"Sum", 1, -1, &nary, &per_input_value},
      {"Prod", 1, -1, &nary, &per_input_value}, {"Max", 1, -1, &nary, &per_input_value},
      {"Softmax", 1, 1, &softmax, &per_value},
  };
}

}  // namespace yamiro::graph::ops
