// ATen kernels of Conv, ConvTranspose, Dense, Pool and GlobalPool.
#include <limits>

#include "arch/graph_kernels.hpp"
#include "graph/ops.hpp"

namespace yamiro::graph::kernels {
namespace {

const at::Tensor* bias_of(const DeviceWeights& w) {
  const auto it = w.find("bias");
  return it == w.end() ? nullptr : &it->second;
}

// pads [t,l,b,r] for an input, resolving auto_pad.
std::vector<std::int64_t> resolve_pads(const Node& n, const at::Tensor& x, std::int64_t eh, std::int64_t ew,
                                       const std::vector<std::int64_t>& st) {
  auto pads = n.ints("pads", {0, 0, 0, 0});
  const std::string mode = n.s("auto_pad", "none");
  if (mode == "same_upper" || mode == "same_lower") {
    const auto ph = same_pads(x.size(2), eh, st[0], mode == "same_upper");
    const auto pw = same_pads(x.size(3), ew, st[1], mode == "same_upper");
    pads = {ph.first, pw.first, ph.second, pw.second};
  }
  return pads;
}

at::Tensor pad_tlbr(const at::Tensor& x, const std::vector<std::int64_t>& p, double value) {
  if (p[0] == 0 && p[1] == 0 && p[2] == 0 && p[3] == 0) return x;
  return at::constant_pad_nd(x, {p[1], p[3], p[0], p[2]}, value);
}

std::vector<at::Tensor> conv(const Node& n, const std::vector<at::Tensor>& in, const DeviceWeights& w) {
  const at::Tensor& weight = w.at("weight");
  const auto st = n.ints("stride", {1, 1}), d = n.ints("dilation", {1, 1}), k = n.ints("kernel");
  const auto p = resolve_pads(n, in[0], d[0] * (k[0] - 1) + 1, d[1] * (k[1] - 1) + 1, st);
  at::Tensor x = in[0];
  std::vector<std::int64_t> sym{0, 0};
  if (p[0] == p[2] && p[1] == p[3] && n.f("pad_value", 0) == 0) sym = {p[0], p[1]};
  else x = pad_tlbr(x, p, n.f("pad_value", 0));
  const at::Tensor* b = bias_of(w);
  return {at::conv2d(x, weight, b ? *b : at::Tensor(), st, sym, d, n.i("group", 1))};
}

std::vector<at::Tensor> deconv(const Node& n, const std::vector<at::Tensor>& in, const DeviceWeights& w) {
  const auto st = n.ints("stride", {1, 1}), d = n.ints("dilation", {1, 1});
  const auto op = n.ints("output_padding", {0, 0}), p = n.ints("pads", {0, 0, 0, 0});
  const at::Tensor* b = bias_of(w);
  const bool plain = op[0] == 0 && op[1] == 0 && p[0] == p[2] && p[1] == p[3];
  if (plain) return {at::conv_transpose2d(in[0], w.at("weight"), b ? *b : at::Tensor(), st, {p[0], p[1]}, 0, n.i("group", 1), d)};
  // Asymmetric cuts and output padding: the full result, the padding (bias only), then the cut.
  at::Tensor y = at::conv_transpose2d(in[0], w.at("weight"), at::Tensor(), st, 0, 0, n.i("group", 1), d);
  if (op[0] || op[1]) y = at::constant_pad_nd(y, {0, op[1], 0, op[0]}, 0.0);
  if (b) y = y + b->view({1, -1, 1, 1});
  return {y.narrow(2, p[0], y.size(2) - p[0] - p[2]).narrow(3, p[1], y.size(3) - p[1] - p[3])};
}

std::vector<at::Tensor> dense(const Node&, const std::vector<at::Tensor>& in, const DeviceWeights& w) {
  const at::Tensor* b = bias_of(w);
  return {at::linear(in[0].flatten(1), w.at("weight"), b ? *b : at::Tensor())};
}

std::vector<at::Tensor> pool(const Node& n, const std::vector<at::Tensor>& in, const DeviceWeights&) {
  const auto k = n.ints("kernel"), st = n.ints("stride", {1, 1});
  const at::Tensor& x = in[0];
  auto p = resolve_pads(n, x, k[0], k[1], st);
  if (n.s("auto_pad", "none") == "ceil")
    for (int a = 0; a < 2; ++a) {
      const std::int64_t tail = (x.size(2 + a) + p[a] + p[a + 2] - k[a]) % st[a];
      if (tail != 0) p[a + 2] += st[a] - tail;
    }
  const bool max = n.s("mode", "max") == "max";
  if (max) return {at::max_pool2d(pad_tlbr(x, p, -std::numeric_limits<float>::max()), k, st)};
  at::Tensor sum = at::avg_pool2d(pad_tlbr(x, p, 0.0), k, st);
  if (n.i("count_include_pad", 0)) return {sum};
  // Divide by the real values under each window, not the window size.
  const at::Tensor ones = at::ones({1, 1, x.size(2), x.size(3)}, x.options());
  return {sum / at::avg_pool2d(pad_tlbr(ones, p, 0.0), k, st)};
}

std::vector<at::Tensor> global_pool(const Node& n, const std::vector<at::Tensor>& in, const DeviceWeights&) {
  const bool keep = n.i("keepdims", 0) != 0;
  if (n.s("mode", "avg") == "max") return {at::amax(in[0], {2, 3}, keep)};
  return {at::mean(in[0], {2, 3}, keep)};
}

}  // namespace

std::vector<KernelEntry> conv_kernels() {
  return {{"Conv", &conv}, {"ConvTranspose", &deconv}, {"Dense", &dense}, {"Pool", &pool}, {"GlobalPool", &global_pool}};
}

}  // namespace yamiro::graph::kernels
