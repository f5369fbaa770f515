// Maps an ncnn graph onto the weights of a known architecture (basicsr names).
// The graph is checked against the architecture's shape: layer counts, activations,
// residual coefficients and resampling factors, so a graph that merely has the right
// number of convolutions is not mistaken for one.
#include <algorithm>
#include <cmath>
#include <numeric>

#include <spdlog/spdlog.h>

#include "graph/ir.hpp"
#include "graph/ops.hpp"
#include "models/ncnn.hpp"
#include "models/readers.hpp"
#include "models/tensor_data.hpp"
#include "yamiro/error.hpp"

namespace yamiro::ncnn {
namespace {

constexpr std::uint64_t kMaxParamBytes = 64ull << 20;
constexpr std::uint64_t kMaxBinBytes = 4ull << 30;  // like .pth and .safetensors files

[[noreturn]] void fail(const std::string& origin, const std::string& why) {
  throw Error(ErrorKind::Model, origin + ": " + why);
}

std::vector<const Layer*> of_type(const Graph& g, const std::string& type) {
  std::vector<const Layer*> out;
  for (const auto& l : g.layers)
    if (l.type == type) out.push_back(&l);
  return out;
}

bool has_leaky_relu(const Layer& conv, double slope) {
  if (conv.param(9, 0) != 2) return false;
  const auto it = conv.params.find(10);
  return it != conv.params.end() && it->second.size() == 1 && std::abs(it->second[0] - slope) < 1e-6;
}

void check_conv(const Layer& conv, bool lrelu, const std::string& origin) {
  const bool k3 = conv.param(1, 0) == 3 && conv.param(11, 3) == 3 && conv.param(3, 1) == 1 &&
                  conv.param(13, 1) == 1 && conv.param(2, 1) == 1 && conv.param(4, 0) == 1 &&
                  conv.param(14, 1) == 1 && conv.param(5, 0) == 1;
  if (!k3) fail(origin, "convolution '" + conv.name + "' is not a 3x3, stride 1, pad 1 convolution with bias");
  const bool act = conv.param(9, 0) != 0;
  if (lrelu ? !has_leaky_relu(conv, 0.2) : act)
    fail(origin, "convolution '" + conv.name + "' has an unexpected activation for this architecture");
}

void put_conv(StateDict& sd, const std::string& key, const Layer& conv) {
  sd[key + ".weight"] = conv.weights.at(0);
  sd[key + ".bias"] = conv.weights.at(1);
}

StateDict compact(const Graph& g, const std::string& origin) {
  const auto convs = of_type(g, "Convolution");
  const auto prelus = of_type(g, "PReLU");
  const auto shuffles = of_type(g, "PixelShuffle");
  const auto interps = of_type(g, "Interp");
  if (convs.size() < 2 || prelus.size() + 1 != convs.size() || shuffles.size() != 1 || interps.size() != 1 ||
      of_type(g, "BinaryOp").size() != 1 || !of_type(g, "Concat").empty() || !of_type(g, "Eltwise").empty())
    fail(origin, "graph has PReLU and PixelShuffle but not the SRVGGNetCompact layout (conv, PReLU pairs, one "
                 "PixelShuffle, one Interp, one add)");
  const double factor = shuffles[0]->param(0, 0);
  if (!(factor >= 1 && factor <= 16) || factor != std::floor(factor))
    fail(origin, "PixelShuffle '" + shuffles[0]->name + "' has an unsupported factor");
  const int scale = static_cast<int>(factor);
  const Layer& up = *interps[0];
  if (up.param(0, 0) != 1 || up.param(1, 0) != scale || up.param(2, 0) != scale)
    fail(origin, "the base upsampling of '" + up.name + "' is not nearest x" + std::to_string(scale));
  StateDict sd;
  // The chain must alternate conv -> PReLU -> conv ... in file order, each fed by the last.
  const Layer* prev = nullptr;
  int index = 0;
  for (const auto& l : g.layers) {
    if (l.type != "Convolution" && l.type != "PReLU") continue;
    if (prev && (prev->type == l.type || l.inputs.size() != 1 || l.inputs[0] != prev->outputs.at(0)))
      fail(origin, "layer '" + l.name + "' breaks the conv/PReLU chain of SRVGGNetCompact");
    if (l.type == "Convolution") {
      check_conv(l, false, origin);
      put_conv(sd, "body." + std::to_string(index), l);
    } else {
      sd["body." + std::to_string(index) + ".weight"] = l.weights.at(0);
    }
    ++index;
    prev = &l;
  }
  return sd;
}

StateDict rrdb(const Graph& g, const std::string& origin) {
  const auto convs = of_type(g, "Convolution");
  const auto elts = of_type(g, "Eltwise");
  const auto interps = of_type(g, "Interp");
  // One nearest x2 Interp per upsampler: x1 (none) to x16 (four).
  const std::size_t ups = interps.size();
  if (ups > 4 || convs.size() < 19 + ups || (convs.size() - 4 - ups) % 15 != 0)
    fail(origin, "graph has " + std::to_string(convs.size()) + " convolutions and " + std::to_string(ups) +
                     " upsamplings; RRDBNet has 4 + one per upsampling + 15 per block");
  const int nb = static_cast<int>((convs.size() - 4 - ups) / 15);
  if (static_cast<int>(elts.size()) != 4 * nb || static_cast<int>(of_type(g, "Concat").size()) != 12 * nb ||
      of_type(g, "BinaryOp").size() != 1 || !of_type(g, "PReLU").empty())
    fail(origin, "graph does not have the RRDBNet layout for " + std::to_string(nb) + " blocks");
  for (const Layer* e : elts) {
    const auto it = e->params.find(1);
    if (e->param(0, 1) != 1 || it == e->params.end() || it->second.size() != 2 ||
        std::abs(it->second[0] - 0.2) > 1e-6 || std::abs(it->second[1] - 1.0) > 1e-6)
      fail(origin, "residual '" + e->name + "' is not 0.2 * x + identity");
  }
  for (const Layer* u : interps)
    if (u->param(0, 0) != 1 || u->param(1, 0) != 2 || u->param(2, 0) != 2)
      fail(origin, "upsampling '" + u->name + "' is not nearest x2");
  StateDict sd;
  std::size_t c = 0;
  auto take = [&](const std::string& key, bool lrelu) {
    check_conv(*convs[c], lrelu, origin);
    put_conv(sd, key, *convs[c++]);
  };
  take("conv_first", false);
  for (int b = 0; b < nb; ++b)
    for (int r = 1; r <= 3; ++r)
      for (int k = 1; k <= 5; ++k)
        take("body." + std::to_string(b) + ".rdb" + std::to_string(r) + ".conv" + std::to_string(k), k < 5);
  take("conv_body", false);
  for (std::size_t u = 1; u <= ups; ++u) take("conv_up" + std::to_string(u), true);
  take("conv_hr", true);
  take("conv_last", false);
  return sd;
}

// The hand-written networks know only their own layer types: any other layer (an extra
// Clip, Sigmoid, Noop...) would be dropped silently, so such a graph is not theirs.
void only_types(const Graph& g, std::initializer_list<const char*> allowed, const std::string& arch, const std::string& origin) {
  for (const auto& l : g.layers)
    if (std::none_of(allowed.begin(), allowed.end(), [&](const char* t) { return l.type == t; }))
      fail(origin, "layer '" + l.name + "' (" + l.type + ") is not part of the " + arch + " layout");
}

}  // namespace

StateDict to_state_dict(const Graph& g, const std::string& origin) {
  if (!of_type(g, "PReLU").empty() && !of_type(g, "PixelShuffle").empty()) {
    only_types(g, {"Input", "Split", "Convolution", "PReLU", "PixelShuffle", "Interp", "BinaryOp"}, "SRVGGNetCompact", origin);
    return compact(g, origin);
  }
  if (!of_type(g, "Eltwise").empty() && !of_type(g, "Concat").empty()) {
    only_types(g, {"Input", "Split", "Convolution", "Concat", "Eltwise", "Interp", "BinaryOp"}, "RRDBNet", origin);
    return rrdb(g, origin);
  }
  fail(origin, "graph of " + std::to_string(g.layers.size()) +
                   " layers is neither RRDBNet nor SRVGGNetCompact (no PReLU+PixelShuffle, no Concat+Eltwise)");
}

ArchInfo graph_arch(const Graph& g, const std::string& origin) {
  ArchInfo info;
  info.arch = "Graph";
  info.graph = to_graph_ir(g, origin);
  const graph::Graph& ir = *info.graph;
  const graph::Contract c = graph::probe(ir);
  const std::string family = fingerprint(g);
  info.scale = c.scale;
  info.in_channels = ir.input_channels.at(0);
  info.out_channels = static_cast<int>(graph::infer_shapes(ir, {{1, info.in_channels, 128 + c.multiple * 8, 128 + c.multiple * 8}})
                                           .at(ir.outputs.at(0))
                                           .at(1));
  info.shrink = c.shrink;
  info.input_multiple = c.multiple;
  info.input_remainder = c.remainder;
  info.align = c.align;
  // Tiles start (and are sized) on the graph's grid, so its strided layers sample the
  // image where the untiled run samples it.
  info.tile_multiple = std::lcm(c.multiple, c.align);
  info.global_reduction = c.global_reduction;
  // The border rule of the family (its reference's pre-padding): Real-CUGAN reflects,
  // waifu2x replicates; other graphs that shrink replicate, the rest keep zero padding.
  info.border = family == "Real-CUGAN" ? "reflect" : (family == "waifu2x" || c.shrink > 0) ? "replicate" : "zero";
  info.add_nearest_input = family == "Real-CUGAN" && c.scale == 4;
  info.hyper = {{"nodes", static_cast<int>(ir.nodes.size())}, {"shrink", c.shrink}, {"multiple", c.multiple}};
  // Memory per image pixel for the tile heuristics: the most values alive at once at 128x128.
  const int side = graph::valid_input_side(info, 128);
  const graph::Cost cost = graph::cost(ir, side, side);
  info.live_values_per_px = std::floor(static_cast<double>(cost.peak_live_bytes) / 4 / (128 * 128)) + 1;
  // FLOPs counted op by op on the same 128x128 image (plus the border the graph eats), per image pixel.
  info.flops_per_px = cost.flops / (128.0 * 128.0);
  info.options = {{"family", family.empty() ? "generic" : family}, {"border", info.border}};
  if (info.out_channels != info.in_channels)
    throw Error(ErrorKind::Model, origin + ": the graph makes " + std::to_string(info.out_channels) + " channels from " +
                                      std::to_string(info.in_channels) + ": not an image-to-image network");
  return info;
}

}  // namespace yamiro::ncnn

namespace yamiro {

Model load_ncnn(const std::string& param_path, const std::string& bin_path) {
  // Both files are read whole: sizes are capped before anything is allocated.
  const auto text = read_model_file(param_path, ncnn::kMaxParamBytes);
  return ncnn_from_bytes(std::string(text.begin(), text.end()), read_model_file(bin_path, ncnn::kMaxBinBytes), param_path,
                         bin_path);
}

Model ncnn_from_bytes(const std::string& param_text, const std::vector<unsigned char>& bin, const std::string& param_path,
                      const std::string& bin_path) {
  ncnn::Graph g = ncnn::parse_param(param_text, param_path);
  ncnn::read_weights(g, bin, bin_path);
  Model m;
  m.path = param_path;
  m.format = "ncnn";
  try {
    // A graph a hand-written network recognises runs on it (Winograd, fused epilogues).
    m.weights = ncnn::to_state_dict(g, param_path);
    m.info = detect_architecture(m.weights);
    return m;
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::Model) throw;
    spdlog::debug("{}: no hand-written network ({}); running it on the graph executor", param_path, e.what());
  }
  m.weights.clear();
  m.info = ncnn::graph_arch(g, param_path);
  return m;
}

Model ncnn_graph_from_bytes(const std::string& param_text, const std::vector<unsigned char>& bin,
                            const std::string& param_path, const std::string& bin_path) {
  ncnn::Graph g = ncnn::parse_param(param_text, param_path);
  ncnn::read_weights(g, bin, bin_path);
  Model m;
  m.path = param_path;
  m.format = "ncnn";
  m.info = ncnn::graph_arch(g, param_path);
  return m;
}

}  // namespace yamiro
