// ATen kernels of the layout and resampling ops.
#include <algorithm>

#include "arch/graph_kernels.hpp"
#include "yamiro/error.hpp"

namespace yamiro::graph::kernels {
namespace {

using Ins = std::vector<at::Tensor>;

Ins concat(const Node& n, const Ins& in, const DeviceWeights&) { return {at::cat(in, n.i("axis"))}; }

Ins slice(const Node& n, const Ins& in, const DeviceWeights&) {
  const auto axes = n.ints("axes"), starts = n.ints("starts"), ends = n.ints("ends");
  const auto lens = n.ints("max_lengths", std::vector<std::int64_t>(axes.size(), kSliceEnd));
  at::Tensor x = in[0];
  for (std::size_t i = 0; i < axes.size(); ++i) {
    const std::int64_t size = x.size(axes[i]);
    const std::int64_t b = std::clamp(starts[i] < 0 ? size + starts[i] : starts[i], std::int64_t{0}, size);
    const std::int64_t e = ends[i] == kSliceEnd ? size : std::clamp(ends[i] < 0 ? size + ends[i] : ends[i], std::int64_t{0}, size);
    x = x.narrow(axes[i], b, std::min(e - b, lens[i]));
  }
  return {x};
}

Ins crop_like(const Node& n, const Ins& in, const DeviceWeights&) {
  const auto axes = n.ints("axes"), offsets = n.ints("offsets");
  at::Tensor x = in[0];
  for (std::size_t i = 0; i < axes.size(); ++i) x = x.narrow(axes[i], offsets[i], in[1].size(axes[i]));
  return {x};
}

Ins pad(const Node& n, const Ins& in, const DeviceWeights&) {
  const auto p = n.ints("pads", {0, 0, 0, 0}), c = n.ints("channel_pads", {0, 0});
  const std::string mode = n.s("mode", "constant");
  at::Tensor x = in[0];
  const std::vector<std::int64_t> lrtb{p[1], p[3], p[0], p[2]};
  if (mode == "constant") x = at::constant_pad_nd(x, {p[1], p[3], p[0], p[2], c[0], c[1]}, n.f("value", 0));
  else if (mode == "replicate") x = at::replication_pad2d(x, lrtb);
  else if (mode == "reflect") x = at::reflection_pad2d(x, lrtb);
  else throw Error(ErrorKind::Model, "Pad '" + n.name + "': unknown mode '" + mode + "'");
  return {x};
}

Ins reshape(const Node& n, const Ins& in, const DeviceWeights&) {
  std::vector<std::int64_t> shape{in[0].size(0)};
  const auto target = n.ints("shape");
  for (std::size_t i = 0; i < target.size(); ++i) shape.push_back(target[i] == 0 ? in[0].size(static_cast<std::int64_t>(i) + 1) : target[i]);
  return {in[0].reshape(shape)};
}

Ins transpose(const Node& n, const Ins& in, const DeviceWeights&) { return {in[0].permute(n.ints("perm")).contiguous()}; }
Ins flatten(const Node&, const Ins& in, const DeviceWeights&) { return {in[0].flatten(1)}; }

Ins resize(const Node& n, const Ins& in, const DeviceWeights&) {
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
  throw Error(ErrorKind::Model, "Resize '" + n.name + "': unknown mode '" + mode + "'");
}

Ins pixel_shuffle(const Node& n, const Ins& in, const DeviceWeights&) {
  const std::int64_t r = n.i("factor");
  const at::Tensor& x = in[0];
  if (n.s("mode", "crd") == "crd") return {at::pixel_shuffle(x, r)};
  // DCR: the input channel of (c, dy, dx) is (dy*r + dx)*C + c.
  const std::int64_t c = x.size(1) / (r * r);
  return {x.reshape({x.size(0), r, r, c, x.size(2), x.size(3)})
              .permute({0, 3, 4, 1, 5, 2})
              .reshape({x.size(0), c, x.size(2) * r, x.size(3) * r})};
}

}  // namespace

std::vector<KernelEntry> layout_kernels() {
  return {{"Concat", &concat},   {"Slice", &slice},         {"CropLike", &crop_like},
          {"Pad", &pad},         {"Reshape", &reshape},     {"Transpose", &transpose},
          {"Flatten", &flatten}, {"Resize", &resize},       {"PixelShuffle", &pixel_shuffle}};
}

}  // namespace yamiro::graph::kernels
