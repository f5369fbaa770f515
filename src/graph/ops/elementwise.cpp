// Shapes and FLOPs of the element-wise ops: activations, Unary, Binary (numpy
// broadcasting), the n-ary Sum/Prod/Max, Affine, PRelu and Softmax.
#include <algorithm>
#include <cmath>

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
  norm_axis(g, n, n.i("axis"), in[0].size());
  return {in[0]};
}

// Values of a broadcast binary op (the same rule as `binary`).
double binary_value(const Graph& g, const Node& n, const std::string& fn, double a, double b, bool ints) {
  if (fn == "add") return a + b;
  if (fn == "sub") return a - b;
  if (fn == "mul") return a * b;
  if (fn == "div") {
    if (b == 0) fail(g, &n, "folds a division by zero");
    return ints ? std::trunc(a / b) : a / b;
  }
  if (fn == "max") return std::max(a, b);
  if (fn == "min") return std::min(a, b);
  if (fn == "pow") return std::pow(a, b);
  if (fn == "fmod") return std::fmod(a, b);
  if (fn == "atan2") return std::atan2(a, b);
  if (fn == "logaddexp") return std::max(a, b) + std::log1p(std::exp(std::min(a, b) - std::max(a, b)));
  if (fn == "floor_div") return std::floor(a / b);
  if (fn == "remainder") return std::remainder(a, b);
  if (fn == "eq") return a == b;
  if (fn == "lt") return a < b;
  if (fn == "gt") return a > b;
  if (fn == "le") return a <= b;
  if (fn == "ge") return a >= b;
  if (fn == "and") return a != 0 && b != 0;
  if (fn == "or") return a != 0 || b != 0;
  fail(g, &n, "unknown function '" + fn + "'");
}

Value binary_fold(const Graph& g, const Node& n, const std::vector<Shape>& in, const Values& v, const Shape& out) {
  if (!v[0] || (in.size() == 2 && !v[1])) return {};
  const std::string fn = n.s("fn", "");
  const Value scalar{n.f("scalar", 0)};
  const Value& b = in.size() == 2 ? *v[1] : scalar;
  const Shape bs = in.size() == 2 ? in[1] : Shape{};
  // Integer division truncates (ONNX Div on int64 shapes): the frontend marks the node.
  const bool ints = n.s("dtype", "float") == "int";
  Value r(static_cast<std::size_t>(numel(out)));
  for (std::int64_t k = 0; k < numel(out); ++k) {
    double x = (*v[0])[broadcast_index(in[0], out, k)], y = b[broadcast_index(bs, out, k)];
    if (n.i("reverse", 0)) std::swap(x, y);
    r[k] = binary_value(g, n, fn, x, y, ints);
  }
  return r;
}

Value unary_fold(const Graph& g, const Node& n, const std::vector<Shape>&, const Values& v, const Shape&) {
  if (!v[0]) return {};
  const std::string fn = n.s("fn", "");
  Value r = *v[0];
  for (double& x : r) {
    if (fn == "abs") x = std::abs(x);
    else if (fn == "neg") x = -x;
    else if (fn == "floor") x = std::floor(x);
    else if (fn == "ceil") x = std::ceil(x);
    else if (fn == "sqrt") x = std::sqrt(x);
    else if (fn == "round") x = std::nearbyint(x);
    else if (fn == "trunc") x = std::trunc(x);
    else if (fn == "not") x = x == 0;
    else if (fn == "reciprocal") x = 1 / x;
    else if (fn == "exp") x = std::exp(x);
    else if (fn == "log") x = std::log(x);
    else return {};  // not shape arithmetic: left to the kernel
  }
  (void)g;
  return r;
}

double per_value(const Node&, const std::vector<Shape>&, const std::vector<Shape>& out) {
  return static_cast<double>(numel(out[0]));
}
double per_input_value(const Node&, const std::vector<Shape>& in, const std::vector<Shape>& out) {
  return static_cast<double>(numel(out[0])) * static_cast<double>(std::max<std::size_t>(1, in.size() - 1));
}
double none(const Node&, const std::vector<Shape>&, const std::vector<Shape>&) { return 0; }
Value pass_value(const Graph&, const Node&, const std::vector<Shape>&, const Values& v, const Shape&) { return v[0] ? *v[0] : Value{}; }

}  // namespace

std::vector<OpSpec> elementwise_ops() {
  return {
      {"Relu", 1, 1, &same, &per_value},        {"Clip", 1, 1, &same, &per_value},
      {"Sigmoid", 1, 1, &same, &per_value},     {"Tanh", 1, 1, &same, &per_value},
      {"Mish", 1, 1, &same, &per_value},        {"Swish", 1, 1, &same, &per_value},
      {"HardSigmoid", 1, 1, &same, &per_value}, {"HardSwish", 1, 1, &same, &per_value},
      {"Identity", 1, 1, &same, &none, nullptr, &pass_value},
      {"Unary", 1, 1, &same, &per_value, nullptr, &unary_fold},
      {"PRelu", 1, 1, &prelu, &per_value},      {"Affine", 1, 1, &affine, &per_value},
      {"Binary", 1, 2, &binary, &per_value, nullptr, &binary_fold},    {"Sum", 1, -1, &nary, &per_input_value},
      {"Prod", 1, -1, &nary, &per_input_value}, {"Max", 1, -1, &nary, &per_input_value},
      {"Softmax", 1, 1, &softmax, &per_value},
  };
}

}  // namespace yamiro::graph::ops
