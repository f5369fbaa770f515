// Analytic convolution FLOPs per architecture (2 FLOPs per multiply-add).
#include <algorithm>
#include <sstream>
#include <string>

#include "yamiro/bench.hpp"
#include "yamiro/error.hpp"

namespace yamiro {
namespace {

double hp(const ArchInfo& a, const char* key) { return a.hyper.count(key) ? a.hyper.at(key) : 0.0; }

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
  throw Error(ErrorKind::Model, "no FLOP count for architecture '" + a.arch + "'");
}

}  // namespace yamiro
