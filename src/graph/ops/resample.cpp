// Shapes and FLOPs of Resize and PixelShuffle.
#include <cmath>

#include "graph/ops.hpp"
#include "yamiro/error.hpp"

namespace yamiro::graph::ops {
namespace {

std::vector<Shape> resize(const Graph& g, const Node& n, const std::vector<Shape>& in, const Values& v) {
  const Shape& x = in[0];
  if (x.size() != 4) fail(g, &n, "needs an image input [N,C,H,W], got " + shape_text(x));
  auto sizes = n.ints("sizes", {});
  auto scales = n.floats("scales", {});
  if (in.size() == 2) {  // ONNX: sizes or scales of all four axes, from a value
    if (!v[1] || v[1]->size() != 4) fail(g, &n, "its sizes or scales do not follow from the input's shape (or are not 4 values)");
    const Value& d = *v[1];
    if (d[0] != (n.s("dynamic", "") == "sizes" ? static_cast<double>(x[0]) : 1.0) ||
        d[1] != (n.s("dynamic", "") == "sizes" ? static_cast<double>(x[1]) : 1.0))
      fail(g, &n, "resizes the batch or channel axis");
    if (n.s("dynamic", "") == "sizes") {
      for (int a = 2; a < 4; ++a)  // checked as doubles: a cast of an absurd value is undefined
        if (!(d[a] >= 1 && d[a] <= (1 << 24))) fail(g, &n, "computes a size of " + std::to_string(d[a]));
      sizes = {static_cast<std::int64_t>(d[2]), static_cast<std::int64_t>(d[3])};
    } else {
      scales = {d[2], d[3]};
    }
  }
  if (sizes.size() == 2) {
    for (auto s : sizes)
      if (s < 1 || s > (1 << 24)) fail(g, &n, "size " + std::to_string(s) + " out of range");
    return {{x[0], x[1], sizes[0], sizes[1]}};
  }
  if (scales.size() != 2 || !(scales[0] > 0) || !(scales[1] > 0) || scales[0] > 64 || scales[1] > 64)
    fail(g, &n, "needs scales or sizes");
  if (n.attrs.count("roi")) {  // ONNX tf_crop_and_resize: floor(in * (end - start) * scale)
    const auto roi = n.floats("roi", {});
    if (roi.size() != 4) fail(g, &n, "roi needs 4 values");
    Shape out = x;
    for (int a = 0; a < 2; ++a) {
      const double d = std::floor(static_cast<double>(x[2 + a]) * (roi[a + 2] - roi[a]) * scales[a]);
      if (!(d >= 1) || d > (1 << 24)) fail(g, &n, "makes a size of " + std::to_string(d) + " from " + shape_text(x));
      out[2 + a] = static_cast<std::int64_t>(d);
    }
    return {out};
  }
  // In single precision, as the frontends' runtimes compute it.
  const auto h = static_cast<std::int64_t>(static_cast<float>(x[2]) * static_cast<float>(scales[0]));
  const auto w = static_cast<std::int64_t>(static_cast<float>(x[3]) * static_cast<float>(scales[1]));
  return {{x[0], x[1], h, w}};
}

std::vector<Shape> pixel_shuffle(const Graph& g, const Node& n, const std::vector<Shape>& in) {
  const Shape& x = in[0];
  const std::int64_t r = n.i("factor");
  if (x.size() != 4 || r < 1 || r > 16 || x[1] % (r * r) != 0)
    fail(g, &n, "factor " + std::to_string(r) + " does not divide the channels of " + shape_text(x));
  return {{x[0], x[1] / (r * r), x[2] * r, x[3] * r}};
}

double resize_flops(const Node& n, const std::vector<Shape>&, const std::vector<Shape>& out) {
  const std::string mode = n.s("mode", "nearest");
  const double taps = mode == "bicubic" ? 16 : mode == "bilinear" ? 4 : 0;
  return 2 * taps * static_cast<double>(numel(out[0]));
}

double none(const Node&, const std::vector<Shape>&, const std::vector<Shape>&) { return 0; }

}  // namespace

std::vector<OpSpec> resample_ops() {
  return {
      {"Resize", 1, 2, nullptr, &resize_flops, &resize},
      {"PixelShuffle", 1, 1, &pixel_shuffle, &none},
  };
}

}  // namespace yamiro::graph::ops
