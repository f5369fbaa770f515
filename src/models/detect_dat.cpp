// DAT detection (Dual Aggregation Transformer, Chen et al. 2023): every hyper-parameter
// from key names and shapes. Even blocks of a residual group are spatial-window attention
// (two branches on rectangular windows of swapped orientation, dynamic position bias),
// odd ones channel attention; both carry the adaptive interaction convolutions, and every
// block ends with the spatial-gate feed-forward network (SGFN). Every tensor must be
// accounted for; a left-over or mis-shaped one is an unknown layout.
#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include "models/detect.hpp"
#include "models/detect_reader.hpp"

namespace yamiro {
namespace {

using detect::shape_text;

using detect::join;

// The shared reader (models/detect_reader.hpp), failing as "DAT without KEY".
class Reader : public detect::Reader {
 public:
  explicit Reader(const StateDict& sd) : detect::Reader(sd, "DAT") {}

  // nn.BatchNorm2d (eval): affine parameters, running statistics, and the step counter
  // that torch saves (a 0-d integer; some exporters drop it).
  void batch_norm(const std::string& name, std::int64_t c) {
    layer(name, {c});
    expect(name + ".running_mean", {c});
    const HostTensor& var = expect(name + ".running_var", {c});
    for (const float v : var.values)
      if (!(v >= 0)) fail(name + ".running_var holds a negative or NaN variance");
    if (has(name + ".num_batches_tracked")) {
      const HostTensor& n = get(name + ".num_batches_tracked");
      if (n.numel() != 1) fail(name + ".num_batches_tracked is " + shape_text(n.shape) + ", not a scalar");
    }
  }
};

// What the blocks must agree on; 0 / -1 until the first block sets it.
struct Shared {
  std::int64_t dim = 0;
  int split0 = 0, split1 = 0;  // branch 0's window is split0 x split1 (rows x columns)
  std::int64_t hidden = 0;     // SGFN width
  int qkv_bias = -1;
};

// The reference shifts spatial blocks 2, 6, 10, ... of even groups and 0, 4, 8, ... of odd ones.
bool shifted(int group, int block) {
  return group % 2 == 0 ? block > 0 && (block - 2) % 4 == 0 : block % 4 == 0;
}

// The dynamic position bias table's input: every (dy, dx) offset of an h x w window,
// dy-major, as float pairs. Returns the window (h, w) it was made for.
std::pair<int, int> offsets(Reader& r, const std::string& key) {
  const HostTensor& t = r.get(key);
  if (t.shape.size() != 2 || t.shape[1] != 2 || t.shape[0] < 1) r.fail(key + " is " + shape_text(t.shape) + ", not [(2h-1)(2w-1), 2]");
  const int h = static_cast<int>(std::lround(t.values[t.values.size() - 2])) + 1;
  const int w = static_cast<int>(std::lround(t.values.back())) + 1;
  if (h < 1 || w < 1 || static_cast<std::int64_t>(2 * h - 1) * (2 * w - 1) != t.shape[0])
    r.fail(key + " does not list the offsets of a window (" + std::to_string(t.shape[0]) + " rows)");
  std::size_t i = 0;
  for (int dy = 1 - h; dy < h; ++dy)
    for (int dx = 1 - w; dx < w; ++dx, i += 2)
      if (t.values[i] != static_cast<float>(dy) || t.values[i + 1] != static_cast<float>(dx))
        r.fail(key + " row " + std::to_string(i / 2) + " is not the offset (" + std::to_string(dy) + ", " + std::to_string(dx) + ")");
  return {h, w};
}

// The adaptive interaction module's convolutions (both attention kinds have them).
void interaction(Reader& r, const std::string& a, std::int64_t dim) {
  r.layer(a + "dwconv.0", {dim, 1, 3, 3});
  r.batch_norm(a + "dwconv.1", dim);
  r.layer(a + "channel_interaction.1", {dim / 8, dim, 1, 1});
  r.batch_norm(a + "channel_interaction.2", dim / 8);
  r.layer(a + "channel_interaction.4", {dim, dim / 8, 1, 1});
  r.layer(a + "spatial_interaction.0", {dim / 16, dim, 1, 1});
  r.batch_norm(a + "spatial_interaction.1", dim / 16);
  r.layer(a + "spatial_interaction.3", {1, dim / 16, 1, 1});
}

void qkv_proj(Reader& r, const std::string& a, Shared& s) {
  const int bias = r.has(a + "qkv.bias") ? 1 : 0;
  if (s.qkv_bias < 0) s.qkv_bias = bias;
  if (bias != s.qkv_bias) r.fail(a + "qkv.bias is present in some blocks only");
  r.layer(a + "qkv", {3 * s.dim, s.dim}, bias == 1);
  r.layer(a + "proj", {s.dim, s.dim});
}

// A spatial block's attention; returns the heads of one branch.
int spatial(Reader& r, const std::string& a, Shared& s, bool shift) {
  qkv_proj(r, a, s);
  const std::int64_t half = s.dim / 2, pos = half / 4 / 4;  // DynamicPosBias(dim/4) of dim/2 channels: dim/4/4
  if (pos < 1) r.fail("embed_dim " + std::to_string(s.dim) + " leaves the position-bias MLP no channels (DAT needs 32 or more)");
  int heads = 0;
  for (int k = 0; k < 2; ++k) {
    const std::string p = a + "attns." + std::to_string(k) + ".";
    const auto [h, w] = offsets(r, p + "rpe_biases");
    // Branch 1's window is branch 0's turned on its side.
    const int s0 = k == 0 ? h : w, s1 = k == 0 ? w : h;
    if (s.split0 == 0) {
      s.split0 = s0;
      s.split1 = s1;
    }
    if (s0 != s.split0 || s1 != s.split1)
      r.fail(p + "rpe_biases is for split_size [" + std::to_string(s0) + "," + std::to_string(s1) + "] where earlier blocks have [" +
             std::to_string(s.split0) + "," + std::to_string(s.split1) + "]");
    const std::int64_t n = static_cast<std::int64_t>(h) * w;
    if (r.has(p + "relative_position_index")) r.expect(p + "relative_position_index", {n, n});
    r.layer(p + "pos.pos_proj", {pos, 2});
    r.layer(p + "pos.pos1.0", {pos});
    r.layer(p + "pos.pos1.2", {pos, pos});
    r.layer(p + "pos.pos2.0", {pos});
    r.layer(p + "pos.pos2.2", {pos, pos});
    r.layer(p + "pos.pos3.0", {pos});
    const HostTensor& out = r.get(p + "pos.pos3.2.weight");
    if (out.shape.size() != 2 || out.shape[1] != pos || out.shape[0] < 1) r.fail(p + "pos.pos3.2.weight is " + shape_text(out.shape) + ", not [heads, " + std::to_string(pos) + "]");
    if (k == 1 && out.shape[0] != heads) r.fail(a + " has branches with different head counts");
    heads = static_cast<int>(out.shape[0]);
    r.layer(p + "pos.pos3.2", {heads, pos});
    if (half % heads != 0) r.fail(p + ": " + std::to_string(half) + " channels are not a multiple of " + std::to_string(heads) + " heads");
  }
  // The stored masks are for the training size (recomputed for every image); they exist
  // on shifted blocks only.
  const std::int64_t n = static_cast<std::int64_t>(s.split0) * s.split1;
  for (const char* m : {"attn_mask_0", "attn_mask_1"}) {
    if (!r.has(a + m)) continue;
    const HostTensor& t = r.get(a + m);
    if (!shift || t.shape.size() != 3 || t.shape[1] != n || t.shape[2] != n)
      r.fail(a + m + " " + shape_text(t.shape) + " does not fit a " + (shift ? "" : "non-") + "shifted window of " + std::to_string(n) + " tokens");
  }
  interaction(r, a, s.dim);
  return heads;
}

// A channel block's attention; returns its heads.
int channel(Reader& r, const std::string& a, Shared& s) {
  const HostTensor& t = r.get(a + "temperature");
  if (t.shape.size() != 3 || t.shape[0] < 1 || t.shape[1] != 1 || t.shape[2] != 1) r.fail(a + "temperature is " + shape_text(t.shape) + ", not [heads,1,1]");
  const int heads = static_cast<int>(t.shape[0]);
  if (s.dim % heads != 0) r.fail(a + ": embed_dim " + std::to_string(s.dim) + " is not a multiple of " + std::to_string(heads) + " heads");
  qkv_proj(r, a, s);
  interaction(r, a, s.dim);
  return heads;
}

void sgfn(Reader& r, const std::string& f, Shared& s) {
  const HostTensor& fc1 = r.get(f + "fc1.weight");
  if (fc1.shape.size() != 2 || fc1.shape[1] != s.dim || fc1.shape[0] < 2 || fc1.shape[0] % 2 != 0)
    r.fail(f + "fc1.weight is " + shape_text(fc1.shape) + ", not [2k, " + std::to_string(s.dim) + "]");
  if (s.hidden == 0) s.hidden = fc1.shape[0];
  if (fc1.shape[0] != s.hidden) r.fail(f + "fc1 has " + std::to_string(fc1.shape[0]) + " outputs where earlier blocks have " + std::to_string(s.hidden));
  const std::int64_t g = s.hidden / 2;
  r.layer(f + "fc1", {s.hidden, s.dim});
  r.layer(f + "sg.norm", {g});
  r.layer(f + "sg.conv", {g, 1, 3, 3});
  r.layer(f + "fc2", {s.dim, g});
}

std::string residual_conv(Reader& r, const std::string& name, std::int64_t dim) {
  if (r.has(name + ".weight")) {
    r.layer(name, {dim, dim, 3, 3});
    return "1conv";
  }
  if (r.has(name + ".0.weight")) {
    r.layer(name + ".0", {dim / 4, dim, 3, 3});
    r.layer(name + ".2", {dim / 4, dim / 4, 1, 1});
    r.layer(name + ".4", {dim, dim / 4, 3, 3});
    return "3conv";
  }
  r.fail("DAT without " + name + ".weight (1conv) or " + name + ".0.weight (3conv)");
}

std::string number_text(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

// The analytic cost, per input pixel (the zero pad to the window grid left out): linear
// layers, the two attention products of each kind, the depthwise and 1x1 convolutions of
// the interaction module and the SGFN, the convolutions and the upsampler. Norms,
// activations, the pooled channel maps and the position-bias MLP (once per image) are
// not counted. 2 FLOPs per multiply-add.
double dat_flops(const Shared& s, const std::vector<int>& depths, const std::vector<int>& heads, const std::string& resi,
                 const std::string& upsampler, int scale, std::int64_t num_feat) {
  const double c = static_cast<double>(s.dim), n = static_cast<double>(s.split0) * s.split1, g = static_cast<double>(s.hidden) / 2;
  const double common = 4 * c * c + 9 * c + c * (c / 16) + c / 16 + c * 2 * g + 9 * g + g * c;  // qkv+proj, AIM, SGFN
  const double resi_macs = resi == "3conv" ? 9 * c * (c / 4) + (c / 4) * (c / 4) + 9 * (c / 4) * c : 9 * c * c;
  double macs = 9 * 3 * c + resi_macs * (static_cast<double>(depths.size()) + 1);
  for (std::size_t i = 0; i < depths.size(); ++i)
    for (int j = 0; j < depths[i]; ++j)
      macs += common + (j % 2 == 0 ? 2 * n * c : 2 * c * c / heads[i]);  // window q.k + attn.v; channel q.k + attn.v
  const double s2 = static_cast<double>(scale) * scale, nf = static_cast<double>(num_feat);
  if (upsampler == "pixelshuffledirect") {
    macs += 9 * c * 3 * s2;
  } else {
    macs += 9 * c * nf;
    if (scale == 3) macs += 9 * nf * 9 * nf;
    else
      for (double side = 1; side < scale; side *= 2) macs += side * side * 9 * nf * 4 * nf;
    macs += s2 * 9 * nf * 3;
  }
  return 2 * macs;
}

}  // namespace

ArchInfo detect_dat(const StateDict& sd) {
  Reader r(sd);
  const HostTensor& first = r.get("conv_first.weight");
  if (first.shape.size() != 4 || first.shape[2] != 3 || first.shape[3] != 3) r.fail("conv_first.weight is not a 3x3 convolution");
  Shared s;
  s.dim = first.shape[0];
  const std::int64_t in_ch = first.shape[1];
  if (in_ch != 3) r.fail("DAT with " + std::to_string(in_ch) + " input channels (only RGB models are run)");
  r.layer("conv_first", {s.dim, in_ch, 3, 3});
  r.layer("before_RG.1", {s.dim});

  const int groups = r.count("layers.", ".blocks.0.norm1.weight");
  if (groups == 0) r.fail("DAT without layers.0.blocks.0");
  std::vector<int> depths, heads;
  std::string resi;
  for (int i = 0; i < groups; ++i) {
    const std::string lp = "layers." + std::to_string(i) + ".blocks.";
    const int depth = r.count(lp, ".norm1.weight");
    int spatial_heads = 0, channel_heads = 0;
    for (int j = 0; j < depth; ++j) {
      const std::string p = lp + std::to_string(j) + ".";
      r.layer(p + "norm1", {s.dim});
      r.layer(p + "norm2", {s.dim});
      const int h = j % 2 == 0 ? spatial(r, p + "attn.", s, shifted(i, j)) : channel(r, p + "attn.", s);
      int& seen = j % 2 == 0 ? spatial_heads : channel_heads;
      if (seen != 0 && seen != h) r.fail("layers." + std::to_string(i) + " has blocks with different head counts");
      seen = h;
      sgfn(r, p + "ffn.", s);
    }
    // Each spatial branch has num_heads / 2 heads. A group of one block has no channel
    // block to read num_heads from: it is twice the branch's (an odd count would read
    // one lower, as in the reference's own loader).
    if (channel_heads != 0 && channel_heads / 2 != spatial_heads)
      r.fail("layers." + std::to_string(i) + ": spatial branches have " + std::to_string(spatial_heads) + " heads, not half the channel blocks' " +
             std::to_string(channel_heads));
    heads.push_back(channel_heads != 0 ? channel_heads : 2 * spatial_heads);
    depths.push_back(depth);
    const std::string c = residual_conv(r, "layers." + std::to_string(i) + ".conv", s.dim);
    if (!resi.empty() && c != resi) r.fail("layers." + std::to_string(i) + ".conv is " + c + " where earlier groups use " + resi);
    resi = c;
  }
  r.layer("norm", {s.dim});
  if (residual_conv(r, "conv_after_body", s.dim) != resi) r.fail("conv_after_body and the groups' convs differ (1conv/3conv)");

  ArchInfo info;
  info.arch = "DAT";
  info.in_channels = static_cast<int>(in_ch);
  info.out_channels = static_cast<int>(in_ch);
  std::string upsampler;
  int scale = 1;
  std::int64_t num_feat = s.dim;
  if (r.has("conv_before_upsample.0.weight")) {
    upsampler = "pixelshuffle";
    const HostTensor& before = r.get("conv_before_upsample.0.weight");
    if (before.shape.size() != 4 || before.shape[0] < 1) r.fail("conv_before_upsample.0.weight is " + shape_text(before.shape));
    num_feat = before.shape[0];
    r.layer("conv_before_upsample.0", {num_feat, s.dim, 3, 3});
    int n_conv = 0;
    while (r.has("upsample." + std::to_string(2 * n_conv) + ".weight")) ++n_conv;
    if (n_conv == 0) r.fail("pixelshuffle DAT without upsample.0.weight");
    const HostTensor& up0 = r.get("upsample.0.weight");
    if (n_conv == 1 && up0.shape.size() == 4 && up0.shape[0] == 9 * num_feat) {
      r.layer("upsample.0", {9 * num_feat, num_feat, 3, 3});
      scale = 3;
    } else {
      for (int k = 0; k < n_conv; ++k) r.layer("upsample." + std::to_string(2 * k), {4 * num_feat, num_feat, 3, 3});
      scale = 1 << n_conv;
    }
    r.layer("conv_last", {in_ch, num_feat, 3, 3});
    info.hyper["num_feat"] = static_cast<int>(num_feat);
  } else if (r.has("upsample.0.weight")) {
    upsampler = "pixelshuffledirect";
    const HostTensor& up = r.get("upsample.0.weight");
    if (up.shape.size() != 4 || up.shape[1] != s.dim || up.shape[0] % in_ch != 0) r.fail("upsample.0.weight is " + shape_text(up.shape));
    scale = static_cast<int>(std::lround(std::sqrt(static_cast<double>(up.shape[0] / in_ch))));
    if (scale < 1 || in_ch * scale * scale != up.shape[0]) r.fail("upsample.0 gives " + std::to_string(up.shape[0]) + " channels, not 3 * scale^2");
    r.layer("upsample.0", {up.shape[0], s.dim, 3, 3});
  } else {
    r.fail("DAT without an upsampler (conv_before_upsample.0 + upsample.N: pixelshuffle; upsample.0: pixelshuffledirect)");
  }
  r.expect_all_used();
  if (s.split0 == 0) r.fail("DAT without a spatial block");

  info.scale = scale;
  info.hyper["embed_dim"] = static_cast<int>(s.dim);
  info.options = {{"upsampler", upsampler},
                  {"resi_connection", resi},
                  {"depths", join(depths)},
                  {"num_heads", join(heads)},
                  {"split_size", std::to_string(s.split0) + "," + std::to_string(s.split1)},
                  {"expansion_factor", number_text(static_cast<double>(s.hidden) / static_cast<double>(s.dim))}};
  if (s.qkv_bias == 0) info.options["qkv_bias"] = "false";
  // img_range is not stored in the weights; every released DAT uses 1 (and the DIV2K mean
  // for RGB), which the network applies.

  // Windows need the padded grid to start where the image's does: tiles on multiples of
  // the larger split side (what each spatial block pads to).
  info.tile_multiple = std::max(s.split0, s.split1);
  info.fp16_unsafe = true;      // the reference refuses fp16 (spandrel: supports_half=False)
  info.global_reduction = true;  // channel attention normalises q/k over every token; AIM pools the image
  info.flops_per_px = dat_flops(s, depths, heads, resi, upsampler, scale, num_feat);
  // Per token at the peak (inside a spatial block): the residual stream and its norm,
  // q/k/v with their padded, shifted and windowed copies (4 x 3C), the two branches'
  // attention matrices and softmax (2 x heads x N), the attention and convolution paths
  // and their gated copies (4C); after the body, the upsampler's maps at the output size.
  const int max_heads = *std::max_element(heads.begin(), heads.end());
  const double n = static_cast<double>(s.split0) * s.split1, c = static_cast<double>(s.dim);
  const double s2 = static_cast<double>(scale) * scale;
  info.live_values_per_px = std::max(18 * c + 2 * max_heads * n, 4 * c + static_cast<double>(s.hidden) * 2) +
                            (upsampler == "pixelshuffle" ? 2 * static_cast<double>(num_feat) * s2 : 0) + 3 * s2;
  return info;
}

}  // namespace yamiro
