// Shapes and FLOPs of the ONNX frontend's arithmetic ops: MatMul, Reduce, LayerNorm,
// InstanceNorm, SpaceToDepth, GridSample, Einsum.
#include <algorithm>
#include <map>

#include "graph/ops.hpp"
#include "yamiro/error.hpp"

namespace yamiro::graph::ops {
namespace {

using Shapes = std::vector<Shape>;

Shapes matmul(const Graph& g, const Node& n, const Shapes& in) {
  const Shape &a = in[0], &b = in[1];
  if (a.size() < 2 || b.size() < 2) fail(g, &n, "needs inputs of rank 2 or more, got " + shape_text(a) + " and " + shape_text(b));
  if (a.back() != b[b.size() - 2]) fail(g, &n, "cannot multiply " + shape_text(a) + " by " + shape_text(b));
  const Shape ab(a.begin(), a.end() - 2), bb(b.begin(), b.end() - 2);
  Shape out(std::max(ab.size(), bb.size()));
  for (std::size_t i = 0; i < out.size(); ++i) {
    const std::int64_t da = i < out.size() - ab.size() ? 1 : ab[i - (out.size() - ab.size())];
    const std::int64_t db = i < out.size() - bb.size() ? 1 : bb[i - (out.size() - bb.size())];
    if (da != db && da != 1 && db != 1) fail(g, &n, "cannot broadcast " + shape_text(a) + " with " + shape_text(b));
    out[i] = std::max(da, db);
  }
  out.push_back(a[a.size() - 2]);
  out.push_back(b.back());
  return {out};
}
double matmul_flops(const Node&, const Shapes& in, const Shapes& out) {
  return 2.0 * static_cast<double>(numel(out[0])) * static_cast<double>(in[0].back());
}

std::vector<std::int64_t> reduce_axes(const Graph& g, const Node& n, std::size_t rank) {
  auto axes = n.ints("axes", {});
  if (axes.empty())
    for (std::size_t d = 0; d < rank; ++d) axes.push_back(static_cast<std::int64_t>(d));
  for (auto& a : axes) a = norm_axis(g, n, a, rank);
  return axes;
}
Shapes reduce(const Graph& g, const Node& n, const Shapes& in) {
  const auto axes = reduce_axes(g, n, in[0].size());
  const bool keep = n.i("keepdims", 1) != 0;
  Shape out;
  for (std::size_t d = 0; d < in[0].size(); ++d) {
    const bool reduced = std::find(axes.begin(), axes.end(), static_cast<std::int64_t>(d)) != axes.end();
    if (!reduced) out.push_back(in[0][d]);
    else if (keep) out.push_back(1);
  }
  return {out};
}
Value reduce_fold(const Graph& g, const Node& n, const Shapes& in, const Values& v, const Shape& out) {
  if (!v[0]) return {};
  const std::string fn = n.s("fn", "sum");
  if (fn != "prod" && fn != "sum" && fn != "max" && fn != "min") return {};
  const auto axes = reduce_axes(g, n, in[0].size());
  Shape kept = in[0];
  for (auto a : axes) kept[a] = 1;
  Value r(static_cast<std::size_t>(numel(out)), fn == "prod" ? 1.0 : fn == "sum" ? 0.0 : fn == "max" ? -1e300 : 1e300);
  const Shape& x = in[0];
  for (std::int64_t k = 0; k < numel(x); ++k) {
    std::int64_t rest = k, dst = 0, stride = 1;
    for (std::size_t d = x.size(); d-- > 0;) {
      const std::int64_t pos = rest % x[d];
      rest /= x[d];
      if (kept[d] != 1) dst += pos * stride;
      stride *= kept[d];
    }
    double& acc = r[dst];
    const double val = (*v[0])[k];
    acc = fn == "prod" ? acc * val : fn == "sum" ? acc + val : fn == "max" ? std::max(acc, val) : std::min(acc, val);
  }
  return r;
}

Shapes layer_norm(const Graph& g, const Node& n, const Shapes& in) {
  const std::int64_t axis = norm_axis(g, n, n.i("axis", -1), in[0].size());
  const Shape tail(in[0].begin() + axis, in[0].end());
  for (const char* w : {"scale", "bias"})
    if (n.has_weight(w) && numel(n.weight(w).shape) != numel(tail))
      fail(g, &n, std::string(w) + " has " + std::to_string(n.weight(w).numel()) + " values for " + shape_text(tail));
  return {in[0]};
}
Shapes instance_norm(const Graph& g, const Node& n, const Shapes& in) {
  if (in[0].size() < 3) fail(g, &n, "needs [N,C,...], got " + shape_text(in[0]));
  for (const char* w : {"scale", "bias"})
    if (n.weight(w).numel() != in[0][1]) fail(g, &n, std::string(w) + " does not have one value per channel");
  return {in[0]};
}

Shapes space_to_depth(const Graph& g, const Node& n, const Shapes& in) {
  const Shape& x = in[0];
  const std::int64_t r = n.i("factor");
  if (x.size() != 4 || r < 1 || r > 16 || x[2] % r != 0 || x[3] % r != 0)
    fail(g, &n, "block " + std::to_string(r) + " does not divide " + shape_text(x));
  return {{x[0], x[1] * r * r, x[2] / r, x[3] / r}};
}

Shapes grid_sample(const Graph& g, const Node& n, const Shapes& in) {
  const Shape &x = in[0], &grid = in[1];
  if (x.size() != 4 || grid.size() != 4 || grid[3] != 2 || grid[0] != x[0])
    fail(g, &n, "needs [N,C,H,W] and a grid [N,h,w,2], got " + shape_text(x) + " and " + shape_text(grid));
  return {{x[0], x[1], grid[1], grid[2]}};
}

// "ab,bc->ac": the letters of each input and of the output (implicit: the letters seen once, sorted).
struct Equation {
  std::vector<std::string> in;
  std::string out;
};
Equation parse_einsum(const Graph& g, const Node& n, std::size_t inputs) {
  std::string e;
  for (char c : n.s("equation", ""))
    if (c != ' ') e += c;
  Equation eq;
  const auto arrow = e.find("->");
  const std::string lhs = e.substr(0, arrow);
  std::size_t start = 0;
  while (true) {
    const auto comma = lhs.find(',', start);
    eq.in.push_back(lhs.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  std::map<char, int> seen;
  for (const auto& s : eq.in)
    for (char c : s) {
      if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z')) fail(g, &n, "equation '" + e + "': only letters are supported (no ellipsis)");
      ++seen[c];
    }
  if (arrow != std::string::npos) {
    eq.out = e.substr(arrow + 2);
    for (char c : eq.out)
      if (!seen.count(c)) fail(g, &n, "equation '" + e + "': output letter '" + std::string(1, c) + "' is in no input");
  } else {
    for (const auto& [c, k] : seen)
      if (k == 1) eq.out += c;
  }
  if (eq.in.size() != inputs) fail(g, &n, "equation '" + e + "' names " + std::to_string(eq.in.size()) + " inputs");
  return eq;
}
Shapes einsum(const Graph& g, const Node& n, const Shapes& in) {
  const Equation eq = parse_einsum(g, n, in.size());
  std::map<char, std::int64_t> size;
  for (std::size_t k = 0; k < in.size(); ++k) {
    if (eq.in[k].size() != in[k].size()) fail(g, &n, "'" + eq.in[k] + "' does not fit " + shape_text(in[k]));
    for (std::size_t d = 0; d < in[k].size(); ++d) {
      auto [it, fresh] = size.emplace(eq.in[k][d], in[k][d]);
      if (!fresh && it->second != in[k][d] && it->second != 1 && in[k][d] != 1)
        fail(g, &n, "letter '" + std::string(1, eq.in[k][d]) + "' has sizes " + std::to_string(it->second) + " and " + std::to_string(in[k][d]));
      it->second = std::max(it->second, in[k][d]);
    }
  }
  Shape out;
  for (char c : eq.out) out.push_back(size.at(c));
  return {out};
}
double einsum_flops(const Node& n, const Shapes& in, const Shapes&) {
  // Every combination of letters is one multiply-add per extra input.
  std::map<char, std::int64_t> size;
  std::string letters;
  std::size_t start = 0, k = 0;
  const std::string e = n.s("equation", "");
  const std::string lhs = e.substr(0, e.find("->"));
  for (std::size_t i = 0; i <= lhs.size() && k < in.size(); ++i) {
    if (i == lhs.size() || lhs[i] == ',') {
      for (std::size_t d = 0; d < i - start && d < in[k].size(); ++d) size[lhs[start + d]] = std::max(size[lhs[start + d]], in[k][d]);
      start = i + 1, ++k;
    }
  }
  double total = 1;
  for (const auto& [c, s] : size) total *= static_cast<double>(s);
  return 2.0 * total * static_cast<double>(std::max<std::size_t>(1, in.size() - 1));
}

Shapes same(const Graph&, const Node&, const Shapes& in) { return {in[0]}; }
double per_value(const Node&, const Shapes&, const Shapes& out) { return static_cast<double>(numel(out[0])); }
double per_input(const Node&, const Shapes& in, const Shapes&) { return static_cast<double>(numel(in[0])); }
double norm_flops(const Node&, const Shapes& in, const Shapes&) { return 8.0 * static_cast<double>(numel(in[0])); }
double none(const Node&, const Shapes&, const Shapes&) { return 0; }

}  // namespace

std::vector<OpSpec> math_ops() {
  (void)&same;
  return {
      {"MatMul", 2, 2, &matmul, &matmul_flops},
      {"Reduce", 1, 1, &reduce, &per_input, nullptr, &reduce_fold},
      {"LayerNorm", 1, 1, &layer_norm, &norm_flops},
      {"InstanceNorm", 1, 1, &instance_norm, &norm_flops},
      {"SpaceToDepth", 1, 1, &space_to_depth, &none},
      {"GridSample", 2, 2, &grid_sample, &per_value},
      {"Einsum", 1, -1, &einsum, &einsum_flops},
  };
}

}  // namespace yamiro::graph::ops
