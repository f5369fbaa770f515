// ATen kernels of the layout ops (Resize is in resize.cpp).
#include <algorithm>
#include <cmath>

#include "arch/graph_kernels.hpp"
#include "yamiro/error.hpp"

namespace yamiro::graph::kernels {
namespace {

using Ins = std::vector<at::Tensor>;

Ins concat(const Node& n, const Ins& in, const DeviceWeights&) {
  const at::Tensor& like = data_like(in);
  std::vector<at::Tensor> xs;
  for (const auto& t : in) xs.push_back(as_data(t, like));
  return {at::cat(xs, n.i("axis"))};
}

Ins slice(const Node& n, const Ins& in, const DeviceWeights&) {
  std::vector<std::int64_t> axes, starts, ends, steps, lens;
  if (in.size() > 1) {  // ONNX: from values
    starts = host_ints(in[1]), ends = host_ints(in[2]);
    if (in.size() > 3) axes = host_ints(in[3]);
    else for (std::size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<std::int64_t>(i));
    if (in.size() > 4) steps = host_ints(in[4]);
  } else {
    axes = n.ints("axes"), starts = n.ints("starts"), ends = n.ints("ends"), steps = n.ints("steps", {});
    lens = n.ints("max_lengths", {});
  }
  if (steps.empty()) steps.assign(axes.size(), 1);
  if (lens.empty()) lens.assign(axes.size(), kSliceEnd);
  at::Tensor x = in[0];
  for (std::size_t i = 0; i < axes.size(); ++i) {
    const std::int64_t a = axes[i] < 0 ? axes[i] + x.dim() : axes[i];
    const std::int64_t size = x.size(a);
    if (steps[i] < 0) {  // walking down: the indices ONNX names, gathered
      const std::int64_t b = std::clamp(starts[i] < 0 ? size + starts[i] : starts[i], std::int64_t{0}, size - 1);
      const std::int64_t e = std::clamp(ends[i] < 0 ? size + ends[i] : ends[i], std::int64_t{-1}, size - 1);
      x = x.index_select(a, at::arange(b, e, steps[i], at::TensorOptions().dtype(at::kLong)).to(x.device()));
      continue;
    }
    const std::int64_t b = std::clamp(starts[i] < 0 ? size + starts[i] : starts[i], std::int64_t{0}, size);
    const std::int64_t e = ends[i] >= kSliceEnd / 2 ? size : std::clamp(ends[i] < 0 ? size + ends[i] : ends[i], std::int64_t{0}, size);
    if (steps[i] == 1) x = x.narrow(a, b, std::min(e - b, lens[i]));
    else x = x.slice(a, b, e, steps[i]);
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
  auto p = n.ints("pads", {0, 0, 0, 0}), c = n.ints("channel_pads", {0, 0});
  if (in.size() == 2) {  // ONNX pads from a value: [n0,c0,h0,w0,n1,c1,h1,w1]
    const auto o = host_ints(in[1]);
    p = {o.at(2), o.at(3), o.at(6), o.at(7)}, c = {o.at(1), o.at(5)};
  }
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
  if (in.size() == 2) {  // ONNX: the whole shape from a value, 0 copies the input's dim
    auto shape = host_ints(in[1]);
    for (std::size_t i = 0; i < shape.size(); ++i)
      if (shape[i] == 0 && !n.i("allowzero", 0)) shape[i] = in[0].size(static_cast<std::int64_t>(i));
    return {in[0].reshape(shape)};
  }
  std::vector<std::int64_t> shape{in[0].size(0)};
  const auto target = n.ints("shape");
  for (std::size_t i = 0; i < target.size(); ++i) shape.push_back(target[i] == 0 ? in[0].size(static_cast<std::int64_t>(i) + 1) : target[i]);
  return {in[0].reshape(shape)};
}

Ins transpose(const Node& n, const Ins& in, const DeviceWeights&) { return {in[0].permute(n.ints("perm")).contiguous()}; }
Ins flatten(const Node& n, const Ins& in, const DeviceWeights&) {
  std::int64_t axis = n.i("axis", 1);
  if (axis < 0) axis += in[0].dim();
  std::int64_t outer = 1;
  for (std::int64_t d = 0; d < axis; ++d) outer *= in[0].size(d);
  return {in[0].reshape({outer, -1})};
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
          {"Flatten", &flatten}, {"PixelShuffle", &pixel_shuffle}};
}

}  // namespace yamiro::graph::kernels
