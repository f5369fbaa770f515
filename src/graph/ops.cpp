#include "graph/ops.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "yamiro/error.hpp"

namespace yamiro::graph {
namespace {

const std::map<std::string, OpSpec>& table() {
  static const std::map<std::string, OpSpec> t = [] {
    std::map<std::string, OpSpec> m;
    for (auto group : {&ops::conv_ops, &ops::pool_ops, &ops::elementwise_ops, &ops::layout_ops, &ops::resample_ops,
                       &ops::tensor_ops, &ops::math_ops})
      for (const OpSpec& s : group()) m.emplace(s.name, s);
    return m;
  }();
  return t;
}

}  // namespace

const OpSpec* find_op(const std::string& op) {
  const auto it = table().find(op);
  return it == table().end() ? nullptr : &it->second;
}

std::vector<std::string> op_names() {
  std::vector<std::string> out;
  for (const auto& [k, v] : table()) out.push_back(k);
  return out;
}

std::int64_t numel(const Shape& s) {
  std::int64_t n = 1;
  for (auto d : s) n *= d;
  return n;
}

std::string shape_text(const Shape& s) {
  std::string out = "[";
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? "," : "") + std::to_string(s[i]);
  return out + "]";
}

std::pair<std::int64_t, std::int64_t> same_pads(std::int64_t in, std::int64_t extent, std::int64_t stride, bool upper) {
  const std::int64_t total = std::max<std::int64_t>(0, extent + (in - 1) / stride * stride - in);
  return upper ? std::make_pair(total / 2, total - total / 2) : std::make_pair(total - total / 2, total / 2);
}

std::vector<std::int64_t> value_ints(const Graph& g, const Node& n, const Values& v, std::size_t k, const char* what) {
  if (k >= v.size() || !v[k]) fail(g, &n, std::string("its ") + what + " (input " + std::to_string(k) + ") does not follow from the input's shape");
  std::vector<std::int64_t> out;
  for (double d : *v[k]) {
    if (std::isnan(d)) fail(g, &n, std::string("its ") + what + " (input " + std::to_string(k) + ") is not a number");
    out.push_back(d >= 9.2e18 ? std::int64_t{9200000000000000000} : d <= -9.2e18 ? -std::int64_t{9200000000000000000} : static_cast<std::int64_t>(d));
  }
  return out;
}

std::int64_t norm_axis(const Graph& g, const Node& n, std::int64_t axis, std::size_t rank) {
  const auto r = static_cast<std::int64_t>(rank);
  if (axis < -r || axis >= r) fail(g, &n, "axis " + std::to_string(axis) + " out of range for rank " + std::to_string(rank));
  return axis < 0 ? axis + r : axis;
}

std::int64_t broadcast_index(const Shape& in, const Shape& out, std::int64_t k) {
  std::int64_t src = 0, stride = 1, rest = k;
  const std::size_t off = out.size() - in.size();
  for (std::size_t d = out.size(); d-- > 0;) {
    const std::int64_t pos = rest % out[d];
    rest /= out[d];
    if (d >= off) {
      const std::int64_t size = in[d - off];
      if (size != 1) src += pos * stride;
      stride *= size;
    }
  }
  return src;
}

bool has_folding(const Graph& g) {
  for (const auto& n : g.nodes)
    if (n.op == "Constant" || n.op == "ShapeOf") return true;
  return false;
}

std::map<std::string, Shape> infer_shapes(const Graph& g, const std::vector<Shape>& inputs) { return infer(g, inputs).shapes; }

Inferred infer(const Graph& g, const std::vector<Shape>& inputs) {
  if (inputs.size() != g.inputs.size()) fail(g, nullptr, "wrong number of input shapes");
  Inferred r;
  auto& shapes = r.shapes;
  for (std::size_t i = 0; i < inputs.size(); ++i) shapes[g.inputs[i]] = inputs[i];
  for (const auto& n : g.nodes) {
    const OpSpec* spec = find_op(n.op);
    if (!spec) fail(g, &n, "unknown op");
    std::vector<Shape> in;
    Values vals;
    for (const auto& b : n.inputs) {
      const auto it = shapes.find(b);
      if (it == shapes.end()) fail(g, &n, "reads blob '" + b + "' before anything makes it");
      in.push_back(it->second);
      const auto v = r.values.find(b);
      vals.push_back(v == r.values.end() ? nullptr : &v->second);
    }
    auto out = spec->infer_values ? spec->infer_values(g, n, in, vals) : spec->infer(g, n, in);
    if (out.size() != n.outputs.size()) fail(g, &n, "makes " + std::to_string(out.size()) + " outputs, the file lists " +
                                                      std::to_string(n.outputs.size()));
    for (std::size_t k = 0; k < out.size(); ++k) {
      for (auto d : out[k])
        if (d <= 0 || d > (1 << 24)) fail(g, &n, "its output shape " + shape_text(out[k]) + " cannot be made from " +
                                                     (in.empty() ? std::string("nothing") : shape_text(in[0])));
      // At most 2^40 values a blob (and rank 8): numel() of any blob cannot overflow.
      double total = 1;
      for (auto d : out[k]) total *= static_cast<double>(d);
      if (out[k].size() > 8 || total > 1099511627776.0) fail(g, &n, "its output shape " + shape_text(out[k]) + " is too large");
      shapes[n.outputs[k]] = out[k];
    }
    if (spec->fold && out.size() == 1 && numel(out[0]) <= kMaxFoldValues) {
      Value v = spec->fold(g, n, in, vals, out[0]);
      if (!v.empty()) {
        if (static_cast<std::int64_t>(v.size()) != numel(out[0])) fail(g, &n, "folded to the wrong number of values");
        r.values[n.outputs[0]] = std::move(v);
      }
    }
  }
  return r;
}

int valid_input_side(const ArchInfo& info, int side) {
  const int m = std::max(1, info.input_multiple);
  int n = side + 2 * info.shrink;
  n += ((info.input_remainder - n % m) % m + m) % m;
  return n;
}

Cost cost(const Graph& g, int h, int w) {
  const auto shapes = infer_shapes(g, {{1, g.input_channels.at(0), h, w}});
  Cost c;
  std::map<std::string, std::size_t> last;
  for (std::size_t i = 0; i < g.nodes.size(); ++i)
    for (const auto& b : g.nodes[i].inputs) last[b] = i;
  std::int64_t live = numel(shapes.at(g.inputs.at(0))) * 4;
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    for (const auto& b : n.outputs) live += numel(shapes.at(b)) * 4;
    c.peak_live_bytes = std::max(c.peak_live_bytes, live);
    for (const auto& b : n.inputs)
      if (last.at(b) == i) live -= numel(shapes.at(b)) * 4, last[b] = g.nodes.size();  // freed once
  }
  for (const auto& n : g.nodes) {
    std::vector<Shape> in, out;
    for (const auto& b : n.inputs) in.push_back(shapes.at(b));
    for (const auto& b : n.outputs) out.push_back(shapes.at(b));
    c.flops += find_op(n.op)->flops(n, in, out);
    for (const auto& s : out) {
      const std::int64_t bytes = numel(s) * 4;
      c.bytes += static_cast<double>(bytes);
      c.peak_blob_bytes = std::max(c.peak_blob_bytes, bytes);
    }
  }
  c.bytes += 4.0 * static_cast<double>(g.weight_count());
  return c;
}

Contract probe(const Graph& g) {
  if (g.inputs.size() != 1) fail(g, nullptr, "the shape probe needs exactly one input");
  Contract c;
  // Image-global: a global pool, instance norm, and a Resize whose sample positions follow the
  // whole input's size (align_corners maps by (in - 1) / (out - 1); tf_crop_and_resize by the
  // roi of the image), so that a tile samples other positions than the whole image does.
  for (const auto& n : g.nodes)
    c.global_reduction = c.global_reduction || n.op == "GlobalPool" || n.op == "InstanceNorm" ||
                         (n.op == "Resize" && (n.i("align_corners", 0) != 0 || n.attrs.count("roi") > 0));
  constexpr int kFirst = 128, kCount = 48;
  // Output side per input side (0 = no image output), then the smallest grid (multiple,
  // remainder) on which the output is exactly scale * (n - 2 * shrink): strided layers
  // floor odd sizes, so off the grid a graph may run but lose pixels.
  std::vector<std::int64_t> out(kCount, 0);
  std::string last_error;
  for (int i = 0; i < kCount; ++i) {
    try {
      const auto shapes = infer_shapes(g, {{1, g.input_channels.at(0), kFirst + i, kFirst + i}});
      const Shape& o = shapes.at(g.outputs.at(0));
      if (o.size() == 4 && o[0] == 1 && o[2] == o[3]) out[i] = o[2];
      else last_error = "the output " + shape_text(o) + " is not an image";
    } catch (const Error& e) {
      last_error = e.what();
    }
  }
  for (int m = 1; m <= 16; ++m)
    for (int r = 0; r < m; ++r) {
      std::vector<int> grid;
      for (int i = 0; i < kCount; ++i)
        if ((kFirst + i) % m == r) grid.push_back(i);
      if (grid.size() < 2 || std::any_of(grid.begin(), grid.end(), [&](int i) { return out[i] == 0; })) continue;
      const std::int64_t n0 = kFirst + grid.front(), n1 = kFirst + grid.back(), o0 = out[grid.front()], o1 = out[grid.back()];
      if ((o1 - o0) % (n1 - n0) != 0) continue;
      const std::int64_t s = (o1 - o0) / (n1 - n0), lost = s * n0 - o0;
      if (s < 1 || s > 16 || lost < 0 || lost % (2 * s) != 0) continue;
      if (std::any_of(grid.begin(), grid.end(), [&](int i) { return out[i] != s * (kFirst + i) - lost; })) continue;
      c.scale = static_cast<int>(s);
      c.shrink = static_cast<int>(lost / (2 * s));
      c.multiple = m;
      c.remainder = r;
      // Strides: how much slower each image blob grows than the input, on the grid.
      const auto a = infer_shapes(g, {{1, g.input_channels.at(0), n0, n0}});
      const auto b = infer_shapes(g, {{1, g.input_channels.at(0), n0 + 16 * m, n0 + 16 * m}});
      // Reductions over axes whose extent grows with the image (a mean over H*W tokens,
      // attention over the whole image) make the output depend on all of it.
      for (const auto& n : g.nodes) {
        if (n.inputs.empty()) continue;
        const Shape &ia = a.at(n.inputs[0]), &ib = b.at(n.inputs[0]);
        std::vector<std::int64_t> axes;
        if (n.op == "Reduce") {
          axes = n.ints("axes", {});
          if (axes.empty())
            for (std::size_t d = 0; d < ia.size(); ++d) axes.push_back(static_cast<std::int64_t>(d));
        } else if (n.op == "Softmax") {
          axes = {n.i("axis")};
        } else if (n.op == "MatMul") {
          axes = {-1};
        } else if (n.op == "LayerNorm") {
          for (std::int64_t d = norm_axis(g, n, n.i("axis", -1), ia.size()); d < static_cast<std::int64_t>(ia.size()); ++d) axes.push_back(d);
        }
        for (auto ax : axes) {
          const std::int64_t d = norm_axis(g, n, ax, ia.size());
          if (d > 0 && ia[d] != ib[d]) c.global_reduction = true;
        }
      }
      for (const auto& [blob, sa] : a) {
        const Shape& sb = b.at(blob);
        if (sa.size() != 4 || sb[2] <= sa[2]) continue;
        const std::int64_t grow = sb[2] - sa[2];
        if ((16 * m) % grow == 0) c.align = std::lcm(c.align, static_cast<int>(16 * m / grow));
      }
      return c;
    }
  if (last_error.empty()) last_error = "the output is not scale x (input - 2 x a whole border) on any grid";
  fail(g, nullptr, "no input size gives an image output of a whole scale 1..16 (" + last_error + ")");
}

}  // namespace yamiro::graph
