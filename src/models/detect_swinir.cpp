// SwinIR detection: hyper-parameters from key names and shapes (see docs/swinir.md).
// Every tensor must be accounted for; a left-over or mis-shaped one is an unknown layout.
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

// The shared reader (models/detect_reader.hpp), failing as "SwinIR without KEY".
class Reader : public detect::Reader {
 public:
  explicit Reader(const StateDict& sd) : detect::Reader(sd, "SwinIR") {}
};

// resi_connection: "1conv" (one 3x3 conv) or "3conv" (3x3 to dim/4, 1x1, 3x3 back).
std::string residual_conv(Reader& r, const std::string& name, std::int64_t dim) {
  if (r.has(name + ".weight")) {
    r.layer(name, {dim, dim, 3, 3});
    return "1conv";
  }
  if (dim % 4 == 0 && r.has(name + ".0.weight")) {
    r.layer(name + ".0", {dim / 4, dim, 3, 3});
    r.layer(name + ".2", {dim / 4, dim / 4, 1, 1});
    r.layer(name + ".4", {dim, dim / 4, 3, 3});
    return "3conv";
  }
  r.fail("SwinIR without " + name + ".weight (1conv) or " + name + ".0.weight (3conv)");
}

// One Swin transformer block; returns its head count and sets the window and MLP width
// the first time (later blocks must agree).
int block(Reader& r, const std::string& p, std::int64_t dim, bool shifted, int& window, std::int64_t& hidden, int& qkv_bias) {
  const HostTensor& table = r.get(p + "attn.relative_position_bias_table");
  if (table.shape.size() != 2 || table.shape[1] < 1) r.fail(p + "attn.relative_position_bias_table is not [(2w-1)^2, heads]");
  // (2w-1)^2 rows for a w x w window.
  const int side = static_cast<int>(std::lround(std::sqrt(static_cast<double>(table.shape[0]))));
  if (side * side != table.shape[0] || side % 2 == 0) r.fail(p + "attn.relative_position_bias_table has " + std::to_string(table.shape[0]) + " rows, not (2w-1)^2");
  const int w = (side + 1) / 2;
  if (window == 0) window = w;
  if (w != window) r.fail(p + " has window " + std::to_string(w) + " where earlier blocks have " + std::to_string(window));
  const std::int64_t heads = table.shape[1];
  if (dim % heads != 0) r.fail(p + ": embed_dim " + std::to_string(dim) + " is not a multiple of " + std::to_string(heads) + " heads");
  const std::int64_t n = static_cast<std::int64_t>(w) * w;
  // Buffers: the reference saves them, some exporters drop them; they are recomputed anyway.
  if (r.has(p + "attn.relative_position_index")) r.expect(p + "attn.relative_position_index", {n, n});
  if (r.has(p + "attn_mask")) {
    const HostTensor& mask = r.get(p + "attn_mask");
    if (!shifted || mask.shape.size() != 3 || mask.shape[1] != n || mask.shape[2] != n)
      r.fail(p + "attn_mask " + shape_text(mask.shape) + " does not fit a " + (shifted ? "" : "non-") + "shifted window of " + std::to_string(w));
  }
  r.layer(p + "norm1", {dim});
  r.layer(p + "norm2", {dim});
  const int bias = r.has(p + "attn.qkv.bias") ? 1 : 0;
  if (qkv_bias < 0) qkv_bias = bias;
  if (bias != qkv_bias) r.fail(p + "attn.qkv.bias is present in some blocks only");
  r.layer(p + "attn.qkv", {3 * dim, dim}, bias == 1);
  r.layer(p + "attn.proj", {dim, dim});
  const HostTensor& fc1 = r.get(p + "mlp.fc1.weight");
  if (fc1.shape.size() != 2 || fc1.shape[1] != dim) r.fail(p + "mlp.fc1.weight is " + shape_text(fc1.shape) + ", not [hidden, " + std::to_string(dim) + "]");
  if (hidden == 0) hidden = fc1.shape[0];
  if (fc1.shape[0] != hidden) r.fail(p + "mlp.fc1 has " + std::to_string(fc1.shape[0]) + " outputs where earlier blocks have " + std::to_string(hidden));
  r.layer(p + "mlp.fc1", {hidden, dim});
  r.layer(p + "mlp.fc2", {dim, hidden});
  return static_cast<int>(heads);
}

std::string ratio_text(std::int64_t hidden, std::int64_t dim) {
  std::ostringstream s;
  s << static_cast<double>(hidden) / static_cast<double>(dim);
  return s.str();
}

// FLOPs counted on the input pixels (the pad to a window multiple is left out): the
// linear layers and the two attention matmuls of every block, the convolutions, the
// upsampler. LayerNorm, softmax and GELU are not counted, as activations are not elsewhere.
// Memory per token: the residual stream, LayerNorm output, q/k/v, attention output, the
// MLP's hidden layer (up to 4x), each window's attention matrix (heads x N per token, twice
// for the softmax); after the body, the upsampler's maps at the output size.
void set_costs(ArchInfo& a, const std::vector<int>& depths, const std::vector<int>& heads, std::int64_t hidden_dim) {
  const double c = a.hyper.at("embed_dim"), n = static_cast<double>(a.tile_multiple) * a.tile_multiple;
  const double nf = a.hyper.count("num_feat") ? a.hyper.at("num_feat") : 0.0;
  const double s = a.scale, hidden = static_cast<double>(hidden_dim);
  const double block = 3 * c * c + 2 * n * c + c * c + 2 * c * hidden;  // qkv, q.k and attn.v, proj, mlp
  const double resi = a.options.at("resi_connection") == "3conv" ? 9 * c * c / 4 + c * c / 16 + 9 * c * c / 4 : 9 * c * c;
  double macs = 9 * a.in_channels * c + (static_cast<double>(depths.size()) + 1) * resi;
  for (const int d : depths) macs += d * block;
  const std::string& up = a.options.at("upsampler");
  if (up == "pixelshuffledirect") {
    macs += 9 * c * a.out_channels * s * s;
  } else if (up == "pixelshuffle") {
    macs += 9 * c * nf;
    if (a.scale == 3) macs += 9 * nf * 9 * nf;
    else
      for (double side = 1; side < s; side *= 2) macs += side * side * 9 * nf * 4 * nf;  // x2 steps
    macs += s * s * 9 * nf * a.out_channels;
  } else {  // nearest+conv: up1 at 2x, up2 at 4x, conv_hr and conv_last at the output size
    macs += 9 * c * nf + 4 * 9 * nf * nf + (s == 4 ? 16 * 9 * nf * nf : 0) + s * s * (9 * nf * nf + 9 * nf * a.out_channels);
  }
  a.flops_per_px = 2.0 * macs;
  const int max_heads = heads.empty() ? 1 : *std::max_element(heads.begin(), heads.end());
  const double s2 = s * s, wide = std::max(nf, c);
  a.live_values_per_px = 10 * c + 2 * max_heads * n + 2 * wide * s2 + 3 * s2;
}

}  // namespace

ArchInfo detect_swinir(const StateDict& sd) {
  Reader r(sd);
  if (r.has("absolute_pos_embed")) r.fail("SwinIR with an absolute position embedding (ape) works at its training size only");
  const HostTensor& first = r.get("conv_first.weight");
  if (first.shape.size() != 4 || first.shape[2] != 3 || first.shape[3] != 3) r.fail("conv_first.weight is not a 3x3 convolution");
  const std::int64_t dim = first.shape[0], in_ch = first.shape[1];
  if (in_ch != 3) r.fail("SwinIR with " + std::to_string(in_ch) + " input channels (only RGB models are run)");
  r.layer("conv_first", {dim, in_ch, 3, 3});
  if (r.has("patch_embed.norm.weight")) r.layer("patch_embed.norm", {dim});

  const int layers = r.count("layers.", ".residual_group.blocks.0.norm1.weight");
  if (layers == 0) r.fail("SwinIR without layers.0.residual_group.blocks.0");
  std::vector<int> depths, heads;
  int window = 0, qkv_bias = -1;
  std::int64_t hidden = 0;
  std::string resi;
  for (int i = 0; i < layers; ++i) {
    const std::string lp = "layers." + std::to_string(i) + ".";
    const int depth = r.count(lp + "residual_group.blocks.", ".norm1.weight");
    int layer_heads = 0;
    for (int j = 0; j < depth; ++j) {
      const int h = block(r, lp + "residual_group.blocks." + std::to_string(j) + ".", dim, j % 2 == 1, window, hidden, qkv_bias);
      if (j > 0 && h != layer_heads) r.fail(lp + " has blocks with different head counts");
      layer_heads = h;
    }
    const std::string c = residual_conv(r, lp + "conv", dim);
    if (!resi.empty() && c != resi) r.fail(lp + "conv is " + c + " where earlier layers use " + resi);
    resi = c;
    depths.push_back(depth);
    heads.push_back(layer_heads);
  }
  r.layer("norm", {dim});
  if (residual_conv(r, "conv_after_body", dim) != resi) r.fail("conv_after_body and the layers' convs differ (1conv/3conv)");

  ArchInfo info;
  info.arch = "SwinIR";
  info.in_channels = static_cast<int>(in_ch);
  std::string upsampler;
  int scale = 1;
  std::int64_t out_ch = 3;
  if (r.has("conv_up1.weight")) {
    // Real-SR: nearest x2 steps with convs (conv_up2 only at x4).
    upsampler = "nearest+conv";
    const HostTensor& before = r.get("conv_before_upsample.0.weight");
    if (before.shape.size() != 4) r.fail("conv_before_upsample.0.weight is not 4-D");
    const std::int64_t nf = before.shape[0];
    r.layer("conv_before_upsample.0", {nf, dim, 3, 3});
    r.layer("conv_up1", {nf, nf, 3, 3});
    scale = 2;
    if (r.has("conv_up2.weight")) {
      r.layer("conv_up2", {nf, nf, 3, 3});
      scale = 4;
    }
    r.layer("conv_hr", {nf, nf, 3, 3});
    r.layer("conv_last", {out_ch, nf, 3, 3});
    info.hyper["num_feat"] = static_cast<int>(nf);
  } else if (r.has("conv_before_upsample.0.weight")) {
    // Classical: conv + pixel shuffle x2 per step (or one x3 step), then conv_last.
    upsampler = "pixelshuffle";
    const HostTensor& before = r.get("conv_before_upsample.0.weight");
    if (before.shape.size() != 4) r.fail("conv_before_upsample.0.weight is not 4-D");
    const std::int64_t nf = before.shape[0];
    r.layer("conv_before_upsample.0", {nf, dim, 3, 3});
    if (!r.has("upsample.0.weight")) r.fail("pixelshuffle SwinIR without upsample.0.weight");
    // nn.Sequential numbering: conv, PixelShuffle, conv, ... so the convs are at even indices.
    int n_conv = 0;
    for (int k = 0; r.has("upsample." + std::to_string(2 * k) + ".weight"); ++k) ++n_conv;
    const HostTensor& up0 = r.get("upsample.0.weight");
    if (n_conv == 1 && up0.shape.size() == 4 && up0.shape[0] == 9 * nf) {
      r.layer("upsample.0", {9 * nf, nf, 3, 3});
      scale = 3;
    } else {
      for (int k = 0; k < n_conv; ++k) r.layer("upsample." + std::to_string(2 * k), {4 * nf, nf, 3, 3});
      scale = 1 << n_conv;
    }
    r.layer("conv_last", {out_ch, nf, 3, 3});
    info.hyper["num_feat"] = static_cast<int>(nf);
  } else if (r.has("upsample.0.weight")) {
    // Lightweight: one conv to out * scale^2 channels and a pixel shuffle.
    upsampler = "pixelshuffledirect";
    const HostTensor& up = r.get("upsample.0.weight");
    if (up.shape.size() != 4 || up.shape[1] != dim || up.shape[0] % out_ch != 0) r.fail("upsample.0.weight is " + shape_text(up.shape));
    scale = static_cast<int>(std::lround(std::sqrt(static_cast<double>(up.shape[0] / out_ch))));
    if (scale < 1 || out_ch * scale * scale != up.shape[0]) r.fail("upsample.0 gives " + std::to_string(up.shape[0]) + " channels, not 3 * scale^2");
    r.layer("upsample.0", {up.shape[0], dim, 3, 3});
  } else {
    r.fail("SwinIR without an upsampler this build runs (conv_before_upsample.0 + upsample.N: pixelshuffle; upsample.0: "
           "pixelshuffledirect; conv_up1: nearest+conv)");
  }
  r.expect_all_used();

  info.scale = scale;
  info.out_channels = static_cast<int>(out_ch);
  info.tile_multiple = window;
  info.hyper["embed_dim"] = static_cast<int>(dim);
  info.hyper["window_size"] = window;
  info.options = {{"upsampler", upsampler},
                  {"resi_connection", resi},
                  {"depths", join(depths)},
                  {"num_heads", join(heads)},
                  {"mlp_ratio", ratio_text(hidden, dim)}};
  if (qkv_bias == 0) info.options["qkv_bias"] = "false";
  if (!r.has("patch_embed.norm.weight")) info.options["patch_norm"] = "false";
  set_costs(info, depths, heads, hidden);
  info.fp16_unsafe = true;  // the reference runs attention in fp32: softmax logits overflow fp16
  info.cpu_tile = 128;      // attention cost per pixel does not grow with the tile (fixed windows)
  return info;
}

}  // namespace yamiro
