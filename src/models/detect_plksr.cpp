// PLKSR and RealPLKSR detection (spandrel's PLKSR and RealPLKSR archs): feats.0 gives the
// width, feats.N.refine the block count, feats.N.lk the kernel and the partial channels,
// the last conv the scale; RealPLKSR's GroupNorm / LayerNorm and DySample from their keys.
// Every tensor must be accounted for; a left-over or mis-shaped one is an unknown layout.
#include <algorithm>
#include <cmath>

#include "models/detect.hpp"
#include "models/detect_reader.hpp"

namespace yamiro {
namespace {

using detect::Reader;
using detect::shape_text;

// What every block must agree on; set by the first block.
struct Layout {
  std::int64_t dim = 0, pdim = -1, kernel = 0;
  std::string mixer, lk;
  int ea = -1, layer_norm = -1;
  double mixer_macs = 0, lk_macs = 0;
};

void agree(Reader& r, const std::string& p, const char* what, std::int64_t& have, std::int64_t now) {
  if (have <= 0) have = now;
  if (have != now) r.fail(p + " has a different " + what + " than feats.1");
}
void agree(Reader& r, const std::string& p, const char* what, int& have, int now) {
  if (have < 0) have = now;
  if (have != now) r.fail(p + " has a different " + what + " than feats.1");
}
void agree(Reader& r, const std::string& p, const char* what, std::string& have, const std::string& now) {
  if (have.empty()) have = now;
  if (have != now) r.fail(p + " has a different " + what + " than feats.1");
}

// The partial large kernel on the first pdim channels: PLK (one k x k conv), or PLKSR's
// RectSparsePLK (k x k/3, k/3 x k, k/3 x k/3, summed).
void large_kernel(Reader& r, const std::string& p, bool real, Layout& l) {
  const std::int64_t dim = l.dim;
  if (r.has(p + "lk.conv.weight")) {
    const HostTensor& w = r.conv_weight(p + "lk.conv.weight");
    const std::int64_t pd = w.shape[0], k = w.shape[2];
    if (pd < 1 || pd > dim || k % 2 == 0) r.fail(p + "lk.conv.weight is " + shape_text(w.shape) + ", not [p,p,k,k] with p <= dim, odd k");
    r.layer(p + "lk.conv", {pd, pd, k, k});
    agree(r, p, "large kernel", l.lk, std::string("PLK"));
    agree(r, p, "partial channel count", l.pdim, pd);
    agree(r, p, "kernel size", l.kernel, k);
    l.lk_macs = static_cast<double>(k * k * pd * pd);
    return;
  }
  if (!real && r.has(p + "lk.mn_conv.weight")) {
    const HostTensor& w = r.conv_weight(p + "lk.mn_conv.weight");
    const std::int64_t pd = w.shape[0], m = w.shape[2], n = m / 3;
    if (pd < 1 || pd > dim || n < 1) r.fail(p + "lk.mn_conv.weight is " + shape_text(w.shape) + ", not [p,p,m,m/3]");
    r.layer(p + "lk.mn_conv", {pd, pd, m, n});
    r.layer(p + "lk.nm_conv", {pd, pd, n, m});
    r.layer(p + "lk.nn_conv", {pd, pd, n, n});
    agree(r, p, "large kernel", l.lk, std::string("RectSparsePLK"));
    agree(r, p, "partial channel count", l.pdim, pd);
    agree(r, p, "kernel size", l.kernel, m);
    l.lk_macs = static_cast<double>((2 * m * n + n * n) * pd * pd);
    return;
  }
  if (r.has(p + "lk.convs.0.weight"))
    r.fail("PLKSR with SparsePLK (" + p + "lk.convs.N): its dilations are not stored in the weights");
  r.fail((real ? "RealPLKSR" : std::string("PLKSR")) + " without " + p + "lk.conv.weight");
}

void block(Reader& r, int i, bool real, Layout& l) {
  const std::string p = "feats." + std::to_string(i) + ".";
  const std::int64_t dim = l.dim;
  if (real) {
    const int ln = r.has(p + "layer_norm.weight") ? 1 : 0;
    agree(r, p, "norm (LayerNorm or GroupNorm)", l.layer_norm, ln);
    if (ln) r.layer(p + "layer_norm", {dim});
    r.layer(p + "channel_mixer.0", {2 * dim, dim, 3, 3});
    r.layer(p + "channel_mixer.2", {dim, 2 * dim, 3, 3});
    l.mixer = "DCCM";
    l.mixer_macs = static_cast<double>(2 * 9 * dim * 2 * dim);
  } else {
    // CCM: 3x3 then 1x1; ICCM: 1x1 then 3x3; DCCM: 3x3 and 3x3 (GELU between).
    const HostTensor& m0 = r.conv_weight(p + "channe_mixer.0.weight");
    const HostTensor& m2 = r.conv_weight(p + "channe_mixer.2.weight");
    const std::int64_t k0 = m0.shape[2], k2 = m2.shape[2];
    std::string kind;
    if (k0 == 3 && k2 == 1) kind = "CCM";
    else if (k0 == 1 && k2 == 3) kind = "ICCM";
    else if (k0 == 3 && k2 == 3) kind = "DCCM";
    else r.fail(p + "channe_mixer has " + std::to_string(k0) + "x" + std::to_string(k0) + " and " + std::to_string(k2) + "x" +
                std::to_string(k2) + " kernels (CCM 3/1, ICCM 1/3, DCCM 3/3 expected)");
    r.layer(p + "channe_mixer.0", {2 * dim, dim, k0, k0});
    r.layer(p + "channe_mixer.2", {dim, 2 * dim, k2, k2});
    agree(r, p, "channel mixer", l.mixer, kind);
    l.mixer_macs = static_cast<double>((k0 * k0 + k2 * k2) * dim * 2 * dim);
  }
  large_kernel(r, p, real, l);
  const int ea = r.has(p + "attn.f.0.weight") ? 1 : 0;
  agree(r, p, "element-wise attention", l.ea, ea);
  if (ea) r.layer(p + "attn.f.0", {dim, dim, 3, 3});
  r.layer(p + "refine", {dim, dim, 1, 1});
  if (real && !l.layer_norm) {
    if (dim % 4 != 0) r.fail("RealPLKSR GroupNorm(4) over " + std::to_string(dim) + " channels");
    r.layer(p + "norm", {dim});
  }
}

}  // namespace

ArchInfo detect_plksr(const StateDict& sd) {
  // RealPLKSR spells channel_mixer; the original PLKSR spells it channe_mixer.
  const bool real = sd.count("feats.1.channel_mixer.0.weight") > 0;
  const std::string arch = real ? "RealPLKSR" : "PLKSR";
  Reader r(sd, arch);
  const HostTensor& first = r.conv_weight("feats.0.weight");
  Layout l;
  l.dim = first.shape[0];
  if (first.shape[1] != 3) r.fail(arch + " with " + std::to_string(first.shape[1]) + " input channels (only RGB models are run)");
  r.layer("feats.0", {l.dim, 3, 3, 3});
  const int blocks = r.count("feats.", ".refine.weight", 1);
  if (blocks == 0) r.fail(arch + " without feats.1.refine.weight");
  for (int i = 1; i <= blocks; ++i) block(r, i, real, l);

  // The last conv gives 3 * scale^2 channels; RealPLKSR has a Dropout2d (no weights) before it.
  const std::string last = "feats." + std::to_string(blocks + (real ? 2 : 1));
  const HostTensor& lw = r.conv_weight(last + ".weight");
  const int scale = static_cast<int>(std::lround(std::sqrt(static_cast<double>(lw.shape[0]) / 3)));
  if (scale < 1 || 3 * scale * scale != lw.shape[0])
    r.fail(last + " gives " + std::to_string(lw.shape[0]) + " channels, not 3 * scale^2 (only RGB models are run)");
  r.layer(last, {lw.shape[0], l.dim, 3, 3});

  const double s2 = static_cast<double>(scale) * scale, c = 3 * s2, dim = static_cast<double>(l.dim);
  std::string upsampler = "pixelshuffle";
  double up_macs = 0, up_live = 3 * c;  // the conv output, the repeated input, the shuffled sum
  int groups = 0;
  if (real && r.has("to_img.init_pos")) {
    // DySample over the 3 s^2 channels: groups 3 at odd scales, else 4; 1x1 end conv unless x1.
    upsampler = "dysample";
    groups = scale % 2 ? 3 : 4;
    const std::int64_t oc = 2LL * groups * scale * scale, cin = 3LL * scale * scale;
    r.expect("to_img.init_pos", {1, oc, 1, 1});
    r.layer("to_img.offset", {oc, cin, 1, 1});
    r.layer("to_img.scope", {oc, cin, 1, 1}, false);
    if (scale != 1) r.layer("to_img.end_conv", {3, cin, 1, 1});
    // offset and scope (1x1), 4 taps per sampled value at the output size, the end conv there.
    up_macs = 2 * c * oc + s2 * (4 * c + (scale != 1 ? 3 * c : 0));
    up_live = c + 3.0 * oc + s2 * c + 3 * s2;
  }
  r.expect_all_used();

  ArchInfo info;
  info.arch = arch;
  info.scale = scale;
  info.hyper = {{"dim", static_cast<int>(l.dim)},
                {"n_blocks", blocks},
                {"kernel_size", static_cast<int>(l.kernel)},
                {"partial_channels", static_cast<int>(l.pdim)}};
  if (groups) info.hyper["dysample_groups"] = groups;
  info.options = {{"upsampler", upsampler}, {"channel_mixer", l.mixer}, {"large_kernel", l.lk}};
  if (!l.ea) info.options["element_attention"] = "false";
  const bool group_norm = real && !l.layer_norm;
  if (real) info.options["norm"] = group_norm ? "GroupNorm" : "LayerNorm";
  // Per input pixel: feats.0, per block the mixer, the large kernel, EA and refine, the last
  // conv, the upsampler (norms, activations and the pixel shuffle are not counted).
  const double block_macs = l.mixer_macs + l.lk_macs + (l.ea ? 9 * dim * dim : 0) + dim * dim;
  info.flops_per_px = 2.0 * (9 * 3 * dim + blocks * block_macs + 9 * dim * c + up_macs);
  // A block holds its input, the mixer's 2 dim hidden map and its output, EA's gate and product.
  info.live_values_per_px = std::max(6 * dim + 3, up_live);
  info.cpu_tile = 256;  // not measured: the all-convolution figure (SRVGGNetCompact's)
  // GroupNorm takes its statistics over the whole image: a tile sees only its own, and the
  // reference refuses fp16 for it (spandrel: supports_half only with LayerNorm).
  info.global_reduction = group_norm;
  info.fp16_unsafe = group_norm;
  return info;
}

}  // namespace yamiro
