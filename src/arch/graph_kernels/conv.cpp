// ATen kernels of Conv, ConvTranspose, Dense, Pool and GlobalPool.
#include <algorithm>
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

// The transposed convolution through its sub-pixel convolution (subpixel_weight): output
// phase (ry, rx) of position (m, n) is a K x K correlation of the input padded by K-1, so the
// full result is conv2d -> pixel_shuffle; rows past the full size are zeros, which is what
// output padding adds; then the pads are cut and the bias added.
at::Tensor deconv_subpixel(const Node& n, const at::Tensor& x, const at::Tensor& c, const at::Tensor* bias) {
  const auto op = n.ints("output_padding", {0, 0}), p = n.ints("pads", {0, 0, 0, 0}), k = n.ints("kernel");
  const std::int64_t s = n.ints("stride", {1, 1})[0], kk = c.size(2);
  const std::int64_t oh = (x.size(2) - 1) * s + k[0] + op[0] - p[0] - p[2], ow = (x.size(3) - 1) * s + k[1] + op[1] - p[1] - p[3];
  const std::int64_t bh = s * (x.size(2) + kk - 1), bw = s * (x.size(3) + kk - 1);  // what the conv makes
  const bool fits = p[0] + oh <= bh && p[1] + ow <= bw;
  at::Tensor cb;
  if (bias && fits) cb = bias->repeat_interleave(s * s);
  at::Tensor y = at::pixel_shuffle(at::conv2d(x, c, cb, 1, kk - 1), s);
  if (!fits) y = at::constant_pad_nd(y, {0, std::max<std::int64_t>(0, p[1] + ow - bw), 0, std::max<std::int64_t>(0, p[0] + oh - bh)}, 0.0);
  y = y.narrow(2, p[0], oh).narrow(3, p[1], ow);
  if (bias && !fits) y = y + bias->view({1, -1, 1, 1});
  return y;
}

std::vector<at::Tensor> deconv(const Node& n, const std::vector<at::Tensor>& in, const DeviceWeights& w) {
  const auto st = n.ints("stride", {1, 1}), d = n.ints("dilation", {1, 1});
  const auto op = n.ints("output_padding", {0, 0}), p = n.ints("pads", {0, 0, 0, 0});
  const at::Tensor* b = bias_of(w);
  if (const auto sp = w.find("subpixel"); sp != w.end()) return {deconv_subpixel(n, in[0], sp->second, b)};
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

at::Tensor subpixel_weight(const Node& n, const at::Tensor& weight) {
  if (n.op != "ConvTranspose" || n.i("group", 1) != 1 || n.ints("dilation", {1, 1}) != std::vector<std::int64_t>{1, 1}) return {};
  const auto st = n.ints("stride", {1, 1});
  if (st[0] != st[1] || st[0] < 2 || weight.dim() != 4) return {};
  const std::int64_t s = st[0], in = weight.size(0), out = weight.size(1), kh = weight.size(2), kw = weight.size(3);
  const std::int64_t k = (std::max(kh, kw) + s - 1) / s;
  // w zero-extended to K*s taps; C[o][ry][rx][i][ty][tx] = w[i][o][s(K-1-ty)+ry][s(K-1-tx)+rx].
  at::Tensor wz = at::zeros({in, out, k * s, k * s}, weight.options());
  wz.narrow(2, 0, kh).narrow(3, 0, kw).copy_(weight);
  return wz.view({in, out, k, s, k, s}).flip({2, 4}).permute({1, 3, 5, 0, 2, 4}).reshape({out * s * s, in, k, k}).contiguous();
}

std::vector<KernelEntry> conv_kernels() {
  return {{"Conv", &conv}, {"ConvTranspose", &deconv}, {"Dense", &dense}, {"Pool", &pool}, {"GlobalPool", &global_pool}};
}

}  // namespace yamiro::graph::kernels
