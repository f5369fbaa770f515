// HAT detection (Hybrid Attention Transformer, Chen et al. 2023): hyper-parameters from key
// names and shapes. Every tensor must be accounted for; a left-over or mis-shaped one is an
// unknown layout. The relative-position index buffers, where a file has them, must be the
// ones the published code computes (the network recomputes them either way).
#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <sstream>

#include "models/detect.hpp"
#include "models/detect_reader.hpp"

namespace yamiro {
namespace {

using detect::shape_text;

using detect::join;

std::string ratio_text(double a, double b) {
  std::ostringstream s;
  s << a / b;
  return s.str();
}

// The shared reader (models/detect_reader.hpp), failing as "HAT without KEY".
class Reader : public detect::Reader {
 public:
  explicit Reader(const StateDict& sd) : detect::Reader(sd, "HAT") {}
};

// What every block of every group must agree on.
struct Common {
  std::int64_t dim = 0;
  int window = 0, overlap = 0;  // ws and the OCAB's key window ow
  std::int64_t hidden = 0, cab = 0, squeeze = 0;
  int qkv_bias = -1;
};

// The side s of an [s*s, heads] relative-position table, or 0.
int table_side(Reader& r, const std::string& key, std::int64_t& heads) {
  const HostTensor& t = r.get(key);
  if (t.shape.size() != 2 || t.shape[1] < 1) r.fail(key + " is " + shape_text(t.shape) + ", not [rows, heads]");
  const int side = static_cast<int>(std::lround(std::sqrt(static_cast<double>(t.shape[0]))));
  if (static_cast<std::int64_t>(side) * side != t.shape[0]) r.fail(key + " has " + std::to_string(t.shape[0]) + " rows, not a square");
  heads = t.shape[1];
  return side;
}

void agree(Reader& r, std::int64_t& seen, std::int64_t value, const std::string& what) {
  if (seen == 0) seen = value;
  if (value != seen) r.fail(what + " is " + std::to_string(value) + " where earlier blocks have " + std::to_string(seen));
}

// The attention's projections (under `a`: "attn." in a HAB, the block itself in an OCAB) and the
// block's norms and MLP (under `p`).
void qkv_and_mlp(Reader& r, const std::string& a, const std::string& p, Common& c) {
  const int bias = r.has(a + "qkv.bias") ? 1 : 0;
  if (c.qkv_bias < 0) c.qkv_bias = bias;
  if (bias != c.qkv_bias) r.fail(a + "qkv.bias is present in some blocks only");
  r.layer(a + "qkv", {3 * c.dim, c.dim}, bias == 1);
  r.layer(a + "proj", {c.dim, c.dim});
  agree(r, c.hidden, r.rows(p + "mlp.fc1.weight", 2), p + "mlp.fc1's width");
  r.layer(p + "mlp.fc1", {c.hidden, c.dim});
  r.layer(p + "mlp.fc2", {c.dim, c.hidden});
  r.layer(p + "norm1", {c.dim});
  r.layer(p + "norm2", {c.dim});
}

// One hybrid attention block: window attention, the channel-attention block, the MLP.
int hab(Reader& r, const std::string& p, Common& c) {
  std::int64_t heads = 0;
  const int side = table_side(r, p + "attn.relative_position_bias_table", heads);
  if (side % 2 == 0) r.fail(p + "attn.relative_position_bias_table has " + std::to_string(side * side) + " rows, not (2w-1)^2");
  const int w = (side + 1) / 2;
  if (c.window == 0) c.window = w;
  if (w != c.window) r.fail(p + " has window " + std::to_string(w) + " where earlier blocks have " + std::to_string(c.window));
  if (c.dim % heads != 0) r.fail(p + ": embed_dim " + std::to_string(c.dim) + " is not a multiple of " + std::to_string(heads) + " heads");
  qkv_and_mlp(r, p + "attn.", p, c);
  const std::string cab = p + "conv_block.cab.";
  agree(r, c.cab, r.rows(cab + "0.weight", 4), cab + "0's width");
  r.layer(cab + "0", {c.cab, c.dim, 3, 3});
  r.layer(cab + "2", {c.dim, c.cab, 3, 3});
  agree(r, c.squeeze, r.rows(cab + "3.attention.1.weight", 4), cab + "3.attention.1's width");
  r.layer(cab + "3.attention.1", {c.squeeze, c.dim, 1, 1});
  r.layer(cab + "3.attention.3", {c.dim, c.squeeze, 1, 1});
  return static_cast<int>(heads);
}

// The overlapping cross-attention block closing each group.
int ocab(Reader& r, const std::string& p, Common& c) {
  std::int64_t heads = 0;
  const int side = table_side(r, p + "relative_position_bias_table", heads);  // ws + ow - 1
  const int ow = side + 1 - c.window;
  // The reference's unfold pads by (ow - ws) / 2 on each side: an odd difference gives fewer
  // key windows than query windows, which it cannot run.
  if (ow < c.window || (ow - c.window) % 2 != 0)
    r.fail(p + "relative_position_bias_table gives an overlapping window of " + std::to_string(ow) + " for window " +
           std::to_string(c.window) + " (needs ow >= ws with ow - ws even)");
  if (c.overlap == 0) c.overlap = ow;
  if (ow != c.overlap) r.fail(p + " has an overlapping window of " + std::to_string(ow) + " where earlier groups have " + std::to_string(c.overlap));
  if (c.dim % heads != 0) r.fail(p + ": embed_dim " + std::to_string(c.dim) + " is not a multiple of " + std::to_string(heads) + " heads");
  qkv_and_mlp(r, p, p, c);
  return static_cast<int>(heads);
}

// A stored index buffer must hold the published formula's values, for query i of a ws x ws
// window and key j of a kw x kw one: SA (kw = ws) (y_i - y_j + ws - 1) * (2ws - 1) + (x_i - x_j
// + ws - 1); OCA (y_j - y_i + ws - kw + 1) * (ws + kw - 1) + (x_j - x_i + ws - kw + 1). OCA
// indices are negative in places, where the table lookup wraps around: compared modulo the rows.
void check_index(Reader& r, const std::string& key, bool sa, int ws, int kw) {
  if (!r.has(key)) return;
  const std::int64_t nq = static_cast<std::int64_t>(ws) * ws, nk = static_cast<std::int64_t>(kw) * kw;
  const HostTensor& t = r.expect(key, {nq, nk});
  const std::int64_t side = ws + kw - 1, rows = side * side, shift = sa ? ws - 1 : ws - kw + 1, sign = sa ? -1 : 1;
  for (std::int64_t i = 0; i < nq; ++i)
    for (std::int64_t j = 0; j < nk; ++j) {
      const std::int64_t dy = sign * (j / kw - i / ws), dx = sign * (j % kw - i % ws);
      const std::int64_t want = (dy + shift) * side + (dx + shift);
      const auto got = static_cast<std::int64_t>(std::llround(t.values[i * nk + j]));
      if (((got - want) % rows + rows) % rows != 0)
        r.fail(key + " differs from the published relative-position index at [" + std::to_string(i) + "," + std::to_string(j) + "]");
    }
}

}  // namespace

ArchInfo detect_hat(const StateDict& sd) {
  Reader r(sd);
  if (r.has("absolute_pos_embed")) r.fail("HAT with an absolute position embedding (ape) works at its training size only");
  const HostTensor& first = r.get("conv_first.weight");
  if (first.shape.size() != 4 || first.shape[2] != 3 || first.shape[3] != 3) r.fail("conv_first.weight is not a 3x3 convolution");
  Common c;
  c.dim = first.shape[0];
  const std::int64_t in_ch = first.shape[1];
  if (in_ch != 3) r.fail("HAT with " + std::to_string(in_ch) + " input channels (only RGB models are run)");
  r.layer("conv_first", {c.dim, in_ch, 3, 3});
  if (r.has("patch_embed.norm.weight")) r.layer("patch_embed.norm", {c.dim});

  const int groups = r.count("layers.", ".residual_group.blocks.0.norm1.weight");
  if (groups == 0) r.fail("HAT without layers.0.residual_group.blocks.0");
  std::vector<int> depths, heads;
  std::string resi;
  for (int i = 0; i < groups; ++i) {
    const std::string gp = "layers." + std::to_string(i) + ".residual_group.";
    const int depth = r.count(gp + "blocks.", ".norm1.weight");
    int group_heads = 0;
    for (int j = 0; j < depth; ++j) {
      const int h = hab(r, gp + "blocks." + std::to_string(j) + ".", c);
      if (j > 0 && h != group_heads) r.fail(gp + " has blocks with different head counts");
      group_heads = h;
    }
    if (ocab(r, gp + "overlap_attn.", c) != group_heads) r.fail(gp + "overlap_attn has a head count other than its blocks'");
    // resi_connection: "1conv" (a 3x3 conv closing each group and the body) or "identity" (none).
    const std::string conv = "layers." + std::to_string(i) + ".conv";
    const std::string g = r.has(conv + ".weight") ? "1conv" : "identity";
    if (g == "1conv") r.layer(conv, {c.dim, c.dim, 3, 3});
    if (!resi.empty() && g != resi) r.fail(conv + " is " + g + " where earlier groups use " + resi);
    resi = g;
    depths.push_back(depth);
    heads.push_back(group_heads);
  }
  r.layer("norm", {c.dim});
  if ((resi == "1conv") != r.has("conv_after_body.weight")) r.fail("conv_after_body and the groups' convs disagree (1conv/identity)");
  if (resi == "1conv") r.layer("conv_after_body", {c.dim, c.dim, 3, 3});
  check_index(r, "relative_position_index_SA", true, c.window, c.window);
  check_index(r, "relative_position_index_OCA", false, c.window, c.overlap);

  // The one upsampler of the published HAT: conv + pixel shuffle x2 per step (or one x3 step).
  if (!r.has("conv_before_upsample.0.weight") || !r.has("upsample.0.weight") || !r.has("conv_last.weight"))
    r.fail("HAT without its pixelshuffle upsampler (conv_before_upsample.0, upsample.0, conv_last)");
  const std::int64_t nf = r.rows("conv_before_upsample.0.weight", 4);
  r.layer("conv_before_upsample.0", {nf, c.dim, 3, 3});
  int steps = 0;
  while (r.has("upsample." + std::to_string(2 * steps) + ".weight")) ++steps;
  int scale = 1;
  if (steps == 1 && r.rows("upsample.0.weight", 4) == 9 * nf) {
    r.layer("upsample.0", {9 * nf, nf, 3, 3});
    scale = 3;
  } else {
    for (int k = 0; k < steps; ++k) r.layer("upsample." + std::to_string(2 * k), {4 * nf, nf, 3, 3});
    scale = 1 << steps;
  }
  const std::int64_t out_ch = 3;
  r.layer("conv_last", {out_ch, nf, 3, 3});
  r.expect_all_used();

  ArchInfo info;
  info.arch = "HAT";
  info.scale = scale;
  info.in_channels = static_cast<int>(in_ch);
  info.out_channels = static_cast<int>(out_ch);
  info.tile_multiple = c.window;
  const int dim = static_cast<int>(c.dim);
  info.hyper = {{"embed_dim", dim}, {"window_size", c.window}, {"overlap_window", c.overlap}, {"num_feat", static_cast<int>(nf)}};
  info.options = {{"upsampler", "pixelshuffle"},
                  {"resi_connection", resi},
                  {"depths", join(depths)},
                  {"num_heads", join(heads)},
                  {"mlp_ratio", ratio_text(static_cast<double>(c.hidden), dim)},
                  {"overlap_ratio", ratio_text(c.overlap - c.window, c.window)},
                  // Not stored in the weights: the published default, which every released model uses.
                  {"conv_scale", "0.01"}};
  // The reference makes dim // ratio channels; a ratio that divides embed_dim is read back
  // exactly, another one only as embed_dim / channels.
  const auto ratio = [&](const char* key, std::int64_t channels) {
    if (c.dim % channels == 0) info.hyper[key] = static_cast<int>(c.dim / channels);
    else info.options[key] = ratio_text(static_cast<double>(c.dim), static_cast<double>(channels));
  };
  ratio("compress_ratio", c.cab);
  ratio("squeeze_factor", c.squeeze);
  if (c.qkv_bias == 0) info.options["qkv_bias"] = "false";
  if (!r.has("patch_embed.norm.weight")) info.options["patch_norm"] = "false";

  // Cost, per input pixel (the pad to a window multiple left out). Multiply-adds of each HAB:
  // qkv, q.k and attn.v over N = ws^2 keys, proj, the MLP, the CAB's two 3x3 convs (its
  // channel attention works on one pooled vector per image: not counted per pixel); of each
  // OCAB the same with ow^2 keys and no CAB; a 3x3 conv per group (1conv); conv_first,
  // conv_after_body and the upsampler. LayerNorm, softmax, GELU and products are not counted.
  const double d = c.dim, n = c.window * c.window, on = c.overlap * c.overlap, hid = c.hidden, s = scale, f = nf;
  const double lin = 4 * d * d + 2 * d * hid;
  const double blocks = std::accumulate(depths.begin(), depths.end(), 0.0);
  double macs = blocks * (lin + 2 * n * d + 2 * 9 * d * c.cab) + groups * (lin + 2 * on * d);
  const double conv = resi == "1conv" ? 9 * d * d : 0;
  macs += 9 * 3 * d + (groups + 1) * conv + 9 * d * f;
  if (scale == 3) macs += 9 * f * 9 * f;
  else
    for (double side = 1; side < s; side *= 2) macs += side * side * 9 * f * 4 * f;
  macs += s * s * 9 * f * 3;
  info.flops_per_px = 2 * macs;
  // Peak live values per pixel: in the body the residual stream, its normed copy, the CAB's
  // maps, q/k/v, windowed copies and the attention output (about 10 C), the MLP's hidden layer
  // twice, and the attention matrices of the larger (OCAB) window twice (scores and softmax)
  // with the OCAB's unfolded keys and values; in the upsampler the maps at the output size.
  const int max_heads = *std::max_element(heads.begin(), heads.end());
  const double body = 10 * d + 2 * hid + 2 * max_heads * std::max(n, on) + 2 * 2 * d * on / n;
  const double tail = 2 * d + 2 * f * s * s + 4 * f + 3 * s * s;
  info.live_values_per_px = std::max(body, tail);
  info.fp16_unsafe = true;       // attention scores and the CAB's sums overflow fp16 (the reference refuses half)
  info.global_reduction = true;  // the CAB's average pool sees the whole image
  return info;
}

}  // namespace yamiro
