// Shapes and FLOPs of Pool and GlobalPool.
#include "graph/ops.hpp"
#include "yamiro/error.hpp"

namespace yamiro::graph::ops {
namespace {

std::vector<Shape> pool(const Graph& g, const Node& n, const std::vector<Shape>& in) {
  const Shape& x = in[0];
  if (x.size() != 4) fail(g, &n, "needs an image input [N,C,H,W], got " + shape_text(x));
  const auto k = n.ints("kernel"), st = n.ints("stride", {1, 1});
  const auto pads = n.ints("pads", {0, 0, 0, 0});
  if (k.size() != 2 || st.size() != 2 || pads.size() != 4 || k[0] < 1 || k[1] < 1 || st[0] < 1 || st[1] < 1)
    fail(g, &n, "bad kernel, stride or pads");
  const std::string mode = n.s("auto_pad", "none");
  std::int64_t out[2];
  for (int a = 0; a < 2; ++a) {
    const std::int64_t size = x[2 + a];
    std::int64_t padded = size + pads[a] + pads[a + 2];
    if (mode == "same_upper" || mode == "same_lower") {
      const auto p = same_pads(size, k[a], st[a], mode == "same_upper");
      padded = size + p.first + p.second;
    }
    if (padded < k[a]) fail(g, &n, "input " + shape_text(x) + " is smaller than the window");
    std::int64_t span = padded - k[a];
    if (mode == "ceil" && span % st[a] != 0) span += st[a] - span % st[a];  // the tail is padded to a whole step
    out[a] = span / st[a] + 1;
  }
  return {{x[0], x[1], out[0], out[1]}};
}

std::vector<Shape> global_pool(const Graph& g, const Node& n, const std::vector<Shape>& in) {
  const Shape& x = in[0];
  if (x.size() != 4) fail(g, &n, "needs an image input [N,C,H,W], got " + shape_text(x));
  if (n.i("keepdims", 0)) return {{x[0], x[1], 1, 1}};
  return {{x[0], x[1]}};
}

double pool_flops(const Node& n, const std::vector<Shape>&, const std::vector<Shape>& out) {
  const auto k = n.ints("kernel");
  return static_cast<double>(numel(out[0]) * k[0] * k[1]);
}

double global_flops(const Node&, const std::vector<Shape>& in, const std::vector<Shape>&) {
  return static_cast<double>(numel(in[0]));
}

}  // namespace

std::vector<OpSpec> pool_ops() {
  return {
      {"Pool", 1, 1, &pool, &pool_flops},
      {"GlobalPool", 1, 1, &global_pool, &global_flops},
  };
}

}  // namespace yamiro::graph::ops
