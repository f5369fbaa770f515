// ONNX model -> graph IR: the driver (inputs, initializers, constants, outputs, opsets),
// external data beside the model, and the contract from the shape probe.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <stdexcept>

#include "graph/ops.hpp"
#include "models/onnx_import.hpp"
#include "models/readers.hpp"
#include "models/tensor_data.hpp"
#include "yamiro/error.hpp"

namespace fs = std::filesystem;

namespace yamiro::onnx {

HostTensor host_tensor(const Tensor& t) {
  HostTensor h;
  h.shape = t.dims;
  if (t.is_float()) h.values = t.floats;
  else h.values.assign(t.ints.begin(), t.ints.end());
  return h;
}

Builder::Builder(graph::Graph& g, const Model& m, const std::string& origin) : g_(g), origin_(origin) {
  const auto it = m.opsets.find("");
  if (it == m.opsets.end()) throw Error(ErrorKind::Model, origin + ": no opset_import for the default ONNX domain");
  opset_ = it->second;
  if (opset_ < 11 || opset_ > 20)
    throw Error(ErrorKind::Model, origin + ": opset " + std::to_string(opset_) + " is not supported (opsets 11 to 20 are)");
  for (const Tensor& t : m.graph.initializers) {
    consts_[t.name] = &t;
    if (!t.is_float()) ints_.insert(t.name);
  }
}

void Builder::fail(const Node& n, const std::string& why) const {
  throw Error(ErrorKind::Model, origin_ + ": " + n.op_type + " '" + n.name + "': " + why);
}

void Builder::add_constant(const std::string& name, Tensor t) {
  auto owned = std::make_unique<Tensor>(std::move(t));
  consts_[name] = owned.get();
  set_int(name, !owned->is_float());
  owned_[name] = std::move(owned);
}

const Tensor* Builder::constant(const Node& n, std::size_t k) const {
  if (!has(n, k)) return nullptr;
  const auto it = consts_.find(n.inputs[k]);
  return it == consts_.end() ? nullptr : it->second;
}

const Tensor& Builder::need_constant(const Node& n, std::size_t k, const char* what) const {
  if (!has(n, k)) fail(n, std::string(what) + " (input " + std::to_string(k) + ") is missing");
  const Tensor* t = constant(n, k);
  if (!t) fail(n, std::string(what) + " '" + n.inputs[k] + "' must be a constant (an initializer or a Constant node)");
  return *t;
}

std::vector<std::int64_t> Builder::const_ints(const Node& n, std::size_t k, const char* what) const {
  const Tensor& t = need_constant(n, k, what);
  if (t.is_float()) fail(n, std::string(what) + " must be integers");
  return t.ints;
}

std::vector<float> Builder::const_floats(const Node& n, std::size_t k, const char* what) const {
  const Tensor& t = need_constant(n, k, what);
  if (t.is_float()) return t.floats;
  return std::vector<float>(t.ints.begin(), t.ints.end());
}

std::string Builder::in(const Node& n, std::size_t k) {
  if (!has(n, k)) fail(n, "input " + std::to_string(k) + " is missing");
  const std::string& name = n.inputs[k];
  const auto it = consts_.find(name);
  if (it != consts_.end() && emitted_.insert(name).second) {
    graph::Node c;
    c.op = "Constant";
    c.name = name;
    c.outputs = {name};
    c.weights["value"] = host_tensor(*it->second);
    if (!it->second->is_float()) c.attrs["ints"] = it->second->ints;
    g_.nodes.push_back(std::move(c));
  }
  return name;
}

graph::Node& Builder::add(const Node& src, const std::string& op, std::vector<std::string> inputs, std::vector<std::string> outputs) {
  graph::Node n;
  n.op = op;
  n.name = src.name.empty() ? src.op_type + "->" + (src.outputs.empty() ? std::string("?") : src.outputs[0]) : src.name;
  n.inputs = std::move(inputs);
  n.outputs = std::move(outputs);
  g_.nodes.push_back(std::move(n));
  return g_.nodes.back();
}

std::int64_t Builder::ai(const Node& n, const char* key, std::int64_t fallback) const {
  const Attribute* a = n.attr(key);
  if (!a) return fallback;
  if (a->type != Attribute::kInt) fail(n, std::string("attribute '") + key + "' is not an int");
  return a->i;
}
double Builder::af(const Node& n, const char* key, double fallback) const {
  const Attribute* a = n.attr(key);
  if (!a) return fallback;
  if (a->type == Attribute::kInt) return static_cast<double>(a->i);
  if (a->type != Attribute::kFloat) fail(n, std::string("attribute '") + key + "' is not a float");
  return a->f;
}
std::string Builder::as(const Node& n, const char* key, const std::string& fallback) const {
  const Attribute* a = n.attr(key);
  if (!a) return fallback;
  if (a->type != Attribute::kString) fail(n, std::string("attribute '") + key + "' is not a string");
  return a->s;
}
std::vector<std::int64_t> Builder::aints(const Node& n, const char* key, std::vector<std::int64_t> fallback) const {
  const Attribute* a = n.attr(key);
  if (!a) return fallback;
  if (a->type != Attribute::kInts) fail(n, std::string("attribute '") + key + "' is not a list of ints");
  return a->ints;
}

namespace {

std::shared_ptr<graph::Graph> to_graph_ir(const Model& m, const std::string& origin) {
  auto g = std::make_shared<graph::Graph>();
  g->origin = origin;
  Builder b(*g, m, origin);
  std::set<std::string> inits;
  for (const auto& t : m.graph.initializers) inits.insert(t.name);
  for (const ValueInfo& v : m.graph.inputs) {
    if (inits.count(v.name)) continue;  // IR < 4 lists initializers as inputs too
    if (!g->inputs.empty()) throw Error(ErrorKind::Model, origin + ": a second input '" + v.name + "': only single-input graphs run");
    if (!v.has_shape || v.dims.size() != 4 || v.dims[1] < 1 || v.dims[1] > 64)
      throw Error(ErrorKind::Model, origin + ": input '" + v.name + "' is not an image [N,C,H,W] with a fixed channel count");
    if (v.elem_type != kFloat && v.elem_type != kFloat16 && v.elem_type != kBfloat16 && v.elem_type != kDouble)
      throw Error(ErrorKind::Model, origin + ": input '" + v.name + "' is " + data_type_name(v.elem_type) + ", not a float image");
    g->inputs.push_back(v.name);
    g->input_channels.push_back(static_cast<int>(v.dims[1]));
  }
  if (g->inputs.empty()) throw Error(ErrorKind::Model, origin + ": the graph has no input");
  for (const Node& n : m.graph.nodes) {
    if (!n.domain.empty() && n.domain != "ai.onnx")
      throw Error(ErrorKind::Model, origin + ": op '" + n.op_type + "' (node '" + n.name + "') of domain '" + n.domain + "' is not supported");
    const Converter convert = find_converter(n.op_type);
    if (!convert) {
      const bool control = n.op_type == "If" || n.op_type == "Loop" || n.op_type == "Scan";
      throw Error(ErrorKind::Model, origin + ": op '" + n.op_type + "' (node '" + n.name + "') is not supported" +
                                        (control ? " (control flow)" : ""));
    }
    if (n.outputs.empty()) b.fail(n, "has no output");
    try {
      convert(n, b);
    } catch (const std::out_of_range&) {  // a constant input or attribute list shorter than the op needs
      b.fail(n, "an input or attribute has too few values");
    }
  }
  for (const ValueInfo& v : m.graph.outputs) {
    std::string name = v.name;
    // An output that is a constant (or the input) gets an Identity: outputs are made by nodes.
    if (std::none_of(g->nodes.begin(), g->nodes.end(), [&](const graph::Node& n) {
          return std::find(n.outputs.begin(), n.outputs.end(), name) != n.outputs.end();
        }))
      throw Error(ErrorKind::Model, origin + ": output '" + name + "' is not made by any node");
    g->outputs.push_back(name);
  }
  if (g->outputs.empty()) throw Error(ErrorKind::Model, origin + ": the graph has no output");
  graph::validate(*g);
  return g;
}

ArchInfo graph_arch(std::shared_ptr<graph::Graph> ir, const std::string& origin) {
  ArchInfo info;
  info.arch = "Graph";
  info.graph = ir;
  const graph::Contract c = graph::probe(*ir);
  info.scale = c.scale;
  info.in_channels = ir->input_channels.at(0);
  const int side = 128 + c.multiple * 8;
  info.out_channels = static_cast<int>(graph::infer_shapes(*ir, {{1, info.in_channels, side, side}}).at(ir->outputs.at(0)).at(1));
  info.shrink = c.shrink;
  info.input_multiple = c.multiple;
  info.input_remainder = c.remainder;
  info.align = c.align;
  info.tile_multiple = std::lcm(c.multiple, c.align);
  info.global_reduction = c.global_reduction;
  info.border = c.shrink > 0 ? "replicate" : "zero";
  info.hyper = {{"nodes", static_cast<int>(ir->nodes.size())}, {"shrink", c.shrink}, {"multiple", c.multiple}};
  const int probe_side = graph::valid_input_side(info, 128);
  const graph::Cost cost = graph::cost(*ir, probe_side, probe_side);
  info.live_values_per_px = static_cast<double>(cost.peak_live_bytes) / 4 / (128.0 * 128.0);
  info.flops_per_px = cost.flops / (static_cast<double>(probe_side) * probe_side);
  info.hyper["live_values_per_px"] = static_cast<int>(info.live_values_per_px) + 1;
  info.options = {{"family", "onnx"}, {"border", info.border}};
  if (info.out_channels != info.in_channels)
    throw Error(ErrorKind::Model, origin + ": the graph makes " + std::to_string(info.out_channels) + " channels from " +
                                      std::to_string(info.in_channels) + ": not an image-to-image network");
  return info;
}

// External data: relative to the model's folder, never outside it.
ExternalReader folder_reader(const std::string& model_path) {
  const fs::path folder = fs::weakly_canonical(fs::absolute(fs::path(model_path)).parent_path());
  return [folder, model_path](const std::string& location, std::int64_t offset, std::int64_t length) {
    auto fail = [&](const std::string& why) -> std::vector<unsigned char> {
      throw Error(ErrorKind::Model, model_path + ": external data '" + location + "': " + why);
    };
    const fs::path rel(location);
    if (rel.is_absolute() || location.find('\0') != std::string::npos) fail("an absolute path is refused");
    const fs::path file = fs::weakly_canonical(folder / rel);
    const auto [end, rest] = std::mismatch(folder.begin(), folder.end(), file.begin(), file.end());
    if (end != folder.end()) fail("it leaves the model's folder");
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) fail("not a regular file");
    const auto size = static_cast<std::int64_t>(fs::file_size(file, ec));
    if (ec || offset < 0 || length < 0 || offset > size || length > size - offset)
      fail("bytes " + std::to_string(offset) + "+" + std::to_string(length) + " run past its end (" + std::to_string(size) + " bytes)");
    std::vector<unsigned char> bytes(static_cast<std::size_t>(length));
    std::ifstream f(file, std::ios::binary);
    f.seekg(offset);
    if (!f.read(reinterpret_cast<char*>(bytes.data()), length)) fail("cannot be read");
    return bytes;
  };
}

constexpr std::uint64_t kMaxOnnxBytes = 4ull << 30;

yamiro::Model from_model(const onnx::Model& parsed, const std::string& origin) {
  yamiro::Model m;
  m.path = origin;
  m.format = "onnx";
  try {
    m.info = graph_arch(to_graph_ir(parsed, origin), origin);
  } catch (const std::out_of_range&) {  // shape inference reading past a short attribute
    throw Error(ErrorKind::Model, origin + ": a node's attribute or input has too few values");
  }
  return m;
}

}  // namespace
}  // namespace yamiro::onnx

namespace yamiro {

Model onnx_from_bytes(const std::vector<unsigned char>& bytes, const std::string& origin) {
  return onnx::from_model(onnx::parse_model(bytes.data(), bytes.size(), origin, {}), origin);
}

Model load_onnx(const std::string& path) {
  const auto bytes = read_model_file(path, onnx::kMaxOnnxBytes);
  return onnx::from_model(onnx::parse_model(bytes.data(), bytes.size(), path, onnx::folder_reader(path)), path);
}

}  // namespace yamiro
