// Converters of ncnn's layout, resampling and activation layers.
#include <algorithm>
#include <map>

#include "models/ncnn_import.hpp"

namespace yamiro::ncnn::layers {
namespace {

using graph::Node;
using V = std::vector<std::int64_t>;

const std::string& in0(const Layer& l, Importer& im) { return im.blob(l.inputs.at(0)); }

void one_in_out(const Layer& l, Importer& im) {
  if (l.inputs.size() != 1 || l.outputs.size() != 1) im.fail(l, "needs one input and one output");
}

Node& same_shape(const Layer& l, Importer& im, const std::string& op) {
  one_in_out(l, im);
  Node& n = im.add(l, op, {in0(l, im)}, {l.outputs[0]});
  im.made(l.outputs[0], im.info(l.inputs[0]));
  return n;
}

// IR axes of ncnn's (w, h, c) for a blob of `rank`, outermost first: rank 3 -> c,h,w = 1,2,3.
std::int64_t ir_axis_w(int rank) { return rank; }

void concat(const Layer& l, Importer& im) {
  if (l.inputs.empty() || l.outputs.size() != 1) im.fail(l, "needs inputs and one output");
  const BlobInfo first = im.info(l.inputs[0]);
  const std::int64_t axis = im.axis(l, im.p(l, 0, 0, -4, 3), first.rank);
  std::vector<std::string> ins;
  std::int64_t channels = 0;
  for (const auto& b : l.inputs) {
    ins.push_back(im.blob(b));
    const auto c = im.info(b).channels;
    channels = (channels < 0 || c < 0) ? -1 : channels + c;
  }
  im.add(l, "Concat", ins, {l.outputs[0]}).attrs["axis"] = axis;
  im.made(l.outputs[0], {first.rank, axis == 1 ? channels : first.channels});
}

void pixel_shuffle(const Layer& l, Importer& im) {
  const long long r = im.p(l, 0, 1, 1, 16), mode = im.p(l, 1, 0, 0, 1);
  Node& n = same_shape(l, im, "PixelShuffle");
  n.attrs["factor"] = static_cast<std::int64_t>(r);
  n.attrs["mode"] = std::string(mode == 0 ? "crd" : "dcr");
  const auto c = im.info(l.inputs[0]).channels;
  im.made(l.outputs[0], {3, c < 0 ? -1 : c / (r * r)});
}

void interp(const Layer& l, Importer& im) {
  one_in_out(l, im);
  if (im.info(l.inputs[0]).rank != 3) im.fail(l, "resizing needs a c,h,w blob");
  if (im.p(l, 5, 0, 0, 0) != 0) im.fail(l, "a dynamic target size is not supported");
  static const char* modes[] = {"", "nearest", "bilinear", "bicubic"};
  const long long type = im.p(l, 0, 0, 1, 3);
  Node& n = same_shape(l, im, "Resize");
  n.attrs["mode"] = std::string(modes[type]);
  n.attrs["align_corners"] = static_cast<std::int64_t>(im.p(l, 6, 0, 0, 1));
  const long long oh = im.p(l, 3, 0, 0, 1 << 16), ow = im.p(l, 4, 0, 0, 1 << 16);
  if (oh > 0 && ow > 0) n.attrs["sizes"] = V{oh, ow};
  else n.attrs["scales"] = std::vector<double>{l.param(1, 1.0), l.param(2, 1.0)};
}

void padding(const Layer& l, Importer& im) {
  if (!l.weights.empty()) im.fail(l, "per-channel pad values are not supported");
  if (im.info(l.inputs.at(0)).rank != 3) im.fail(l, "padding needs a c,h,w blob");
  const long long t = im.p(l, 0, 0, 0, 4096), b = im.p(l, 1, 0, 0, 4096), le = im.p(l, 2, 0, 0, 4096), r = im.p(l, 3, 0, 0, 4096);
  const long long type = im.p(l, 4, 0, 0, 2), front = im.p(l, 7, 0, 0, 4096), behind = im.p(l, 8, 0, 0, 4096);
  if (type != 0 && (front || behind)) im.fail(l, "channel padding is only constant");
  Node& n = same_shape(l, im, "Pad");
  static const char* modes[] = {"constant", "replicate", "reflect"};
  n.attrs["pads"] = V{t, le, b, r};
  n.attrs["mode"] = std::string(modes[type]);
  n.attrs["value"] = l.param(5, 0.0);
  n.attrs["channel_pads"] = V{front, behind};
  const auto c = im.info(l.inputs[0]).channels;
  im.made(l.outputs[0], {3, c < 0 ? -1 : c + front + behind});
}

void reshape(const Layer& l, Importer& im) {
  one_in_out(l, im);
  if (im.p(l, 3, 0, 0, 1)) im.fail(l, "the permuting reshape is not supported");
  if (l.params.count(6) || l.strings.count(6)) im.fail(l, "shape expressions are not supported");
  const long long w = im.p(l, 0, -233, -233, 1 << 24), h = im.p(l, 1, -233, -233, 1 << 24), c = im.p(l, 2, -233, -233, 1 << 24);
  const long long d = im.p(l, 11, -233, -233, 1 << 24);
  V shape;  // IR order: outermost first; ncnn's rank follows the last id set (w, h, c, then d)
  if (d != -233) shape = {c, d, h, w};
  else if (c != -233) shape = {c, h, w};
  else if (h != -233) shape = {h, w};
  else if (w != -233) shape = {w};
  else im.fail(l, "no target shape");
  for (auto v : shape)
    if (v == -233 || v < -1) im.fail(l, "bad target shape");
  const int rank = static_cast<int>(shape.size());
  if (im.info(l.inputs[0]).rank != rank)
    for (auto v : shape)
      if (v == 0) im.fail(l, "0 (keep) between blobs of different ranks is not supported");
  Node& n = im.add(l, "Reshape", {in0(l, im)}, {l.outputs[0]});
  n.attrs["shape"] = shape;
  const std::int64_t ch = shape[0] > 0 ? shape[0] : (shape[0] == 0 ? im.info(l.inputs[0]).channels : -1);
  im.made(l.outputs[0], {rank, ch});
}

// ncnn's order types name the output's axes innermost first ("c w h": out w = in c, out h =
// in w, out c = in h); the IR perm lists, outermost first, the input axis of each output axis.
V permutation(const char* order, int rank) {
  V perm{0};
  for (int k = rank - 1; k >= 0; --k) {
    const char a = order[k];
    const std::int64_t in_axis = a == 'w' ? rank : a == 'h' ? rank - 1 : a == 'd' ? 2 : 1;
    perm.push_back(in_axis);
  }
  return perm;
}

void permute(const Layer& l, Importer& im) {
  one_in_out(l, im);
  const int rank = im.info(l.inputs[0]).rank;
  const long long type = im.p(l, 0, 0, 0, 23);
  static const char* orders2[] = {"wh", "hw"};
  static const char* orders3[] = {"whc", "hwc", "wch", "cwh", "hcw", "chw"};
  static const char* orders4[] = {"whdc", "hwdc", "wdhc", "dwhc", "hdwc", "dhwc", "whcd", "hwcd",
                                  "wchd", "cwhd", "hcwd", "chwd", "wdch", "dwch", "wcdh", "cwdh",
                                  "dcwh", "cdwh", "hdcw", "dhcw", "hcdw", "chdw", "dchw", "cdhw"};
  const char* order = nullptr;
  if (rank == 1) order = "w";  // ncnn passes a vector through whatever the type
  else if (rank == 2 && type <= 1) order = orders2[type];
  else if (rank == 3 && type <= 5) order = orders3[type];
  else if (rank == 4) order = orders4[type];
  else im.fail(l, "order type " + std::to_string(type) + " does not exist for a rank-" + std::to_string(rank) + " blob");
  const V perm = permutation(order, rank);
  im.add(l, "Transpose", {in0(l, im)}, {l.outputs[0]}).attrs["perm"] = perm;
  im.made(l.outputs[0], {rank, perm[1] == 1 ? im.info(l.inputs[0]).channels : -1});
}

void flatten(const Layer& l, Importer& im) {
  one_in_out(l, im);
  im.add(l, "Flatten", {in0(l, im)}, {l.outputs[0]});
  im.made(l.outputs[0], {1, im.info(l.inputs[0]).rank == 1 ? im.info(l.inputs[0]).channels : -1});
}

void softmax(const Layer& l, Importer& im) {
  const int rank = im.info(l.inputs.at(0)).rank;
  const std::int64_t axis = im.axis(l, im.p(l, 0, 0, -4, 3), rank);
  same_shape(l, im, "Softmax").attrs["axis"] = axis;
}

void relu(const Layer& l, Importer& im) { same_shape(l, im, "Relu").attrs["alpha"] = l.param(0, 0.0); }
void prelu(const Layer& l, Importer& im) { same_shape(l, im, "PRelu").weights["slope"] = l.weights.at(0); }
void sigmoid(const Layer& l, Importer& im) { same_shape(l, im, "Sigmoid"); }
void tanh_(const Layer& l, Importer& im) { same_shape(l, im, "Tanh"); }
void swish(const Layer& l, Importer& im) { same_shape(l, im, "Swish"); }
void mish(const Layer& l, Importer& im) { same_shape(l, im, "Mish"); }
void clip(const Layer& l, Importer& im) {
  Node& n = same_shape(l, im, "Clip");
  n.attrs["min"] = l.param(0, -3.4e38);
  n.attrs["max"] = l.param(1, 3.4e38);
}
void hard(const Layer& l, Importer& im, const char* op) {
  Node& n = same_shape(l, im, op);
  n.attrs["alpha"] = l.param(0, 0.2);
  n.attrs["beta"] = l.param(1, 0.5);
}
void hard_sigmoid(const Layer& l, Importer& im) { hard(l, im, "HardSigmoid"); }
void hard_swish(const Layer& l, Importer& im) { hard(l, im, "HardSwish"); }
void noop(const Layer& l, Importer& im) {
  if (l.inputs.size() != l.outputs.size()) im.fail(l, "a Noop passes each input to one output");
  for (std::size_t i = 0; i < l.inputs.size(); ++i) {
    im.alias(l.outputs[i], im.blob(l.inputs[i]));
    im.made(l.outputs[i], im.info(l.inputs[i]));
  }
}
void dropout(const Layer& l, Importer& im) {
  const double s = l.param(0, 1.0);
  if (s == 1.0) return noop(l, im);
  Node& n = same_shape(l, im, "Binary");
  n.attrs["fn"] = std::string("mul");
  n.attrs["scalar"] = s;
}

}  // namespace

// Crop's three forms: a reference blob's size, offsets with sizes, starts/ends/axes.
void crop(const Layer& l, Importer& im) {
  if (l.outputs.size() != 1 || l.inputs.empty() || l.inputs.size() > 2) im.fail(l, "needs one or two inputs and one output");
  const BlobInfo info = im.info(l.inputs[0]);
  const int rank = info.rank;
  if (l.strings.count(19) || l.strings.count(20) || l.strings.count(21)) im.fail(l, "expression slices are not supported");
  const long long wo = im.p(l, 0, 0, 0, 1 << 24), ho = im.p(l, 1, 0, 0, 1 << 24), co = im.p(l, 2, 0, 0, 1 << 24);
  if (rank > 3 && !l.params.count(9)) im.fail(l, "a 4-D blob is cut only in the starts/ends/axes form here");
  if (l.inputs.size() == 2) {
    const BlobInfo ref = im.info(l.inputs[1]);
    if (ref.rank != rank) im.fail(l, "a reference blob of another rank is not supported");
    V axes, offsets;
    if (rank == 3) axes = {1, 2, 3}, offsets = {co, ho, wo};
    else if (rank == 2) axes = {1, 2}, offsets = {ho, wo};
    else axes = {1}, offsets = {wo};
    Node& n = im.add(l, "CropLike", {in0(l, im), im.blob(l.inputs[1])}, {l.outputs[0]});
    n.attrs["axes"] = axes;
    n.attrs["offsets"] = offsets;
    im.made(l.outputs[0], {rank, rank == 3 ? ref.channels : info.channels});
    return;
  }
  V axes, starts, ends, lens;
  const auto st = l.params.find(9), en = l.params.find(10), ax = l.params.find(11);
  if (st != l.params.end() && en != l.params.end()) {
    if (st->second.size() != en->second.size()) im.fail(l, "starts and ends differ in length");
    for (std::size_t i = 0; i < st->second.size(); ++i) {
      const double a = ax != l.params.end() ? (i < ax->second.size() ? ax->second[i] : -999) : static_cast<double>(i);
      if (a == -999) im.fail(l, "fewer axes than starts");
      axes.push_back(im.axis(l, static_cast<long long>(a), rank));
      const double s = st->second[i], e = en->second[i];
      starts.push_back(s == -233 ? 0 : static_cast<std::int64_t>(s));
      // ncnn: an end of 0 or -233 runs to the end; negative counts from the end.
      ends.push_back((e == -233 || e == 0) ? graph::kSliceEnd : static_cast<std::int64_t>(e));
      lens.push_back(graph::kSliceEnd);
    }
  } else {
    const long long ow = im.p(l, 3, 0, -233, 1 << 24), oh = im.p(l, 4, 0, -233, 1 << 24), oc = im.p(l, 5, 0, -233, 1 << 24);
    const long long wo2 = im.p(l, 6, 0, 0, 1 << 24), ho2 = im.p(l, 7, 0, 0, 1 << 24), co2 = im.p(l, 8, 0, 0, 1 << 24);
    auto add = [&](std::int64_t axis, long long off, long long off2, long long len) {
      axes.push_back(axis);
      starts.push_back(off);
      ends.push_back(off2 == 0 ? graph::kSliceEnd : -off2);
      lens.push_back(len == -233 ? graph::kSliceEnd : len);
    };
    if (rank == 3) add(1, co, co2, oc);
    if (rank >= 2) add(ir_axis_w(rank) - 1, ho, ho2, oh);
    add(ir_axis_w(rank), wo, wo2, ow);
  }
  Node& n = im.add(l, "Slice", {in0(l, im)}, {l.outputs[0]});
  n.attrs["axes"] = axes;
  n.attrs["starts"] = starts;
  n.attrs["ends"] = ends;
  n.attrs["max_lengths"] = lens;
  std::int64_t channels = info.channels;
  if (std::find(axes.begin(), axes.end(), 1) != axes.end()) {
    // A vector cut between fixed positions has a known length (for broadcasting later).
    const bool fixed = rank == 1 && starts[0] >= 0 && ends[0] > 0 && ends[0] != graph::kSliceEnd;
    channels = fixed ? std::min(ends[0] - starts[0], lens[0]) : -1;
  }
  im.made(l.outputs[0], {rank, channels});
}

void shape_layers(std::map<std::string, Converter>& t) {
  t["Concat"] = &concat;
  t["PixelShuffle"] = &pixel_shuffle;
  t["Interp"] = &interp;
  t["Padding"] = &padding;
  t["Reshape"] = &reshape;
  t["Permute"] = &permute;
  t["Flatten"] = &flatten;
  t["Softmax"] = &softmax;
}

void activation_layers(std::map<std::string, Converter>& t) {
  t["ReLU"] = &relu;
  t["PReLU"] = &prelu;
  t["Sigmoid"] = &sigmoid;
  t["TanH"] = &tanh_;
  t["Swish"] = &swish;
  t["Mish"] = &mish;
  t["Clip"] = &clip;
  t["HardSigmoid"] = &hard_sigmoid;
  t["HardSwish"] = &hard_swish;
  t["Noop"] = &noop;
  t["Dropout"] = &dropout;
}

}  // namespace yamiro::ncnn::layers
