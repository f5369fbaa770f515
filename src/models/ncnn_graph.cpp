// ncnn graph -> graph IR: the driver (blob names, ranks, fused activations, outputs) and
// the family fingerprint.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "graph/ops.hpp"
#include "models/ncnn_import.hpp"
#include "yamiro/error.hpp"

namespace yamiro::ncnn {

const std::string& Importer::blob(const std::string& n) const {
  const auto it = alias_.find(n);
  if (it == alias_.end()) throw Error(ErrorKind::Model, origin_ + ": blob '" + n + "' is read before it is made");
  return it->second;
}

const BlobInfo& Importer::info(const std::string& n) const {
  const auto it = info_.find(n);
  if (it == info_.end()) throw Error(ErrorKind::Model, origin_ + ": blob '" + n + "' is read before it is made");
  return it->second;
}

void Importer::alias(const std::string& n, const std::string& ir) { alias_[n] = ir; }

void Importer::made(const std::string& n, BlobInfo i) {
  if (!alias_.count(n)) alias_[n] = n;
  info_[n] = i;
}

std::string Importer::temp(const std::string& base) { return base + "#" + std::to_string(++temps_); }

graph::Node& Importer::add(const Layer& l, const std::string& op, std::vector<std::string> inputs, std::vector<std::string> outputs) {
  graph::Node n;
  n.op = op;
  n.name = l.name;
  n.source_line = l.line;
  n.inputs = std::move(inputs);
  n.outputs = std::move(outputs);
  g_.nodes.push_back(std::move(n));
  return g_.nodes.back();
}

void Importer::fail(const Layer& l, const std::string& why) const {
  throw Error(ErrorKind::Model, origin_ + ": line " + std::to_string(l.line) + ": " + l.type + " '" + l.name + "': " + why);
}

std::int64_t Importer::axis(const Layer& l, long long a, int rank) const {
  const long long r = a < 0 ? a + rank : a;
  if (r < 0 || r >= rank) fail(l, "axis " + std::to_string(a) + " out of range for a rank-" + std::to_string(rank) + " blob");
  return r + 1;
}

std::string Importer::output_with_activation(const Layer& l, std::int64_t channels, int rank) {
  if (l.outputs.size() != 1) fail(l, "needs one output");
  const long long type = p(l, 9, 0, 0, 6);
  made(l.outputs[0], {rank, channels});
  if (type == 0) return l.outputs[0];
  const std::string pre = temp(l.outputs[0] + "#pre");
  std::vector<double> a;
  if (const auto it = l.params.find(10); it != l.params.end()) a = it->second;
  // The activation node goes after the main node: add it once that one is in place.
  pending_ = [this, &l, type, pre, a]() {
    auto arg = [&a](std::size_t i, double fallback) { return i < a.size() ? a[i] : fallback; };
    static const char* ops[] = {"", "Relu", "Relu", "Clip", "Sigmoid", "Mish", "HardSwish"};
    graph::Node& n = add(l, ops[type], {pre}, {l.outputs[0]});
    if (type == 2) n.attrs["alpha"] = arg(0, 0.0);
    if (type == 3) n.attrs["min"] = arg(0, -3.4e38), n.attrs["max"] = arg(1, 3.4e38);
    if (type == 6) n.attrs["alpha"] = arg(0, 0.2), n.attrs["beta"] = arg(1, 0.5);
  };
  return pre;
}

std::shared_ptr<graph::Graph> to_graph_ir(const Graph& src, const std::string& origin) {
  auto g = std::make_shared<graph::Graph>();
  g->origin = origin;
  Importer im(*g, origin);
  std::set<std::string> read;
  for (const Layer& l : src.layers) {
    const Converter convert = find_converter(l.type);
    if (!convert) throw Error(ErrorKind::Model, origin + ": line " + std::to_string(l.line) + ": unknown layer type '" + l.type + "'");
    for (const auto& b : l.inputs) read.insert(b);
    convert(l, im);
    im.flush();
  }
  if (g->inputs.empty()) throw Error(ErrorKind::Model, origin + ": the graph has no Input layer");
  // Outputs: blobs nobody reads, the last made first.
  for (auto it = src.layers.rbegin(); it != src.layers.rend(); ++it)
    for (const auto& b : it->outputs)
      if (!read.count(b)) g->outputs.push_back(im.blob(b));
  if (g->outputs.empty()) throw Error(ErrorKind::Model, origin + ": every blob is read again: the graph has no output");
  std::set<std::string> unique;
  for (const auto& o : g->outputs)
    if (!unique.insert(o).second) throw Error(ErrorKind::Model, origin + ": two outputs are the same blob '" + o + "'");
  graph::validate(*g);
  return g;
}

std::string fingerprint(const Graph& g) {
  std::map<std::string, int> count;
  bool numpy_crop = false, ref_crop = false, scale_input = false, valid_convs = true, leaky01 = true;
  for (const Layer& l : g.layers) {
    ++count[l.type];
    if (l.type == "Crop" && l.params.count(9)) numpy_crop = true;
    if (l.type == "Crop" && l.inputs.size() == 2) ref_crop = true;
    if (l.type == "Scale" && l.inputs.size() == 2) scale_input = true;
    if (l.type == "Convolution" || l.type == "Deconvolution") {
      // Unpadded convolutions (a Deconvolution's pad is a cut of its output, not padding).
      if (l.type == "Convolution") valid_convs = valid_convs && l.param(4, 0) == 0;
      const auto it = l.params.find(10);
      if (l.param(9, 0) == 2 && !(it != l.params.end() && it->second.size() == 1 && std::abs(it->second[0] - 0.1) < 1e-6))
        leaky01 = false;
    }
  }
  const bool se = count["Pooling"] > 0 && count["InnerProduct"] > 0;
  // Real-CUGAN: U-Nets of valid convolutions whose skips are starts/ends Crops, SE blocks
  // as BinaryOp mul. waifu2x cunet: the same shape from Caffe (reference-blob Crops, SE
  // as Scale with a second input); upconv_7: only valid Convolution/Deconvolution.
  if (numpy_crop && se && count["BinaryOp"] > 0 && valid_convs) return "Real-CUGAN";
  if (ref_crop && se && scale_input && valid_convs) return "waifu2x";
  const std::size_t convs = static_cast<std::size_t>(count["Convolution"] + count["Deconvolution"] + count["Input"]);
  if (convs == g.layers.size() && count["Deconvolution"] == 1 && valid_convs && leaky01 &&
      g.layers.back().type == "Deconvolution")
    return "waifu2x";
  return "";
}

}  // namespace yamiro::ncnn
