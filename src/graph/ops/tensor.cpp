// Shapes and folded values of the tensor-plumbing ops the ONNX frontend adds: Constant,
// ShapeOf, Gather, Unsqueeze, Squeeze, Cast, Range, ConstantOfShape, Where, Expand, Tile,
// Split. Together they let shape arithmetic (Shape -> Gather -> Concat -> Reshape) be
// computed once per input shape during shape inference.
#include <algorithm>
#include <cmath>

#include "graph/ops.hpp"
#include "yamiro/error.hpp"

namespace yamiro::graph::ops {
namespace {

using Shapes = std::vector<Shape>;

Shape broadcast(const Graph& g, const Node& n, const Shape& a, const Shape& b) {
  Shape out(std::max(a.size(), b.size()));
  for (std::size_t i = 0; i < out.size(); ++i) {
    const std::int64_t da = i < out.size() - a.size() ? 1 : a[i - (out.size() - a.size())];
    const std::int64_t db = i < out.size() - b.size() ? 1 : b[i - (out.size() - b.size())];
    if (da != db && da != 1 && db != 1) fail(g, &n, "cannot broadcast " + shape_text(a) + " with " + shape_text(b));
    out[i] = std::max(da, db);
  }
  return out;
}

Value broadcast_value(const Value& v, const Shape& in, const Shape& out) {
  Value r(static_cast<std::size_t>(numel(out)));
  for (std::int64_t k = 0; k < numel(out); ++k) r[k] = v[broadcast_index(in, out, k)];
  return r;
}

// Constant: weight "value" (fp32), and "ints" (exact) when integral.
Shapes constant(const Graph& g, const Node& n, const Shapes&) {
  const HostTensor& v = n.weight("value");
  if (static_cast<std::int64_t>(v.values.size()) != numel(v.shape)) fail(g, &n, "value does not match its shape");
  return {v.shape};
}
Value constant_fold(const Graph&, const Node& n, const Shapes&, const Values&, const Shape&) {
  const auto ints = n.ints("ints", {});
  if (!ints.empty()) return Value(ints.begin(), ints.end());
  const auto& f = n.weight("value").values;
  return Value(f.begin(), f.end());
}

std::pair<std::int64_t, std::int64_t> shape_span(const Node& n, std::size_t rank) {
  const auto r = static_cast<std::int64_t>(rank);
  auto clamp = [r](std::int64_t a) { return std::clamp(a < 0 ? a + r : a, std::int64_t{0}, r); };
  return {clamp(n.i("start", 0)), clamp(n.i("end", r))};
}
Shapes shape_of(const Graph& g, const Node& n, const Shapes& in) {
  const auto [b, e] = shape_span(n, in[0].size());
  if (e <= b) fail(g, &n, "takes no dimension of " + shape_text(in[0]));
  return {{e - b}};
}
Value shape_of_fold(const Graph&, const Node& n, const Shapes& in, const Values&, const Shape&) {
  const auto [b, e] = shape_span(n, in[0].size());
  return Value(in[0].begin() + b, in[0].begin() + e);
}

Shapes gather(const Graph& g, const Node& n, const Shapes& in) {
  const std::int64_t axis = norm_axis(g, n, n.i("axis", 0), in[0].size());
  Shape out(in[0].begin(), in[0].begin() + axis);
  out.insert(out.end(), in[1].begin(), in[1].end());
  out.insert(out.end(), in[0].begin() + axis + 1, in[0].end());
  return {out};
}
Value gather_fold(const Graph& g, const Node& n, const Shapes& in, const Values& v, const Shape& out) {
  if (!v[0] || !v[1]) return {};
  const std::int64_t axis = norm_axis(g, n, n.i("axis", 0), in[0].size()), size = in[0][axis];
  std::int64_t inner = 1;
  for (std::size_t d = axis + 1; d < in[0].size(); ++d) inner *= in[0][d];
  const std::int64_t outer = numel(in[0]) / (size * inner), count = numel(in[1]);
  Value r;
  r.reserve(static_cast<std::size_t>(numel(out)));
  for (std::int64_t o = 0; o < outer; ++o)
    for (std::int64_t k = 0; k < count; ++k) {
      auto idx = static_cast<std::int64_t>((*v[1])[k]);
      if (idx < 0) idx += size;
      if (idx < 0 || idx >= size) fail(g, &n, "index " + std::to_string(idx) + " out of range for " + shape_text(in[0]));
      for (std::int64_t i = 0; i < inner; ++i) r.push_back((*v[0])[(o * size + idx) * inner + i]);
    }
  return r;
}

Shapes unsqueeze(const Graph& g, const Node& n, const Shapes& in) {
  auto axes = n.ints("axes");
  const std::size_t rank = in[0].size() + axes.size();
  for (auto& a : axes) a = norm_axis(g, n, a, rank);
  std::sort(axes.begin(), axes.end());
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end()) fail(g, &n, "repeats an axis");
  Shape out;
  std::size_t src = 0;
  for (std::size_t d = 0; d < rank; ++d)
    out.push_back(std::binary_search(axes.begin(), axes.end(), static_cast<std::int64_t>(d)) ? 1 : in[0][src++]);
  return {out};
}
Shapes squeeze(const Graph& g, const Node& n, const Shapes& in) {
  auto axes = n.ints("axes", {});
  for (auto& a : axes) a = norm_axis(g, n, a, in[0].size());
  Shape out;
  for (std::size_t d = 0; d < in[0].size(); ++d) {
    const bool listed = std::find(axes.begin(), axes.end(), static_cast<std::int64_t>(d)) != axes.end();
    if (listed && in[0][d] != 1) fail(g, &n, "squeezes a dimension that is not 1 in " + shape_text(in[0]));
    if (!(listed || (axes.empty() && in[0][d] == 1))) out.push_back(in[0][d]);
  }
  return {out};
}
Value pass(const Graph&, const Node&, const Shapes&, const Values& v, const Shape&) { return v[0] ? *v[0] : Value{}; }

Shapes same(const Graph&, const Node&, const Shapes& in) { return {in[0]}; }
Value cast_fold(const Graph&, const Node& n, const Shapes&, const Values& v, const Shape&) {
  if (!v[0]) return {};
  Value r = *v[0];
  const std::string to = n.s("to", "float");
  for (double& x : r) x = to == "int" ? std::trunc(x) : to == "bool" ? (x != 0) : x;
  return r;
}

Shapes range(const Graph& g, const Node& n, const Shapes&, const Values& v) {
  for (int k = 0; k < 3; ++k)
    if (!v[k] || v[k]->size() != 1) fail(g, &n, "start, limit and delta must be scalars known from the input's shape");
  const double start = (*v[0])[0], limit = (*v[1])[0], delta = (*v[2])[0];
  if (delta == 0) fail(g, &n, "delta 0");
  const double count = std::max(0.0, std::ceil((limit - start) / delta));
  if (count < 1 || count > (1 << 24)) fail(g, &n, "makes " + std::to_string(count) + " values");
  return {{static_cast<std::int64_t>(count)}};
}
Value range_fold(const Graph&, const Node&, const Shapes&, const Values& v, const Shape& out) {
  Value r;
  for (std::int64_t k = 0; k < out[0]; ++k) r.push_back((*v[0])[0] + static_cast<double>(k) * (*v[2])[0]);
  return r;
}

Shapes constant_of_shape(const Graph& g, const Node& n, const Shapes&, const Values& v) {
  const auto dims = value_ints(g, n, v, 0, "shape");
  return {Shape(dims.begin(), dims.end())};
}
Value constant_of_shape_fold(const Graph&, const Node& n, const Shapes&, const Values&, const Shape& out) {
  return Value(static_cast<std::size_t>(numel(out)), n.f("value", 0));
}

Shapes where(const Graph& g, const Node& n, const Shapes& in) {
  return {broadcast(g, n, broadcast(g, n, in[0], in[1]), in[2])};
}
Value where_fold(const Graph&, const Node&, const Shapes& in, const Values& v, const Shape& out) {
  if (!v[0] || !v[1] || !v[2]) return {};
  Value r(static_cast<std::size_t>(numel(out)));
  for (std::int64_t k = 0; k < numel(out); ++k)
    r[k] = (*v[0])[broadcast_index(in[0], out, k)] != 0 ? (*v[1])[broadcast_index(in[1], out, k)]
                                                         : (*v[2])[broadcast_index(in[2], out, k)];
  return r;
}

Shapes expand(const Graph& g, const Node& n, const Shapes& in, const Values& v) {
  const auto dims = value_ints(g, n, v, 1, "shape");
  return {broadcast(g, n, in[0], Shape(dims.begin(), dims.end()))};
}
Value expand_fold(const Graph&, const Node&, const Shapes& in, const Values& v, const Shape& out) {
  return v[0] ? broadcast_value(*v[0], in[0], out) : Value{};
}

Shapes tile(const Graph& g, const Node& n, const Shapes& in, const Values& v) {
  const auto reps = value_ints(g, n, v, 1, "repeats");
  if (reps.size() != in[0].size()) fail(g, &n, "repeats do not match the rank of " + shape_text(in[0]));
  Shape out = in[0];
  for (std::size_t d = 0; d < out.size(); ++d) {
    if (reps[d] < 1) fail(g, &n, "repeat count " + std::to_string(reps[d]));
    out[d] *= reps[d];
  }
  return {out};
}
Value tile_fold(const Graph&, const Node&, const Shapes& in, const Values& v, const Shape& out) {
  if (!v[0]) return {};
  Value r(static_cast<std::size_t>(numel(out)));
  for (std::int64_t k = 0; k < numel(out); ++k) {
    std::int64_t rest = k, src = 0, stride = 1;
    for (std::size_t d = out.size(); d-- > 0;) {
      src += (rest % out[d]) % in[0][d] * stride;
      rest /= out[d];
      stride *= in[0][d];
    }
    r[k] = (*v[0])[src];
  }
  return r;
}

Shapes split(const Graph& g, const Node& n, const Shapes& in) {
  const std::int64_t axis = norm_axis(g, n, n.i("axis", 0), in[0].size());
  auto parts = n.ints("split", {});
  const auto count = static_cast<std::int64_t>(n.outputs.size());
  if (parts.empty()) {
    if (in[0][axis] % count != 0) fail(g, &n, "cannot split " + shape_text(in[0]) + " in " + std::to_string(count) + " equal parts");
    parts.assign(static_cast<std::size_t>(count), in[0][axis] / count);
  }
  std::int64_t total = 0;
  for (auto p : parts) total += p;
  if (static_cast<std::int64_t>(parts.size()) != count || total != in[0][axis])
    fail(g, &n, "split sizes do not add up to " + std::to_string(in[0][axis]));
  Shapes out;
  for (auto p : parts) {
    Shape s = in[0];
    s[axis] = p;
    out.push_back(s);
  }
  return out;
}

double none(const Node&, const Shapes&, const Shapes&) { return 0; }
double per_value(const Node&, const Shapes&, const Shapes& out) { return static_cast<double>(numel(out[0])); }

}  // namespace

std::vector<OpSpec> tensor_ops() {
  return {
      {"Constant", 0, 0, &constant, &none, nullptr, &constant_fold},
      {"ShapeOf", 1, 1, &shape_of, &none, nullptr, &shape_of_fold},
      {"Gather", 2, 2, &gather, &none, nullptr, &gather_fold},
      {"Unsqueeze", 1, 1, &unsqueeze, &none, nullptr, &pass},
      {"Squeeze", 1, 1, &squeeze, &none, nullptr, &pass},
      {"Cast", 1, 1, &same, &none, nullptr, &cast_fold},
      {"Range", 3, 3, nullptr, &none, &range, &range_fold},
      {"ConstantOfShape", 1, 1, nullptr, &none, &constant_of_shape, &constant_of_shape_fold},
      {"Where", 3, 3, &where, &per_value, nullptr, &where_fold},
      {"Expand", 2, 2, nullptr, &none, &expand, &expand_fold},
      {"Tile", 2, 2, nullptr, &none, &tile, &tile_fold},
      {"Split", 1, 1, &split, &none},
  };
}

}  // namespace yamiro::graph::ops
