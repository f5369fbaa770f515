// ATen kernels of the ONNX frontend's ops (graph/ops/tensor.cpp, graph/ops/math.cpp). Folded
// blobs reach kernels as CPU float64 tensors (the executor's per-shape cache): kernels that
// read them as numbers use host_ints, kernels that mix them with data use as_data.
#include <algorithm>
#include <cmath>

#include "arch/graph_kernels.hpp"
#include "graph/ops.hpp"
#include "yamiro/error.hpp"

namespace yamiro::graph {

at::Tensor as_data(const at::Tensor& t, const at::Tensor& like) {
  if (t.device() == like.device() && t.scalar_type() == like.scalar_type()) return t;
  return t.to(like.options());
}

std::vector<std::int64_t> host_ints(const at::Tensor& t) {
  const at::Tensor c = t.to(at::kCPU, at::kDouble).contiguous();
  std::vector<std::int64_t> out;
  const double* p = c.data_ptr<double>();
  for (std::int64_t i = 0; i < c.numel(); ++i)
    out.push_back(p[i] >= 9.2e18 ? std::int64_t{9200000000000000000} : p[i] <= -9.2e18 ? -std::int64_t{9200000000000000000}
                                                                                        : static_cast<std::int64_t>(p[i]));
  return out;
}

const at::Tensor& data_like(const std::vector<at::Tensor>& in) {
  for (const auto& t : in)
    if (t.scalar_type() != at::kDouble || t.device().type() != at::kCPU) return t;
  return in.at(0);
}

namespace kernels {
namespace {

using Ins = std::vector<at::Tensor>;

[[noreturn]] void bad(const Node& n, const std::string& why) { throw Error(ErrorKind::Model, n.op + " '" + n.name + "': " + why); }

std::int64_t axis(const Node& n, std::int64_t a, std::int64_t rank) {
  if (a < -rank || a >= rank) bad(n, "axis " + std::to_string(a) + " out of range");
  return a < 0 ? a + rank : a;
}

at::TensorOptions host() { return at::TensorOptions().dtype(at::kDouble).device(at::kCPU); }

Ins constant(const Node&, const Ins&, const DeviceWeights& w) { return {w.at("value")}; }

Ins shape_of(const Node& n, const Ins& in, const DeviceWeights&) {
  const auto r = in[0].dim();
  auto clamp = [r](std::int64_t a) { return std::clamp<std::int64_t>(a < 0 ? a + r : a, 0, r); };
  const std::int64_t b = clamp(n.i("start", 0)), e = clamp(n.i("end", r));
  std::vector<double> v;
  for (std::int64_t d = b; d < e; ++d) v.push_back(static_cast<double>(in[0].size(d)));
  return {at::tensor(v, host())};
}

Ins gather(const Node& n, const Ins& in, const DeviceWeights&) {
  const at::Tensor& x = in[0];
  const std::int64_t a = axis(n, n.i("axis", 0), x.dim());
  at::Tensor idx = in[1].to(x.device(), at::kLong);
  idx = at::where(idx < 0, idx + x.size(a), idx);
  std::vector<std::int64_t> shape(x.sizes().begin(), x.sizes().begin() + a);
  for (auto d : in[1].sizes()) shape.push_back(d);
  for (std::int64_t d = a + 1; d < x.dim(); ++d) shape.push_back(x.size(d));
  return {x.index_select(a, idx.flatten()).reshape(shape)};
}

Ins unsqueeze(const Node& n, const Ins& in, const DeviceWeights&) {
  auto axes = n.ints("axes");
  const auto rank = in[0].dim() + static_cast<std::int64_t>(axes.size());
  for (auto& a : axes) a = axis(n, a, rank);
  std::sort(axes.begin(), axes.end());
  at::Tensor x = in[0];
  for (auto a : axes) x = x.unsqueeze(a);
  return {x};
}

Ins squeeze(const Node& n, const Ins& in, const DeviceWeights&) {
  auto axes = n.ints("axes", {});
  if (axes.empty()) return {in[0].squeeze()};
  for (auto& a : axes) a = axis(n, a, in[0].dim());
  std::sort(axes.rbegin(), axes.rend());
  at::Tensor x = in[0];
  for (auto a : axes) x = x.squeeze(a);
  return {x};
}

// The data path keeps floats: int casts truncate, bool casts make 0/1 (fp16 casts are no-ops:
// an fp16 model runs in the run's dtype).
Ins cast(const Node& n, const Ins& in, const DeviceWeights&) {
  const std::string to = n.s("to", "float");
  if (to == "int") return {at::trunc(in[0])};
  if (to == "bool") return {(in[0] != 0).to(in[0].scalar_type())};
  return {in[0]};
}

Ins range(const Node&, const Ins& in, const DeviceWeights&) {
  const double start = in[0].item<double>(), limit = in[1].item<double>(), delta = in[2].item<double>();
  return {at::arange(start, limit, delta, host())};
}

Ins constant_of_shape(const Node& n, const Ins& in, const DeviceWeights&) {
  return {at::full(host_ints(in[0]), n.f("value", 0), host())};
}

Ins where(const Node&, const Ins& in, const DeviceWeights&) {
  const at::Tensor like = data_like({in[1], in[2], in[0]});  // a copy: the list is a temporary
  return {at::where(as_data(in[0], like) != 0, as_data(in[1], like), as_data(in[2], like))};
}

Ins expand(const Node&, const Ins& in, const DeviceWeights&) {
  const auto target = host_ints(in[1]);
  at::Tensor x = in[0];
  const auto rank = std::max<std::int64_t>(x.dim(), static_cast<std::int64_t>(target.size()));
  while (x.dim() < rank) x = x.unsqueeze(0);
  std::vector<std::int64_t> shape(x.sizes().begin(), x.sizes().end());
  for (std::size_t i = 0; i < target.size(); ++i) {
    const std::size_t d = static_cast<std::size_t>(rank) - target.size() + i;
    if (shape[d] == 1) shape[d] = target[i];
  }
  return {x.expand(shape)};
}

Ins tile(const Node&, const Ins& in, const DeviceWeights&) { return {in[0].repeat(host_ints(in[1]))}; }

Ins split(const Node& n, const Ins& in, const DeviceWeights&) {
  const std::int64_t a = axis(n, n.i("axis", 0), in[0].dim());
  auto parts = n.ints("split", {});
  if (parts.empty()) parts.assign(n.outputs.size(), in[0].size(a) / static_cast<std::int64_t>(n.outputs.size()));
  return at::split_with_sizes(in[0], parts, a);
}

Ins matmul(const Node&, const Ins& in, const DeviceWeights&) {
  const at::Tensor& like = data_like(in);
  return {at::matmul(as_data(in[0], like), as_data(in[1], like))};
}

Ins reduce(const Node& n, const Ins& in, const DeviceWeights&) {
  const at::Tensor& x = in[0];
  auto axes = n.ints("axes", {});
  if (axes.empty())
    for (std::int64_t d = 0; d < x.dim(); ++d) axes.push_back(d);
  for (auto& a : axes) a = axis(n, a, x.dim());
  const bool keep = n.i("keepdims", 1) != 0;
  const std::string fn = n.s("fn", "sum");
  if (fn == "mean") return {at::mean(x, axes, keep)};
  if (fn == "sum") return {at::sum(x, axes, keep)};
  if (fn == "sumsquare") return {at::sum(x * x, axes, keep)};
  if (fn == "l2") return {at::sqrt(at::sum(x * x, axes, keep))};
  if (fn == "l1") return {at::sum(at::abs(x), axes, keep)};
  if (fn == "max") return {at::amax(x, axes, keep)};
  if (fn == "min") return {at::amin(x, axes, keep)};
  if (fn == "logsumexp") return {at::logsumexp(x, axes, keep)};
  if (fn == "prod") {
    at::Tensor y = x;
    std::sort(axes.rbegin(), axes.rend());
    for (auto a : axes) y = at::prod(y, a, keep);
    return {y};
  }
  bad(n, "unknown reduction '" + fn + "'");
}

Ins layer_norm(const Node& n, const Ins& in, const DeviceWeights& w) {
  const at::Tensor& x = in[0];
  const std::int64_t a = axis(n, n.i("axis", -1), x.dim());
  const std::vector<std::int64_t> tail(x.sizes().begin() + a, x.sizes().end());
  const auto s = w.find("scale"), b = w.find("bias");
  return {at::layer_norm(x, tail, s == w.end() ? at::Tensor() : s->second.reshape(tail),
                         b == w.end() ? at::Tensor() : b->second.reshape(tail), n.f("epsilon", 1e-5))};
}

Ins instance_norm(const Node& n, const Ins& in, const DeviceWeights& w) {
  return {at::instance_norm(in[0], w.at("scale"), w.at("bias"), at::Tensor(), at::Tensor(), true, 0.0, n.f("epsilon", 1e-5), false)};
}

Ins space_to_depth(const Node& n, const Ins& in, const DeviceWeights&) {
  const std::int64_t r = n.i("factor");
  const at::Tensor& x = in[0];
  const std::int64_t b = x.size(0), c = x.size(1), h = x.size(2) / r, wd = x.size(3) / r;
  return {x.reshape({b, c, h, r, wd, r}).permute({0, 3, 5, 1, 2, 4}).reshape({b, c * r * r, h, wd})};
}

Ins grid_sample(const Node& n, const Ins& in, const DeviceWeights&) {
  const std::string mode = n.s("mode", "bilinear"), pad = n.s("padding", "zeros");
  const std::int64_t m = mode == "bilinear" ? 0 : mode == "nearest" ? 1 : mode == "bicubic" ? 2 : -1;
  const std::int64_t p = pad == "zeros" ? 0 : pad == "border" ? 1 : pad == "reflection" ? 2 : -1;
  if (m < 0 || p < 0) bad(n, "mode '" + mode + "' / padding '" + pad + "' not supported");
  return {at::grid_sampler(in[0], as_data(in[1], in[0]), m, p, n.i("align_corners", 0) != 0)};
}

Ins einsum(const Node& n, const Ins& in, const DeviceWeights&) {
  const at::Tensor& like = data_like(in);
  std::vector<at::Tensor> xs;
  for (const auto& t : in) xs.push_back(as_data(t, like));
  return {at::einsum(n.s("equation", ""), xs)};
}

}  // namespace

std::vector<KernelEntry> tensor_kernels() {
  return {{"Constant", &constant},   {"ShapeOf", &shape_of},   {"Gather", &gather},
          {"Unsqueeze", &unsqueeze}, {"Squeeze", &squeeze},    {"Cast", &cast},
          {"Range", &range},         {"ConstantOfShape", &constant_of_shape},
          {"Where", &where},         {"Expand", &expand},      {"Tile", &tile},
          {"Split", &split},         {"MatMul", &matmul},      {"Reduce", &reduce},
          {"LayerNorm", &layer_norm}, {"InstanceNorm", &instance_norm},
          {"SpaceToDepth", &space_to_depth}, {"GridSample", &grid_sample}, {"Einsum", &einsum}};
}

}  // namespace kernels
}  // namespace yamiro::graph
