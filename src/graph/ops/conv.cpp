// Shapes and FLOPs of Conv, ConvTranspose and Dense.
#include "graph/ops.hpp"
#include "yamiro/error.hpp"
#include "yamiro/error.hpp"

namespace yamiro::graph::ops {
namespace {

std::vector<std::int64_t> pair_of(const Node& n, const char* key, std::int64_t fallback) {
  auto v = n.ints(key, {fallback, fallback});
  if (v.size() != 2) throw Error(ErrorKind::Model, n.name + ": '" + key + "' needs 2 values");
  return v;
}

Shape image(const Graph& g, const Node& n, const Shape& s) {
  if (s.size() != 4) fail(g, &n, "needs an image input [N,C,H,W], got " + shape_text(s));
  return s;
}

std::vector<Shape> conv(const Graph& g, const Node& n, const std::vector<Shape>& in) {
  const Shape x = image(g, n, in[0]);
  const HostTensor& w = n.weight("weight");
  const auto k = pair_of(n, "kernel", 1), st = pair_of(n, "stride", 1), d = pair_of(n, "dilation", 1);
  const std::int64_t group = n.i("group", 1);
  if (w.shape.size() != 4 || w.shape[2] != k[0] || w.shape[3] != k[1]) fail(g, &n, "weight does not match the kernel");
  if (w.shape[1] * group != x[1])
    fail(g, &n, "weights expect " + std::to_string(w.shape[1] * group) + " input channels, the input has " + std::to_string(x[1]));
  auto pads = n.ints("pads", {0, 0, 0, 0});
  const std::string mode = n.s("auto_pad", "none");
  const std::int64_t eh = d[0] * (k[0] - 1) + 1, ew = d[1] * (k[1] - 1) + 1;
  if (mode != "none") {
    const auto ph = same_pads(x[2], eh, st[0], mode == "same_upper");
    const auto pw = same_pads(x[3], ew, st[1], mode == "same_upper");
    pads = {ph.first, pw.first, ph.second, pw.second};
  }
  const std::int64_t h = x[2] + pads[0] + pads[2] - eh, wd = x[3] + pads[1] + pads[3] - ew;
  if (h < 0 || wd < 0) fail(g, &n, "input " + shape_text(x) + " is smaller than the kernel");
  return {{x[0], w.shape[0], h / st[0] + 1, wd / st[1] + 1}};
}

std::vector<Shape> deconv(const Graph& g, const Node& n, const std::vector<Shape>& in) {
  const Shape x = image(g, n, in[0]);
  const HostTensor& w = n.weight("weight");
  const auto k = pair_of(n, "kernel", 1), st = pair_of(n, "stride", 1), d = pair_of(n, "dilation", 1);
  const auto op = pair_of(n, "output_padding", 0);
  const std::int64_t group = n.i("group", 1);
  if (w.shape.size() != 4 || w.shape[2] != k[0] || w.shape[3] != k[1]) fail(g, &n, "weight does not match the kernel");
  if (w.shape[0] != x[1])
    fail(g, &n, "weights expect " + std::to_string(w.shape[0]) + " input channels, the input has " + std::to_string(x[1]));
  const auto pads = n.ints("pads", {0, 0, 0, 0});
  const std::int64_t h = (x[2] - 1) * st[0] + d[0] * (k[0] - 1) + 1 + op[0] - pads[0] - pads[2];
  const std::int64_t wd = (x[3] - 1) * st[1] + d[1] * (k[1] - 1) + 1 + op[1] - pads[1] - pads[3];
  return {{x[0], w.shape[1] * group, h, wd}};
}

std::vector<Shape> dense(const Graph& g, const Node& n, const std::vector<Shape>& in) {
  const HostTensor& w = n.weight("weight");
  const std::int64_t k = numel(in[0]) / in[0][0];
  if (w.shape.size() != 2 || w.shape[1] != k)
    fail(g, &n, "weights take " + std::to_string(w.shape.size() == 2 ? w.shape[1] : 0) + " values, the input " +
                    shape_text(in[0]) + " has " + std::to_string(k));
  return {{in[0][0], w.shape[0]}};
}

double conv_flops(const Node& n, const std::vector<Shape>&, const std::vector<Shape>& out) {
  const auto& w = n.weight("weight").shape;
  return 2.0 * static_cast<double>(numel(out[0])) * static_cast<double>(w[1] * w[2] * w[3]);
}

double deconv_flops(const Node& n, const std::vector<Shape>& in, const std::vector<Shape>&) {
  const auto& w = n.weight("weight").shape;  // [I, O/g, kh, kw]: every input value meets O/g*kh*kw weights
  return 2.0 * static_cast<double>(numel(in[0])) * static_cast<double>(w[1] * w[2] * w[3]);
}

double dense_flops(const Node& n, const std::vector<Shape>& in, const std::vector<Shape>&) {
  return 2.0 * static_cast<double>(in[0][0]) * static_cast<double>(numel(n.weight("weight").shape));
}

}  // namespace

std::vector<OpSpec> conv_ops() {
  return {
      {"Conv", 1, 1, &conv, &conv_flops},
      {"ConvTranspose", 1, 1, &deconv, &deconv_flops},
      {"Dense", 1, 1, &dense, &dense_flops},
  };
}

}  // namespace yamiro::graph::ops
