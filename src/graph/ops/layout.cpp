// Shapes of the ops that move values without arithmetic: Concat, Slice, CropLike, Pad,
// Reshape, Transpose, Flatten.
#include <algorithm>

#include "graph/ops.hpp"
#include "yamiro/error.hpp"

namespace yamiro::graph::ops {
namespace {

// Axes may be negative (from the end) and 0 (the batch; ONNX shape vectors are rank 1).
std::int64_t axis_of(const Graph& g, const Node& n, std::int64_t axis, std::size_t rank) { return norm_axis(g, n, axis, rank); }

// Row-major strides of a shape.
std::vector<std::int64_t> strides(const Shape& s) {
  std::vector<std::int64_t> st(s.size(), 1);
  for (std::size_t i = s.size(); i-- > 1;) st[i - 1] = st[i] * s[i];
  return st;
}

// ONNX Slice's clamped [begin, end) and step on one axis of `size`.
struct Range1 {
  std::int64_t begin, count, step;
};
Range1 slice_range(const Graph& g, const Node& n, std::int64_t start, std::int64_t end, std::int64_t step, std::int64_t size) {
  if (step == 0) fail(g, &n, "step 0");
  if (step < 0) {  // ONNX: start clamped to [0, size-1], end to [-1, size-1], walking down
    if (step < -(std::int64_t{1} << 40)) fail(g, &n, "step out of range");
    const std::int64_t b = std::clamp(start < 0 ? size + start : start, std::int64_t{0}, size - 1);
    const std::int64_t e = std::clamp(end < 0 ? size + end : end, std::int64_t{-1}, size - 1);
    return {b, b > e ? (b - e - step - 1) / -step : 0, step};
  }
  if (step > (std::int64_t{1} << 40)) fail(g, &n, "step out of range");
  const std::int64_t b = std::clamp(start < 0 ? size + start : start, std::int64_t{0}, size);
  const std::int64_t e = end >= kSliceEnd / 2 ? size : std::clamp(end < 0 ? size + end : end, std::int64_t{0}, size);
  return {b, e > b ? (e - b + step - 1) / step : 0, step};
}

struct SliceSpec {
  std::vector<std::int64_t> axes, starts, ends, steps, lens;
};
SliceSpec slice_spec(const Graph& g, const Node& n, const Shape& x, const Values& v) {
  SliceSpec s;
  if (n.inputs.size() > 1) {
    s.starts = value_ints(g, n, v, 1, "starts");
    s.ends = value_ints(g, n, v, 2, "ends");
    if (n.inputs.size() > 3) s.axes = value_ints(g, n, v, 3, "axes");
    else for (std::size_t i = 0; i < s.starts.size(); ++i) s.axes.push_back(static_cast<std::int64_t>(i));
    if (n.inputs.size() > 4) s.steps = value_ints(g, n, v, 4, "steps");
  } else {
    s.axes = n.ints("axes"), s.starts = n.ints("starts"), s.ends = n.ints("ends");
    s.steps = n.ints("steps", {});
    s.lens = n.ints("max_lengths", {});
  }
  if (s.steps.empty()) s.steps.assign(s.axes.size(), 1);
  if (s.lens.empty()) s.lens.assign(s.axes.size(), kSliceEnd);
  if (s.starts.size() != s.axes.size() || s.ends.size() != s.axes.size() || s.lens.size() != s.axes.size() ||
      s.steps.size() != s.axes.size())
    fail(g, &n, "axes, starts and ends differ in length");
  for (auto& a : s.axes) a = axis_of(g, n, a, x.size());
  return s;
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

Value concat_fold(const Graph& g, const Node& n, const std::vector<Shape>& in, const Values& v, const Shape& out) {
  for (auto* p : v)
    if (!p) return {};
  const std::int64_t axis = axis_of(g, n, n.i("axis"), out.size());
  std::int64_t outer = 1;
  for (std::int64_t d = 0; d < axis; ++d) outer *= out[d];
  Value res;
  for (std::int64_t o = 0; o < outer; ++o)
    for (std::size_t k = 0; k < in.size(); ++k) {
      const std::int64_t chunk = numel(in[k]) / outer;
      res.insert(res.end(), v[k]->begin() + o * chunk, v[k]->begin() + (o + 1) * chunk);
    }
  return res;
}

std::vector<Shape> slice(const Graph& g, const Node& n, const std::vector<Shape>& in, const Values& v) {
  const SliceSpec sp = slice_spec(g, n, in[0], v);
  Shape out = in[0];
  for (std::size_t i = 0; i < sp.axes.size(); ++i) {
    const std::int64_t a = sp.axes[i];
    const Range1 r = slice_range(g, n, sp.starts[i], sp.ends[i], sp.steps[i], out[a]);
    out[a] = std::min(r.count, sp.lens[i]);
    if (out[a] <= 0) fail(g, &n, "cuts nothing out of " + shape_text(in[0]));
  }
  return {out};
}

Value slice_fold(const Graph& g, const Node& n, const std::vector<Shape>& in, const Values& v, const Shape& out) {
  if (!v[0]) return {};
  const SliceSpec sp = slice_spec(g, n, in[0], v);
  std::vector<std::int64_t> begin(in[0].size(), 0), step(in[0].size(), 1);
  for (std::size_t i = 0; i < sp.axes.size(); ++i) {
    const Range1 r = slice_range(g, n, sp.starts[i], sp.ends[i], sp.steps[i], in[0][sp.axes[i]]);
    begin[sp.axes[i]] = r.begin, step[sp.axes[i]] = r.step;
  }
  const auto ist = strides(in[0]), ost = strides(out);
  Value res(static_cast<std::size_t>(numel(out)));
  for (std::int64_t k = 0; k < numel(out); ++k) {
    std::int64_t src = 0;
    for (std::size_t d = 0; d < out.size(); ++d) src += (begin[d] + (k / ost[d]) % out[d] * step[d]) * ist[d];
    res[k] = (*v[0])[src];
  }
  return res;
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

// ONNX pads of a 4-D input [n0,c0,h0,w0,n1,c1,h1,w1] as the IR's (pads t,l,b,r; channel_pads).
std::pair<std::vector<std::int64_t>, std::vector<std::int64_t>> pad_amounts(const Graph& g, const Node& n, const Values& v) {
  if (n.inputs.size() < 2) return {n.ints("pads", {0, 0, 0, 0}), n.ints("channel_pads", {0, 0})};
  const auto o = value_ints(g, n, v, 1, "pads");
  if (o.size() != 8 || o[0] != 0 || o[4] != 0) fail(g, &n, "pads must be 8 values that leave the batch alone");
  for (auto x : o)
    if (x < 0 || x > (1 << 20)) fail(g, &n, "pad " + std::to_string(x) + " out of range");
  if (n.s("mode", "constant") != "constant" && (o[1] || o[5])) fail(g, &n, "pads the channel axis in a non-constant mode");
  return {{o[2], o[3], o[6], o[7]}, {o[1], o[5]}};
}

std::vector<Shape> pad(const Graph& g, const Node& n, const std::vector<Shape>& in, const Values& v) {
  const auto [p, c] = pad_amounts(g, n, v);
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

std::vector<Shape> reshape(const Graph& g, const Node& n, const std::vector<Shape>& in, const Values& v) {
  const bool full = in.size() == 2;  // ONNX: the whole shape, from a value
  const auto target = full ? value_ints(g, n, v, 1, "shape") : n.ints("shape");
  Shape out;
  if (!full) out.push_back(in[0][0]);
  const std::size_t skip = full ? 0 : 1;
  std::int64_t known = 1;
  int infer = -1;
  for (std::size_t i = 0; i < target.size(); ++i) {
    std::int64_t d = target[i];
    if (d == 0 && !n.i("allowzero", 0)) {
      if (i + skip >= in[0].size()) fail(g, &n, "0 copies a dimension the input lacks");
      d = in[0][i + skip];
    }
    if (d == -1) {
      if (infer >= 0) fail(g, &n, "two inferred dimensions");
      infer = static_cast<int>(out.size());
    } else if (d < 1 || d > (1 << 24)) {
      fail(g, &n, "bad target dimension " + std::to_string(d));
    } else {
      known *= d;
      if (known > (std::int64_t{1} << 40)) fail(g, &n, "target shape too large");
    }
    out.push_back(d);
  }
  const std::int64_t total = full ? numel(in[0]) : numel(in[0]) / in[0][0];
  if (infer >= 0) {
    if (known == 0 || total % known != 0) fail(g, &n, "cannot infer a dimension for " + shape_text(in[0]));
    out[infer] = total / known;
  } else if (known != total) {
    fail(g, &n, "cannot reshape " + shape_text(in[0]) + " to " + shape_text(out));
  }
  return {out};
}

Value pass_fold(const Graph&, const Node&, const std::vector<Shape>&, const Values& v, const Shape&) {
  return v[0] ? *v[0] : Value{};
}

std::vector<Shape> transpose(const Graph& g, const Node& n, const std::vector<Shape>& in) {
  const auto perm = n.ints("perm");
  if (perm.size() != in[0].size()) fail(g, &n, "the permutation does not fit " + shape_text(in[0]));
  Shape out;
  std::vector<bool> seen(perm.size(), false);
  for (auto p : perm) {
    if (p < 0 || p >= static_cast<std::int64_t>(perm.size()) || seen[p]) fail(g, &n, "not a permutation");
    seen[p] = true;
    out.push_back(in[0][p]);
  }
  return {out};
}

Value transpose_fold(const Graph&, const Node& n, const std::vector<Shape>& in, const Values& v, const Shape& out) {
  if (!v[0]) return {};
  const auto perm = n.ints("perm");
  const auto ist = strides(in[0]), ost = strides(out);
  Value r(static_cast<std::size_t>(numel(out)));
  for (std::int64_t k = 0; k < numel(out); ++k) {
    std::int64_t src = 0;
    for (std::size_t d = 0; d < out.size(); ++d) src += (k / ost[d]) % out[d] * ist[static_cast<std::size_t>(perm[d])];
    r[k] = (*v[0])[src];
  }
  return r;
}

std::vector<Shape> flatten(const Graph& g, const Node& n, const std::vector<Shape>& in) {
  const std::int64_t axis = n.i("axis", 1) == static_cast<std::int64_t>(in[0].size()) ? n.i("axis", 1) : axis_of(g, n, n.i("axis", 1), in[0].size());
  std::int64_t outer = 1;
  for (std::int64_t d = 0; d < axis; ++d) outer *= in[0][d];
  return {{outer, numel(in[0]) / outer}};
}

double none(const Node&, const std::vector<Shape>&, const std::vector<Shape>&) { return 0; }

}  // namespace

std::vector<OpSpec> layout_ops() {
  return {
      {"Concat", 1, -1, &concat, &none, nullptr, &concat_fold},
      {"Slice", 1, 5, nullptr, &none, &slice, &slice_fold},
      {"CropLike", 2, 2, &crop_like, &none},
      {"Pad", 1, 2, nullptr, &none, &pad},
      {"Reshape", 1, 2, nullptr, &none, &reshape, &pass_fold},
      {"Transpose", 1, 1, &transpose, &none, nullptr, &transpose_fold},
      {"Flatten", 1, 1, &flatten, &none, nullptr, &pass_fold},
  };
}

}  // namespace yamiro::graph::ops
