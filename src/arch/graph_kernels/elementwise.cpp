// ATen kernels of the element-wise ops.
#include "arch/graph_kernels.hpp"
#include "yamiro/error.hpp"

namespace yamiro::graph::kernels {
namespace {

using Ins = std::vector<at::Tensor>;

[[noreturn]] void bad(const Node& n, const std::string& why) {
  throw Error(ErrorKind::Model, n.op + " '" + n.name + "': " + why);
}

// A per-channel vector [K] viewed to broadcast on axis 1 of `x`.
at::Tensor on_axis1(const at::Tensor& v, const at::Tensor& x) {
  std::vector<std::int64_t> shape(static_cast<std::size_t>(x.dim()), 1);
  shape[1] = v.numel();
  return v.view(shape);
}

Ins relu(const Node& n, const Ins& in, const DeviceWeights&) {
  const double a = n.f("alpha", 0);
  return {a == 0 ? at::relu(in[0]) : at::leaky_relu(in[0], a)};
}
Ins clip(const Node& n, const Ins& in, const DeviceWeights&) {
  return {at::clamp(in[0], n.f("min", -3.4e38), n.f("max", 3.4e38))};
}
Ins sigmoid(const Node&, const Ins& in, const DeviceWeights&) { return {at::sigmoid(in[0])}; }
Ins tanh_(const Node&, const Ins& in, const DeviceWeights&) { return {at::tanh(in[0])}; }
Ins mish(const Node&, const Ins& in, const DeviceWeights&) { return {in[0] * at::tanh(at::softplus(in[0]))}; }
Ins swish(const Node&, const Ins& in, const DeviceWeights&) { return {in[0] * at::sigmoid(in[0])}; }
Ins hard_sigmoid(const Node& n, const Ins& in, const DeviceWeights&) {
  return {at::clamp(in[0] * n.f("alpha", 0.2) + n.f("beta", 0.5), 0.0, 1.0)};
}
Ins hard_swish(const Node& n, const Ins& in, const DeviceWeights&) {
  return {in[0] * at::clamp(in[0] * n.f("alpha", 0.2) + n.f("beta", 0.5), 0.0, 1.0)};
}
Ins identity(const Node&, const Ins& in, const DeviceWeights&) { return {in[0]}; }
Ins prelu(const Node&, const Ins& in, const DeviceWeights& w) {
  const at::Tensor& s = w.at("slope");
  const at::Tensor slope = s.numel() == 1 ? s.reshape({}) : on_axis1(s, in[0]);
  return {at::where(in[0] > 0, in[0], in[0] * slope)};
}
Ins affine(const Node&, const Ins& in, const DeviceWeights& w) {
  at::Tensor y = in[0] * on_axis1(w.at("scale"), in[0]);
  const auto b = w.find("bias");
  if (b != w.end()) y = y + on_axis1(b->second, in[0]);
  return {y};
}

Ins unary(const Node& n, const Ins& in, const DeviceWeights&) {
  const std::string fn = n.s("fn", "");
  const at::Tensor& x = in[0];
  if (fn == "abs") return {at::abs(x)};
  if (fn == "neg") return {at::neg(x)};
  if (fn == "floor") return {at::floor(x)};
  if (fn == "ceil") return {at::ceil(x)};
  if (fn == "square") return {x * x};
  if (fn == "sqrt") return {at::sqrt(x)};
  if (fn == "rsqrt") return {at::rsqrt(x)};
  if (fn == "exp") return {at::exp(x)};
  if (fn == "log") return {at::log(x)};
  if (fn == "sin") return {at::sin(x)};
  if (fn == "cos") return {at::cos(x)};
  if (fn == "tan") return {at::tan(x)};
  if (fn == "asin") return {at::asin(x)};
  if (fn == "acos") return {at::acos(x)};
  if (fn == "atan") return {at::atan(x)};
  if (fn == "reciprocal") return {at::reciprocal(x)};
  if (fn == "tanh") return {at::tanh(x)};
  if (fn == "log10") return {at::log10(x)};
  if (fn == "round") return {at::round(x)};
  if (fn == "trunc") return {at::trunc(x)};
  if (fn == "erf") return {at::erf(x)};
  if (fn == "softplus") return {at::softplus(x)};
  if (fn == "gelu") return {at::gelu(x, n.s("approximate", "none"))};
  if (fn == "not") return {(x == 0).to(x.scalar_type())};
  if (fn == "sign") return {at::sign(x)};
  if (fn == "expm1") return {at::expm1(x)};
  if (fn == "sinh") return {at::sinh(x)};
  if (fn == "asinh") return {at::asinh(x)};
  if (fn == "cosh") return {at::cosh(x)};
  if (fn == "acosh") return {at::acosh(x)};
  if (fn == "atanh") return {at::atanh(x)};
  if (fn == "log1p") return {at::log1p(x)};
  bad(n, "unknown function '" + fn + "'");
}

at::Tensor apply(const Node& n, const std::string& fn, const at::Tensor& a, const at::Tensor& b) {
  if (fn == "add") return a + b;
  if (fn == "sub") return a - b;
  if (fn == "mul") return a * b;
  if (fn == "div") return n.s("dtype", "float") == "int" ? at::div(a, b, "trunc") : a / b;
  if (fn == "max") return at::maximum(a, b);
  if (fn == "min") return at::minimum(a, b);
  if (fn == "pow") return at::pow(a, b);
  if (fn == "atan2") return at::atan2(a, b);
  if (fn == "fmod") return at::fmod(a, b);
  if (fn == "logaddexp") return at::logaddexp(a, b);
  if (fn == "floor_div") return at::floor(a / b);  // as ncnn: floorf of the float quotient
  if (fn == "remainder") {
    // C's remainderf: a - n b with n = a / b rounded to nearest, ties to even (not Python's %).
    const at::Tensor ad = a.to(at::kDouble), bd = b.to(at::kDouble);
    return (ad - at::round(ad / bd) * bd).to(a.scalar_type());
  }
  if (fn == "eq") return (a == b).to(a.scalar_type());
  if (fn == "lt") return (a < b).to(a.scalar_type());
  if (fn == "gt") return (a > b).to(a.scalar_type());
  if (fn == "le") return (a <= b).to(a.scalar_type());
  if (fn == "ge") return (a >= b).to(a.scalar_type());
  if (fn == "and") return ((a != 0) & (b != 0)).to(a.scalar_type());
  if (fn == "or") return ((a != 0) | (b != 0)).to(a.scalar_type());
  bad(n, "unknown function '" + fn + "'");
}

Ins binary(const Node& n, const Ins& in, const DeviceWeights&) {
  const at::Tensor& like = data_like(in);
  const at::Tensor a = as_data(in[0], like);
  const at::Tensor b = in.size() == 2 ? as_data(in[1], like) : at::scalar_tensor(n.f("scalar", 0), a.options());
  const std::string fn = n.s("fn", "");
  return {n.i("reverse", 0) ? apply(n, fn, b, a) : apply(n, fn, a, b)};
}

Ins sum(const Node& n, const Ins& in, const DeviceWeights&) {
  const auto c = n.floats("coeffs", {});
  at::Tensor acc = c.empty() ? in[0] : in[0] * c[0];
  for (std::size_t k = 1; k < in.size(); ++k) acc = c.empty() ? acc + in[k] : acc + in[k] * c[k];
  return {acc};
}
Ins prod(const Node&, const Ins& in, const DeviceWeights&) {
  at::Tensor acc = in[0];
  for (std::size_t k = 1; k < in.size(); ++k) acc = acc * in[k];
  return {acc};
}
Ins max(const Node&, const Ins& in, const DeviceWeights&) {
  at::Tensor acc = in[0];
  for (std::size_t k = 1; k < in.size(); ++k) acc = at::maximum(acc, in[k]);
  return {acc};
}
Ins softmax(const Node& n, const Ins& in, const DeviceWeights&) {
  const at::Tensor& x = in[0];
  std::int64_t axis = n.i("axis");
  if (axis < 0) axis += x.dim();
  if (!n.i("coerce", 0) || axis == x.dim() - 1) return {at::softmax(x, axis)};
  // ONNX before opset 13: the input seen as 2-D [outer, inner] at `axis`.
  return {at::softmax(x.flatten(axis), axis).reshape(x.sizes())};
}

}  // namespace

std::vector<KernelEntry> elementwise_kernels() {
  return {{"Relu", &relu},       {"Clip", &clip},     {"Sigmoid", &sigmoid},         {"Tanh", &tanh_},
          {"Mish", &mish},       {"Swish", &swish},   {"HardSigmoid", &hard_sigmoid}, {"HardSwish", &hard_swish},
          {"Identity", &identity}, {"PRelu", &prelu}, {"Affine", &affine},           {"Unary", &unary},
          {"Binary", &binary},   {"Sum", &sum},       {"Prod", &prod},               {"Max", &max},
          {"Softmax", &softmax}};
}

}  // namespace yamiro::graph::kernels
