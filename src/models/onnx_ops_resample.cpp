// The ONNX converters of Pad and Resize, the two ops whose forms vary most with the opset
// (pads as an attribute, an input, with an axes input; Resize's roi / scales / sizes
// inputs, coordinate and nearest modes, cubic coefficient, axes attribute).
#include <cmath>
#include <set>

#include "models/onnx_import.hpp"

namespace yamiro::onnx {

namespace {
using V = std::vector<std::int64_t>;
}  // namespace

void convert_pad(const Node& n, Builder& b) {
  if (b.has(n, 3) && (!b.constant(n, 1) || !b.constant(n, 3))) b.fail(n, "computed pads with the axes input are not supported");
  double value = b.af(n, "value", 0);
  if (b.has(n, 2)) value = b.const_floats(n, 2, "constant_value").at(0);
  const std::string mode = b.as(n, "mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "edge") b.fail(n, "unknown mode '" + mode + "'");
  if (b.has(n, 1) && !b.constant(n, 1)) {
    // Pads computed in the graph (torch exports even constant pads so): from their value.
    graph::Node& ir = b.add(n, "Pad", {b.in(n, 0), b.in(n, 1)}, {n.outputs.at(0)});
    ir.attrs["mode"] = std::string(mode == "edge" ? "replicate" : mode);
    ir.attrs["value"] = value;
    return;
  }
  V pads = b.aints(n, "pads", {});
  if (b.has(n, 1)) pads = b.const_ints(n, 1, "pads");
  if (b.has(n, 3)) {  // opset 18: pads [begins, ends] of the listed axes only
    const V axes = b.const_ints(n, 3, "axes");
    if (pads.size() != 2 * axes.size()) b.fail(n, std::to_string(pads.size()) + " pads for " + std::to_string(axes.size()) + " axes");
    V full(8, 0);
    for (std::size_t i = 0; i < axes.size(); ++i) {
      const std::int64_t a = axes[i] < 0 ? axes[i] + 4 : axes[i];
      if (a < 0 || a > 3) b.fail(n, "axis " + std::to_string(axes[i]) + " of a 4-D input");
      full[static_cast<std::size_t>(a)] = pads[i], full[static_cast<std::size_t>(a) + 4] = pads[i + axes.size()];
    }
    pads = full;
  }
  if (pads.size() != 8) b.fail(n, "pads of " + std::to_string(pads.size()) + " values: only 4-D inputs are supported");
  if (pads[0] != 0 || pads[4] != 0) b.fail(n, "pads the batch axis");
  if (mode != "constant" && (pads[1] != 0 || pads[5] != 0)) b.fail(n, mode + " padding of the channel axis is not supported");
  for (auto p : pads)
    if (p < 0) b.fail(n, "negative pads (crops) are not supported");
  graph::Node& ir = b.add(n, "Pad", {b.in(n, 0)}, {n.outputs.at(0)});
  ir.attrs["pads"] = V{pads[2], pads[3], pads[6], pads[7]};
  ir.attrs["channel_pads"] = V{pads[1], pads[5]};
  ir.attrs["mode"] = std::string(mode == "edge" ? "replicate" : mode);
  ir.attrs["value"] = value;
}

void convert_resize(const Node& n, Builder& b) {
  if (b.opset() < 11) b.fail(n, "Resize before opset 11 is not supported");
  static const std::set<std::string> coords = {"half_pixel",           "pytorch_half_pixel", "align_corners", "asymmetric",
                                               "tf_half_pixel_for_nn", "half_pixel_symmetric", "tf_crop_and_resize"};
  const std::string mode = b.as(n, "mode", "nearest"), coord = b.as(n, "coordinate_transformation_mode", "half_pixel");
  if (!coords.count(coord)) b.fail(n, "coordinate mode '" + coord + "' is not supported");
  if (mode != "nearest" && mode != "linear" && mode != "cubic") b.fail(n, "unknown mode '" + mode + "'");
  if (b.ai(n, "antialias", 0)) b.fail(n, "antialias is not supported");
  if (b.as(n, "keep_aspect_ratio_policy", "stretch") != "stretch") b.fail(n, "keep_aspect_ratio_policy other than stretch is not supported");
  V axes = b.aints(n, "axes", {0, 1, 2, 3});
  for (auto& a : axes) a = a < 0 ? a + 4 : a;
  if (axes != V{0, 1, 2, 3} && axes != V{2, 3}) b.fail(n, "axes other than the spatial ones are not supported");
  graph::Node& ir = b.add(n, "Resize", {b.in(n, 0)}, {n.outputs.at(0)});
  ir.attrs["mode"] = std::string(mode == "linear" ? "bilinear" : mode == "cubic" ? "bicubic" : mode);
  ir.attrs["coord"] = coord;
  ir.attrs["nearest"] = b.as(n, "nearest_mode", "round_prefer_floor");
  ir.attrs["align_corners"] = std::int64_t{coord == "align_corners"};
  ir.attrs["cubic_a"] = b.af(n, "cubic_coeff_a", -0.75);
  ir.attrs["exclude_outside"] = b.ai(n, "exclude_outside", 0);
  const std::size_t off = axes.size() == 2 ? 2 : 0;  // scales/sizes/roi list the named axes only
  if (coord == "tf_crop_and_resize") {
    const auto roi = b.const_floats(n, 1, "roi");
    if (roi.size() != 2 * axes.size()) b.fail(n, "roi of " + std::to_string(roi.size()) + " values for " + std::to_string(axes.size()) + " axes");
    const std::size_t k = axes.size();
    if (off == 0 && (roi[0] != 0 || roi[1] != 0 || roi[4] != 1 || roi[5] != 1)) b.fail(n, "crops the batch or channel axis");
    ir.attrs["roi"] = std::vector<double>{roi[2 - off], roi[3 - off], roi[k + 2 - off], roi[k + 3 - off]};
    ir.attrs["extrapolation"] = b.af(n, "extrapolation_value", 0);
  }
  const bool sizes = b.has(n, 3);
  const std::size_t k = sizes ? 3 : 2;
  if (!b.has(n, k)) b.fail(n, "has neither scales nor sizes");
  if (const Tensor* t = b.constant(n, k)) {
    if (t->numel() != static_cast<std::int64_t>(axes.size()))
      b.fail(n, "scales/sizes of " + std::to_string(t->numel()) + " values: only 4-D inputs are supported");
    if (sizes) {
      ir.attrs["sizes"] = V{t->ints.at(2 - off), t->ints.at(3 - off)};
    } else {
      if (off == 0 && (t->floats.at(0) != 1 || t->floats.at(1) != 1)) b.fail(n, "resizes the batch or channel axis");
      ir.attrs["scales"] = std::vector<double>{t->floats.at(2 - off), t->floats.at(3 - off)};
    }
  } else {
    if (off != 0) b.fail(n, "computed scales/sizes with the axes attribute are not supported");
    ir.inputs.push_back(b.in(n, k));
    ir.attrs["dynamic"] = std::string(sizes ? "sizes" : "scales");
  }
}

}  // namespace yamiro::onnx
