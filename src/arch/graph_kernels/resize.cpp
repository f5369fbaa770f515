// ATen kernel of Resize: ncnn's Interp (scales or sizes, ATen's upsampling) and ONNX's
// Resize in all its forms. ONNX's linear / cubic in the coordinate modes ATen has
// (half_pixel, pytorch_half_pixel, align_corners; cubic with a = -0.75, no exclude_outside)
// run on ATen's upsampling; everything else (nearest in every coordinate and rounding mode,
// asymmetric / tf_half_pixel_for_nn / half_pixel_symmetric / tf_crop_and_resize, other cubic
// coefficients, exclude_outside) on per-axis taps: each output position is a weighted sum
// of 1, 2 or 4 input positions, one index_select per tap, as the ONNX specification
// defines them (edge values beyond the border unless exclude_outside drops them).
#include <algorithm>
#include <array>
#include <cmath>

#include "arch/graph_kernels.hpp"
#include "yamiro/error.hpp"

namespace yamiro::graph::kernels {
namespace {

using Ins = std::vector<at::Tensor>;

[[noreturn]] void bad(const Node& n, const std::string& why) { throw Error(ErrorKind::Model, "Resize '" + n.name + "': " + why); }

// ONNX's coordinate transformation of output position o on an axis of in -> out at `scale`
// (roi [start, end] for tf_crop_and_resize).
double source_coord(const std::string& coord, double o, std::int64_t in, std::int64_t out, double scale, double start, double end) {
  const auto fin = static_cast<double>(in), fout = static_cast<double>(out);
  if (coord == "half_pixel") return (o + 0.5) / scale - 0.5;
  if (coord == "pytorch_half_pixel") return out > 1 ? (o + 0.5) / scale - 0.5 : 0.0;
  if (coord == "align_corners") return out == 1 ? 0.0 : o * (fin - 1) / (fout - 1);
  if (coord == "tf_half_pixel_for_nn") return (o + 0.5) / scale;
  if (coord == "half_pixel_symmetric") {
    const double adjustment = fout / (scale * fin);
    const double offset = fin / 2 * (1 - adjustment);
    return offset + (o + 0.5) / scale - 0.5;
  }
  if (coord == "tf_crop_and_resize")
    return out > 1 ? start * (fin - 1) + o * (end - start) * (fin - 1) / (fout - 1) : 0.5 * (start + end) * (fin - 1);
  return o / scale;  // asymmetric
}

double nearest_position(const std::string& mode, double x) {
  if (mode == "floor") return std::floor(x);
  if (mode == "ceil") return std::ceil(x);
  if (mode == "round_prefer_ceil") return std::floor(x + 0.5);
  return std::ceil(x - 0.5);  // round_prefer_floor
}

// Keys's cubic convolution weights of the 4 taps around a point at r in [0, 1).
std::array<double, 4> cubic_weights(double r, double a) {
  auto near = [a](double t) { return ((a + 2) * t - (a + 3)) * t * t + 1; };
  auto far = [a](double t) { return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a; };
  return {far(r + 1), near(r), near(1 - r), far(2 - r)};
}

// The taps of one axis: tap k of output o reads input idx[k][o] with weight w[k][o].
struct Taps {
  std::vector<std::vector<std::int64_t>> idx;
  std::vector<std::vector<float>> w;
  std::vector<std::int64_t> outside;  // outputs tf_crop_and_resize fills with the extrapolation value
};

Taps axis_taps(const Node& n, std::int64_t in, std::int64_t out, double scale, double start, double end) {
  const std::string mode = n.s("mode", "nearest"), coord = n.s("coord", "half_pixel");
  const std::string rounding = n.s("nearest", "round_prefer_floor");
  const bool exclude = n.i("exclude_outside", 0) != 0;
  const double a = n.f("cubic_a", -0.75);
  const std::size_t count = mode == "nearest" ? 1 : mode == "bilinear" ? 2 : 4;
  Taps t;
  t.idx.assign(count, std::vector<std::int64_t>(static_cast<std::size_t>(out), 0));
  t.w.assign(count, std::vector<float>(static_cast<std::size_t>(out), 0.0f));
  for (std::int64_t o = 0; o < out; ++o) {
    const double x = source_coord(coord, static_cast<double>(o), in, out, scale, start, end);
    if (coord == "tf_crop_and_resize" && (x < 0 || x > static_cast<double>(in - 1))) {
      t.outside.push_back(o);
      continue;
    }
    if (count == 1) {
      t.idx[0][o] = std::clamp(static_cast<std::int64_t>(nearest_position(rounding, x)), std::int64_t{0}, in - 1);
      t.w[0][o] = 1;
      continue;
    }
    const double base = std::floor(x), r = x - base;
    std::array<double, 4> w{1 - r, r, 0, 0};
    auto first = static_cast<std::int64_t>(base);
    if (count == 4) w = cubic_weights(r, a), first -= 1;
    if (exclude) {
      double sum = 0;
      for (std::size_t k = 0; k < count; ++k) {
        const std::int64_t i = first + static_cast<std::int64_t>(k);
        if (i < 0 || i >= in) w[k] = 0;
        sum += w[k];
      }
      if (sum != 0)  // all taps outside cannot happen for the modes above; zeros rather than NaN
        for (std::size_t k = 0; k < count; ++k) w[k] /= sum;
    }
    for (std::size_t k = 0; k < count; ++k) {
      t.idx[k][o] = std::clamp(first + static_cast<std::int64_t>(k), std::int64_t{0}, in - 1);
      t.w[k][o] = static_cast<float>(w[k]);
    }
  }
  return t;
}

at::Tensor apply_taps(const at::Tensor& x, std::int64_t axis, const Taps& t, double extrapolation) {
  const auto out = static_cast<std::int64_t>(t.idx[0].size());
  std::vector<std::int64_t> view(4, 1);
  view[static_cast<std::size_t>(axis)] = out;
  const auto longs = at::TensorOptions().dtype(at::kLong);
  at::Tensor y;
  for (std::size_t k = 0; k < t.idx.size(); ++k) {
    at::Tensor v = x.index_select(axis, at::tensor(t.idx[k], longs).to(x.device()));
    if (t.idx.size() > 1) v = v * at::tensor(t.w[k], at::TensorOptions().dtype(at::kFloat)).to(x.options()).view(view);
    y = k == 0 ? v : y + v;
  }
  if (!t.outside.empty()) y.index_fill_(axis, at::tensor(t.outside, longs).to(x.device()), extrapolation);
  return y;
}

// The ONNX Resize: sizes or scales from attributes or a value input, every coordinate mode.
Ins resize_onnx(const Node& n, const Ins& in) {
  const at::Tensor& x = in[0];
  std::vector<std::int64_t> size = n.ints("sizes", {});
  std::vector<double> scales = n.floats("scales", {});
  const std::vector<double> roi = n.floats("roi", {0, 0, 1, 1});  // [h0, w0, h1, w1]
  if (roi.size() != 4) bad(n, "roi needs 4 values");
  if (in.size() == 2) {
    const auto t = in[1].to(at::kCPU, at::kDouble).contiguous();
    const double* p = t.data_ptr<double>();
    if (n.s("dynamic", "") == "sizes") size = {static_cast<std::int64_t>(p[2]), static_cast<std::int64_t>(p[3])};
    else scales = {p[2], p[3]};
  }
  if (size.size() != 2) {
    if (scales.size() != 2) bad(n, "needs scales or sizes");
    size.clear();
    for (int a = 0; a < 2; ++a) {
      const double extent = roi[a + 2] - roi[a];
      // In single precision as the runtimes compute it; with a roi, floor(in * extent * scale).
      size.push_back(n.attrs.count("roi") ? static_cast<std::int64_t>(std::floor(static_cast<double>(x.size(2 + a)) * extent * scales[a]))
                                          : static_cast<std::int64_t>(static_cast<float>(x.size(2 + a)) * static_cast<float>(scales[a])));
    }
  }
  if (scales.size() != 2)
    scales = {static_cast<double>(size[0]) / static_cast<double>(x.size(2)), static_cast<double>(size[1]) / static_cast<double>(x.size(3))};
  const std::string mode = n.s("mode", "nearest"), coord = n.s("coord", "half_pixel");
  if (mode != "nearest" && mode != "bilinear" && mode != "bicubic") bad(n, "unknown mode '" + mode + "'");
  const bool corners = coord == "align_corners";
  const bool aten = mode != "nearest" && (corners || coord == "half_pixel" || (coord == "pytorch_half_pixel" && size[0] > 1 && size[1] > 1)) &&
                    n.i("exclude_outside", 0) == 0 && (mode == "bilinear" || n.f("cubic_a", -0.75) == -0.75);
  if (aten) {
    const c10::optional<double> sh = corners ? c10::nullopt : c10::optional<double>(scales[0]);
    const c10::optional<double> sw = corners ? c10::nullopt : c10::optional<double>(scales[1]);
    if (mode == "bilinear") return {at::upsample_bilinear2d(x, size, corners, sh, sw)};
    return {at::upsample_bicubic2d(x, size, corners, sh, sw)};
  }
  at::Tensor y = x;
  for (int a = 0; a < 2; ++a)
    y = apply_taps(y, 2 + a, axis_taps(n, x.size(2 + a), size[a], scales[a], roi[a], roi[a + 2]), n.f("extrapolation", 0));
  return {y};
}

Ins resize(const Node& n, const Ins& in, const DeviceWeights&) {
  if (n.attrs.count("coord")) return resize_onnx(n, in);
  const at::Tensor& x = in[0];
  const std::string mode = n.s("mode", "nearest");
  const bool corners = n.i("align_corners", 0) != 0;
  std::vector<std::int64_t> size = n.ints("sizes", {});
  c10::optional<double> sh, sw;
  if (size.size() != 2) {
    const auto s = n.floats("scales", {});
    size = {static_cast<std::int64_t>(static_cast<float>(x.size(2)) * static_cast<float>(s[0])),
            static_cast<std::int64_t>(static_cast<float>(x.size(3)) * static_cast<float>(s[1]))};
    // Source positions step by 1/scale, as in the frontends' runtimes (not in/out).
    sh = s[0];
    sw = s[1];
  }
  if (mode == "nearest") return {at::upsample_nearest2d(x, size, sh, sw)};
  if (mode == "bilinear") return {at::upsample_bilinear2d(x, size, corners, sh, sw)};
  if (mode == "bicubic") return {at::upsample_bicubic2d(x, size, corners, sh, sw)};
  bad(n, "unknown mode '" + mode + "'");
}

}  // namespace

std::vector<KernelEntry> resize_kernels() { return {{"Resize", &resize}}; }

}  // namespace yamiro::graph::kernels
