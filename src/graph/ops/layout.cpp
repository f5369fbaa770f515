// Shapes of the ops that move values without arithmetic: Concat, Slice, CropLike, Pad,
// Reshape, Transpose, Flatten.
#include <algorithm>

#include "graph/ops.hpp"
#include "yamiro/error.hpp"

namespace yamiro::graph::ops {
namespace {

std::int64_t axis_of(const Graph& g, const Node& n, std::int64_t axis, std::size_t rank) {
  if (axis < 1 || axis >= static_cast<std::int64_t>(rank)) fail(g, &n, "axis " + std::to_string(axis) + " out of range");
  return axis;
}

std::vector<Shape> concat(const Graph& g, const Node& n, const std::vector<Shape>& in) {
  const std::int64_t axis = axis_of(g, n, n.i("axis"), in[0].size());
  Shape out = in[0];
  for (std::size_t k = 1; k < in.size(); ++k) {
    if (in[k].size() != out.size()) fail(g, &n, "inputs of different ranks");
    for (std::size_t i = 0; i < out.size(); ++i)
      if (static_cast<std::int64_t>(i) != axis && in[k][i] != out[i])
        fail(g, &n, "inputs " + shape_text(in[0]) + " and " + shape_text(in[k]) + " differ off the concat axis");
    out[axis] += in[k][axis];
  }
  return {out};
}

std::vector<Shape> slice(const Graph& g, const Node& n, const std::vector<Shape>& in) {
  const auto axes = n.ints("axes"), starts = n.ints("starts"), ends = n.ints("ends");
  const auto lens = n.ints("max_lengths", std::vector<std::int64_t>(axes.size(), kSliceEnd));
  if (starts.size() != axes.size() || ends.size() != axes.size() || lens.size() != axes.size())
    fail(g, &n, "axes, starts and ends differ in length");
  Shape out = in[0];
  for (std::size_t i = 0; i < axes.size(); ++i) {
    const std::int64_t a = axis_of(g, n, axes[i], out.size()), size = in[0][a];
    const std::int64_t b = std::clamp(starts[i] < 0 ? size + starts[i] : starts[i], std::int64_t{0}, size);
    const std::int64_t e = ends[i] == kSliceEnd ? size : std::clamp(ends[i] < 0 ? size + ends[i] : ends[i], std::int64_t{0}, size);
    out[a] = std::min(e - b, lens[i]);
    if (out[a] <= 0) fail(g, &n, "cuts nothing out of " + shape_text(in[0]));
  }
  return {out};
}

std::vector<Shape> crop_like(const Graph& g, const Node& n, const std::vector<Shape>& in) {
  const auto axes = n.ints("axes"), offsets = n.ints("offsets");
  if (offsets.size() != axes.size()) fail(g, &n, "axes and offsets differ in length");
  if (in[0].size() != in[1].size()) fail(g, &n, "the reference has another rank");
  Shape out = in[0];
  for (std::size_t i = 0; i < axes.size(); ++i) {
    const std::int64_t a = axis_of(g, n, axes[i], out.size());
    if (offsets[i] < 0 || offsets[i] + in[1][a] > in[0][a])
      fail(g, &n, "cannot cut " + shape_text(in[1]) + " at offset " + std::to_string(offsets[i]) + " out of " + shape_text(in[0]));
    out[a] = in[1][a];
  }
  return {out};
}

std::vector<Shape> pad(const Graph& g, const Node& n, const std::vector<Shape>& in) {
  const auto p = n.ints("pads", {0, 0, 0, 0}), c = n.ints("channel_pads", {0, 0});
  if (p.size() != 4 || c.size() != 2) fail(g, &n, "bad pads");
  Shape out = in[0];
  if (out.size() != 4) fail(g, &n, "needs an image input [N,C,H,W], got " + shape_text(out));
  if (n.s("mode", "constant") == "reflect" && (p[0] >= out[2] || p[2] >= out[2] || p[1] >= out[3] || p[3] >= out[3]))
    fail(g, &n, "reflect padding wider than the input " + shape_text(out));
  out[1] += c[0] + c[1];
  out[2] += p[0] + p[2];
  out[3] += p[1] + p[3];
  return {out};
}

std::vector<Shape> reshape(const Graph& g, const Node& n, const std::vector<Shape>& in) {
  const auto target = n.ints("shape");
  Shape out{in[0][0]};
  std::int64_t known = 1;
  int infer = -1;
  for (std::size_t i = 0; i < target.size(); ++i) {
    std::int64_t d = target[i];
    if (d == 0) {
      if (i + 1 >= in[0].size()) fail(g, &n, "0 copies a dimension the input lacks");
      d = in[0][i + 1];
    }
    if (d == -1) {
      if (infer >= 0) fail(g, &n, "two inferred dimensions");
      infer = static_cast<int>(out.size());
    } else if (d < 1) {
      fail(g, &n, "bad target dimension " + std::to_string(d));
    } else {
      known *= d;
    }
    out.push_back(d);
  }
  const std::int64_t total = numel(in[0]) / in[0][0];
  if (infer >= 0) {
    if (total % known != 0) fail(g, &n, "cannot infer a dimension for " + shape_text(in[0]));
    out[infer] = total / known;
  } else if (known != total) {
    fail(g, &n, "cannot reshape " + shape_text(in[0]) + " to " + shape_text(out));
  }
  return {out};
}

std::vector<Shape> transpose(const Graph& g, const Node& n, const std::vector<Shape>& in) {
  const auto perm = n.ints("perm");
  if (perm.size() != in[0].size() || perm[0] != 0) fail(g, &n, "the permutation does not fit " + shape_text(in[0]));
  Shape out;
  std::vector<bool> seen(perm.size(), false);
  for (auto p : perm) {
    if (p < 0 || p >= static_cast<std::int64_t>(perm.size()) || seen[p]) fail(g, &n, "not a permutation");
    seen[p] = true;
    out.push_back(in[0][p]);
  }
  return {out};
}

std::vector<Shape> flatten(const Graph&, const Node&, const std::vector<Shape>& in) {
  return {{in[0][0], numel(in[0]) / in[0][0]}};
}

double none(const Node&, const std::vector<Shape>&, const std::vector<Shape>&) { return 0; }

}  // namespace

std::vector<OpSpec> layout_ops() {
  return {
      {"Concat", 1, -1, &concat, &none},    {"Slice", 1, 1, &slice, &none},         {"CropLike", 2, 2, &crop_like, &none},
      {"Pad", 1, 1, &pad, &none},           {"Reshape", 1, 1, &reshape, &none},     {"Transpose", 1, 1, &transpose, &none},
      {"Flatten", 1, 1, &flatten, &none},
  };
}

}  // namespace yamiro::graph::ops
