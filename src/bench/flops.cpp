// Analytic convolution FLOPs per architecture (2 FLOPs per multiply-add).
#include <algorithm>
#include <sstream>
#include <string>

#include "graph/ops.hpp"
#include "yamiro/bench.hpp"
#include "yamiro/error.hpp"

namespace yamiro {
namespace {

double hp(const ArchInfo& a, const char* key) { return a.hyper.count(key) ? a.hyper.at(key) : 0.0; }

// Sum of a "6,6,6,6" option (SwinIR depths).
double option_sum(const ArchInfo& a, const char* key) {
  double sum = 0;
  std::istringstream in(a.options.count(key) ? a.options.at(key) : "");
  for (std::string item; std::getline(in, item, ',');) sum += std::stod(item);
  return sum;
}

// SwinIR, counted on the input pixels (the pad to a window multiple is left out): the
// linear layers and the two attention matmuls of every block, the convolutions, the
// upsampler. LayerNorm, softmax and GELU are not counted, as activations are not above.
double swinir_flops(const ArchInfo& a) {
  const double c = hp(a, "embed_dim"), n = hp(a, "window_size") * hp(a, "window_size"), nf = hp(a, "num_feat");
  const double s = a.scale, hidden = c * std::stod(a.options.at("mlp_ratio"));
  const double block = 3 * c * c + 2 * n * c + c * c + 2 * c * hidden;  // qkv, q.k and attn.v, proj, mlp
  const double resi = a.options.at("resi_connection") == "3conv" ? 9 * c * c / 4 + c * c / 16 + 9 * c * c / 4 : 9 * c * c;
  const double stages = std::count(a.options.at("depths").begin(), a.options.at("depths").end(), ',') + 1.0;
  double macs = 9 * 3 * c + option_sum(a, "depths") * block + (stages + 1) * resi;
  const std::string& up = a.options.at("upsampler");
  if (up == "pixelshuffledirect") {
    macs += 9 * c * 3 * s * s;
  } else if (up == "pixelshuffle") {
    macs += 9 * c * nf;
    if (a.scale == 3) macs += 9 * nf * 9 * nf;
    else
      for (double side = 1; side < s; side *= 2) macs += side * side * 9 * nf * 4 * nf;  // x2 steps
    macs += s * s * 9 * nf * 3;
  } else {  // nearest+conv: up1 at 2x, up2 at 4x, conv_hr and conv_last at the output size
    macs += 9 * c * nf + 4 * 9 * nf * nf + (s == 4 ? 16 * 9 * nf * nf : 0) + s * s * (9 * nf * nf + 9 * nf * 3);
  }
  return 2.0 * macs;
}

}  // namespace

double flops_per_input_pixel(const ArchInfo& a) {
  if (a.flops_per_px > 0) return a.flops_per_px;  // counted by the architecture's detector
  const double k = 9.0;  // 3x3 kernels
  const double s = a.scale;
  if (a.arch == "SRVGGNetCompact") {
    const double nf = hp(a, "num_feat"), nc = hp(a, "num_conv");
    return 2.0 * k * (3 * nf + nc * nf * nf + nf * 3 * s * s);
  }
  if (a.arch == "RRDBNet") {
    const double nf = hp(a, "num_feat"), gc = hp(a, "num_grow_ch"), nb = hp(a, "num_block");
    // Scale 2/1 run the body on pixel-unshuffled input: (s/4)^2 of the input pixels.
    const double body_px = s * s / 16.0;
    const double cin = 3.0 * 16.0 / (s * s);
    double rdb = 0;
    for (int j = 0; j < 4; ++j) rdb += (nf + j * gc) * gc;
    rdb += (nf + 4 * gc) * nf;
    const double at_body = cin * nf + nb * 3 * rdb + nf * nf;   // conv_first, blocks, conv_body
    const double after = 4 * nf * nf + 16 * (2 * nf * nf + nf * 3);  // up1 at 2x, up2 + hr + last at 4x
    return 2.0 * k * body_px * (at_body + after);
  }
  if (a.arch == "SwinIR") return swinir_flops(a);
  if (a.arch == "Graph" && a.graph) {
    // Counted op by op on a 128x128 image (plus the border the graph eats), per image pixel.
    const int n = graph::valid_input_side(a, 128);
    return graph::cost(*a.graph, n, n).flops / (128.0 * 128.0);
  }
  throw Error(ErrorKind::Model, "no FLOP count for architecture '" + a.arch + "'");
}

}  // namespace yamiro
