// One converter per ncnn layer type: ncnn parameters (ids as in ncnn's load_param) to IR
// nodes, with ncnn's conventions resolved here.
#include <algorithm>
#include <map>

#include "models/ncnn_import.hpp"

namespace yamiro::ncnn {
namespace {

using graph::Node;
using V = std::vector<std::int64_t>;
constexpr long long kBig = 1 << 20;

const std::string& in0(const Layer& l, Importer& im) { return im.blob(l.inputs.at(0)); }
std::int64_t channels0(const Layer& l, Importer& im) { return im.info(l.inputs.at(0)).channels; }

void need_inputs(const Layer& l, Importer& im, std::size_t n) {
  if (l.inputs.size() != n || l.outputs.size() != 1)
    im.fail(l, "needs " + std::to_string(n) + " input(s) and one output, has " + std::to_string(l.inputs.size()) + " and " +
                   std::to_string(l.outputs.size()));
}

// One IR node writing the layer's single output, which keeps the first input's blob info.
Node& same_shape(const Layer& l, Importer& im, const std::string& op) {
  need_inputs(l, im, 1);
  Node& n = im.add(l, op, {in0(l, im)}, {l.outputs[0]});
  im.made(l.outputs[0], im.info(l.inputs[0]));
  return n;
}

void input(const Layer& l, Importer& im) {
  if (!l.inputs.empty() || l.outputs.size() != 1) im.fail(l, "an Input has no inputs and one output");
  if (!im.graph().inputs.empty()) im.fail(l, "a second Input: only single-input graphs run");
  const long long c = im.p(l, 2, 3, 0, 4096);
  im.graph().inputs.push_back(l.outputs[0]);
  im.graph().input_channels.push_back(c > 0 ? static_cast<int>(c) : 3);
  im.alias(l.outputs[0], l.outputs[0]);
  im.made(l.outputs[0], {3, c > 0 ? c : 3});
}

void split(const Layer& l, Importer& im) {
  if (l.inputs.size() != 1) im.fail(l, "a Split has one input");
  for (const auto& o : l.outputs) {
    im.alias(o, in0(l, im));
    im.made(o, im.info(l.inputs[0]));
  }
}

void conv(const Layer& l, Importer& im, bool depthwise) {
  need_inputs(l, im, 1);
  if (im.p(l, 19, 0, 0, 0) != 0) im.fail(l, "dynamic weights are not supported");
  const long long kw = im.p(l, 1, 0, 1, 4096), kh = im.p(l, 11, kw, 1, 4096);
  const long long dw = im.p(l, 2, 1, 1, 4096), dh = im.p(l, 12, dw, 1, 4096);
  const long long sw = im.p(l, 3, 1, 1, 4096), sh = im.p(l, 13, sw, 1, 4096);
  const long long pl = im.p(l, 4, 0, -234, 4096), pr = im.p(l, 15, pl, -234, 4096);
  const long long pt = im.p(l, 14, pl, -234, 4096), pb = im.p(l, 16, pt, -234, 4096);
  const std::int64_t out = l.weights.at(0).shape[0];
  const std::string dst = im.output_with_activation(l, out);
  Node& n = im.add(l, "Conv", {in0(l, im)}, {dst});
  n.attrs["kernel"] = V{kh, kw};
  n.attrs["dilation"] = V{dh, dw};
  n.attrs["stride"] = V{sh, sw};
  if (pl == -233 || pl == -234) {
    n.attrs["auto_pad"] = std::string(pl == -233 ? "same_upper" : "same_lower");
  } else {
    if (pr < 0 || pt < 0 || pb < 0) im.fail(l, "negative padding");
    n.attrs["pads"] = V{pt, pl, pb, pr};
  }
  n.attrs["pad_value"] = l.param(18, 0.0);
  n.attrs["group"] = static_cast<std::int64_t>(depthwise ? im.p(l, 7, 1, 1, kBig) : 1);
  n.weights["weight"] = l.weights.at(0);
  if (l.weights.size() > 1) n.weights["bias"] = l.weights[1];
}
void convolution(const Layer& l, Importer& im) { conv(l, im, false); }
void convolution_dw(const Layer& l, Importer& im) { conv(l, im, true); }

void deconv(const Layer& l, Importer& im, bool depthwise) {
  need_inputs(l, im, 1);
  if (im.p(l, 28, 0, 0, 0) != 0) im.fail(l, "dynamic weights are not supported");
  const long long kw = im.p(l, 1, 0, 1, 4096), kh = im.p(l, 11, kw, 1, 4096);
  const long long dw = im.p(l, 2, 1, 1, 4096), dh = im.p(l, 12, dw, 1, 4096);
  const long long sw = im.p(l, 3, 1, 1, 4096), sh = im.p(l, 13, sw, 1, 4096);
  const long long pl = im.p(l, 4, 0, 0, 4096), pr = im.p(l, 15, pl, 0, 4096);
  const long long pt = im.p(l, 14, pl, 0, 4096), pb = im.p(l, 16, pt, 0, 4096);
  const long long opr = im.p(l, 18, 0, 0, 4096), opb = im.p(l, 19, opr, 0, 4096);
  if (im.p(l, 20, 0, 0, 0) != 0 || im.p(l, 21, 0, 0, 0) != 0) im.fail(l, "a fixed output size is not supported");
  const long long group = depthwise ? im.p(l, 7, 1, 1, kBig) : 1;
  // ncnn stores [g][O/g][I/g][kh][kw]; the IR (as ATen) wants [I][O/g][kh][kw].
  const HostTensor& src = l.weights.at(0);
  const std::int64_t out = src.shape[0], og = out / group, ig = src.shape[1], k = kh * kw;
  HostTensor w{{group * ig, og, kh, kw}, std::vector<float>(src.values.size())};
  for (std::int64_t g = 0; g < group; ++g)
    for (std::int64_t o = 0; o < og; ++o)
      for (std::int64_t i = 0; i < ig; ++i)
        std::copy_n(src.values.begin() + ((g * og + o) * ig + i) * k, k, w.values.begin() + ((g * ig + i) * og + o) * k);
  const std::string dst = im.output_with_activation(l, out);
  Node& n = im.add(l, "ConvTranspose", {in0(l, im)}, {dst});
  n.attrs["kernel"] = V{kh, kw};
  n.attrs["dilation"] = V{dh, dw};
  n.attrs["stride"] = V{sh, sw};
  n.attrs["pads"] = V{pt, pl, pb, pr};
  n.attrs["output_padding"] = V{opb, opr};
  n.attrs["group"] = static_cast<std::int64_t>(group);
  n.weights["weight"] = std::move(w);
  if (l.weights.size() > 1) n.weights["bias"] = l.weights[1];
}
void deconvolution(const Layer& l, Importer& im) { deconv(l, im, false); }
void deconvolution_dw(const Layer& l, Importer& im) { deconv(l, im, true); }

void inner_product(const Layer& l, Importer& im) {
  need_inputs(l, im, 1);
  const std::int64_t out = l.weights.at(0).shape[0];
  const std::string dst = im.output_with_activation(l, out, 1);
  Node& n = im.add(l, "Dense", {in0(l, im)}, {dst});
  n.weights["weight"] = l.weights[0];
  if (l.weights.size() > 1) n.weights["bias"] = l.weights[1];
}

void pooling(const Layer& l, Importer& im) {
  need_inputs(l, im, 1);
  if (im.info(l.inputs[0]).rank != 3) im.fail(l, "pooling needs a c,h,w blob");
  const long long type = im.p(l, 0, 0, 0, 1);
  if (im.p(l, 7, 0, 0, 1)) im.fail(l, "adaptive pooling is not supported");
  if (im.p(l, 4, 0, 0, 1)) {
    Node& n = im.add(l, "GlobalPool", {in0(l, im)}, {l.outputs[0]});
    n.attrs["mode"] = std::string(type == 0 ? "max" : "avg");
    im.made(l.outputs[0], {1, channels0(l, im)});
    return;
  }
  const long long kw = im.p(l, 1, 0, 1, 4096), kh = im.p(l, 11, kw, 1, 4096);
  const long long sw = im.p(l, 2, 1, 1, 4096), sh = im.p(l, 12, sw, 1, 4096);
  const long long pl = im.p(l, 3, 0, 0, 4096), pr = im.p(l, 14, pl, 0, 4096);
  const long long pt = im.p(l, 13, pl, 0, 4096), pb = im.p(l, 15, pt, 0, 4096);
  const long long mode = im.p(l, 5, 0, 0, 3);
  Node& n = same_shape(l, im, "Pool");
  n.attrs["mode"] = std::string(type == 0 ? "max" : "avg");
  n.attrs["kernel"] = V{kh, kw};
  n.attrs["stride"] = V{sh, sw};
  n.attrs["pads"] = V{pt, pl, pb, pr};
  static const char* modes[] = {"ceil", "none", "same_upper", "same_lower"};
  n.attrs["auto_pad"] = std::string(modes[mode]);
  n.attrs["count_include_pad"] = static_cast<std::int64_t>(im.p(l, 6, 0, 0, 1));
}

// ncnn's rule for a lower-rank operand (binaryop.cpp, "expand inner axes"): a 1-D blob
// matches the outermost axis of the other (h of a 2-D, c of a 3-D or 4-D blob) if its length
// equals it, else the width; a higher-rank one gets size-1 axes inside: (h,w) against c,h,w
// becomes (h,w,1), against c,d,h,w (h,w,1,1); (c,h,w) against c,d,h,w becomes (c,h,w,1).
std::string broadcastable(const Layer& l, Importer& im, const std::string& ncnn_blob, const BlobInfo& other) {
  const BlobInfo& b = im.info(ncnn_blob);
  if (b.rank >= other.rank) return im.blob(ncnn_blob);
  if (other.rank > 4) im.fail(l, "unsupported broadcast of ranks " + std::to_string(b.rank) + " and " + std::to_string(other.rank));
  V shape;
  if (b.rank == 1) {
    if (b.channels < 0 || other.channels < 0) im.fail(l, "cannot tell how a 1-D blob broadcasts here (unknown sizes)");
    shape.assign(static_cast<std::size_t>(other.rank), 1);
    // along the outer axis when it equals the rows (2-D) or channels: their "channels"
    if (b.channels == other.channels) shape.front() = b.channels;
    else shape.back() = b.channels;
  } else {
    shape.assign(static_cast<std::size_t>(b.rank), 0);  // 0 keeps the blob's own size
    shape.resize(static_cast<std::size_t>(other.rank), 1);
  }
  const std::string t = im.temp(im.blob(ncnn_blob) + "#bcast");
  graph::Node& r = im.add(l, "Reshape", {im.blob(ncnn_blob)}, {t});
  r.attrs["shape"] = shape;
  return t;
}

void binary_op(const Layer& l, Importer& im) {
  // ncnn's op types 0-18; 7-9, 11, 13, 16 and 18 are the reversed (b op a) forms.
  static const char* fns[] = {"add", "sub",   "mul",   "div",  "max",  "min",       "pow",
                              "sub", "div",   "pow",   "atan2", "atan2", "fmod",     "fmod",
                              "logaddexp", "floor_div", "floor_div", "remainder", "remainder"};
  const long long op = im.p(l, 0, 0, 0, 18);
  const bool reverse = op == 7 || op == 8 || op == 9 || op == 11 || op == 13 || op == 16 || op == 18;
  if (im.p(l, 1, 0, 0, 1)) {
    Node& n = same_shape(l, im, "Binary");
    n.attrs["fn"] = std::string(fns[op]);
    n.attrs["reverse"] = static_cast<std::int64_t>(reverse);
    n.attrs["scalar"] = l.param(2, 0.0);
    return;
  }
  need_inputs(l, im, 2);
  const BlobInfo a = im.info(l.inputs[0]), b = im.info(l.inputs[1]);
  const std::string ia = broadcastable(l, im, l.inputs[0], b), ib = broadcastable(l, im, l.inputs[1], a);
  Node& n = im.add(l, "Binary", {ia, ib}, {l.outputs[0]});
  n.attrs["fn"] = std::string(fns[op]);
  n.attrs["reverse"] = static_cast<std::int64_t>(reverse);
  im.made(l.outputs[0], a.rank >= b.rank ? a : b);
}

void unary_op(const Layer& l, Importer& im) {
  static const char* fns[] = {"abs",  "neg",  "floor", "ceil", "square", "sqrt",       "rsqrt", "exp",   "log",   "sin",
                              "cos",  "tan",  "asin",  "acos", "atan",   "reciprocal", "tanh",  "log10", "round", "trunc",
                              "sign", "expm1", "sinh", "asinh", "cosh",  "acosh",      "atanh", "log1p"};
  const long long op = im.p(l, 0, 0, 0, 27);
  same_shape(l, im, "Unary").attrs["fn"] = std::string(fns[op]);
}

void eltwise(const Layer& l, Importer& im) {
  if (l.inputs.empty() || l.outputs.size() != 1) im.fail(l, "needs inputs and one output");
  const long long op = im.p(l, 0, 1, 0, 2);
  std::vector<std::string> ins;
  for (const auto& b : l.inputs) ins.push_back(im.blob(b));
  static const char* ops[] = {"Prod", "Sum", "Max"};
  Node& n = im.add(l, ops[op], ins, {l.outputs[0]});
  const auto it = l.params.find(1);
  if (op == 1 && it != l.params.end() && !it->second.empty()) {
    if (it->second.size() != l.inputs.size()) im.fail(l, "needs one coefficient per input");
    n.attrs["coeffs"] = it->second;
  }
  im.made(l.outputs[0], im.info(l.inputs[0]));
}

void scale(const Layer& l, Importer& im) {
  if (l.weights.empty()) {  // the scales are a second input, one per channel
    need_inputs(l, im, 2);
    if (im.p(l, 1, 0, 0, 1)) im.fail(l, "a bias with scales from an input is not supported");
    const std::string s = broadcastable(l, im, l.inputs[1], im.info(l.inputs[0]));
    Node& n = im.add(l, "Binary", {in0(l, im), s}, {l.outputs[0]});
    n.attrs["fn"] = std::string("mul");
    im.made(l.outputs[0], im.info(l.inputs[0]));
    return;
  }
  Node& n = same_shape(l, im, "Affine");
  n.weights["scale"] = l.weights[0];
  if (l.weights.size() > 1) n.weights["bias"] = l.weights[1];
}

}  // namespace

namespace layers {
void crop(const Layer& l, Importer& im);
void shape_layers(std::map<std::string, Converter>& table);
void activation_layers(std::map<std::string, Converter>& table);
}  // namespace layers

Converter find_converter(const std::string& type) {
  static const std::map<std::string, Converter> table = [] {
    std::map<std::string, Converter> t = {
        {"Input", &input},
        {"Split", &split},
        {"Convolution", &convolution},
        {"ConvolutionDepthWise", &convolution_dw},
        {"Deconvolution", &deconvolution},
        {"DeconvolutionDepthWise", &deconvolution_dw},
        {"InnerProduct", &inner_product},
        {"Pooling", &pooling},
        {"BinaryOp", &binary_op},
        {"UnaryOp", &unary_op},
        {"Eltwise", &eltwise},
        {"Scale", &scale},
        {"Crop", &layers::crop},
    };
    layers::shape_layers(t);
    layers::activation_layers(t);
    return t;
  }();
  const auto it = table.find(type);
  return it == table.end() ? nullptr : it->second;
}

}  // namespace yamiro::ncnn

namespace yamiro::ncnn {

const std::vector<std::string>& known_layer_types() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const char* t : {"Input", "Split", "Convolution", "ConvolutionDepthWise", "Deconvolution", "DeconvolutionDepthWise",
                          "InnerProduct", "Pooling", "BinaryOp", "UnaryOp", "Eltwise", "Scale", "Crop", "Concat",
                          "PixelShuffle", "Interp", "Padding", "Reshape", "Permute", "Flatten", "Softmax", "ReLU", "PReLU",
                          "Sigmoid", "TanH", "Swish", "Mish", "Clip", "HardSigmoid", "HardSwish", "Noop", "Dropout"})
      if (find_converter(t)) out.emplace_back(t);
    std::sort(out.begin(), out.end());
    return out;
  }();
  return names;
}

}  // namespace yamiro::ncnn
