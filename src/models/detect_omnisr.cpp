// OmniSR detection (Wang et al., "Omni Aggregation Networks for Lightweight Image
// Super-Resolution", 2023): hyper-parameters from key names and shapes. Every tensor must be
// accounted for (the thop counters total_ops/total_params that released files carry are
// skipped); a left-over or mis-shaped one is an unknown layout.
#include <algorithm>
#include <cmath>

#include "models/detect.hpp"
#include "models/detect_reader.hpp"

namespace yamiro {
namespace {

using detect::shape_text;

// The window a file without position-bias tables was trained with is not in it: the
// published default, as spandrel assumes.
constexpr int kDefaultWindow = 8;

bool thop_counter(const std::string& key) {
  const auto ends = [&](const std::string& s) { return key.size() >= s.size() && key.compare(key.size() - s.size(), s.size(), s) == 0; };
  return ends("total_ops") || ends("total_params");
}

class Reader : public detect::Reader {
 public:
  explicit Reader(const StateDict& sd) : detect::Reader(sd, "OmniSR") {}
};

// What every block of every group must agree on.
struct Shape {
  std::int64_t c = 0;        // num_feat
  int window = 0;            // 0 until a position-bias table says (or none has one)
  int pe = -1;               // position-bias tables present
  std::int64_t heads = 0;    // window attention heads (C / (C / 4) in the published code)
  std::int64_t ca_heads = 0; // channel attention heads (the temperature's rows)
  std::int64_t hidden = 0;   // the gated feed-forward's width
  std::int64_t squeeze = 0;  // the MBConv's squeeze-excitation width
  std::int64_t esa = 0;      // the ESA's channels
};

void agree(Reader& r, std::int64_t& seen, std::int64_t value, const std::string& what) {
  if (seen == 0) seen = value;
  if (value != seen) r.fail(what + " is " + std::to_string(value) + " where earlier blocks have " + std::to_string(seen));
}

// Block or grid window attention (PreNormResidual: LayerNorm, to_qkv, rel_pos_bias, to_out.0).
void attention(Reader& r, const std::string& p, Shape& s) {
  r.layer(p + "norm", {s.c});
  r.layer(p + "fn.to_qkv", {3 * s.c, s.c}, false);
  r.layer(p + "fn.to_out.0", {s.c, s.c}, false);
  const std::string table = p + "fn.rel_pos_bias.weight";
  const int pe = r.has(table) ? 1 : 0;
  if (s.pe < 0) s.pe = pe;
  if (pe != s.pe) r.fail(table + " is present in some blocks only");
  if (!pe) return;
  const HostTensor& t = r.get(table);
  if (t.shape.size() != 2 || t.shape[1] != s.heads) r.fail(table + " is " + shape_text(t.shape) + ", not [(2w-1)^2, " + std::to_string(s.heads) + "]");
  const int side = static_cast<int>(std::lround(std::sqrt(static_cast<double>(t.shape[0]))));
  if (static_cast<std::int64_t>(side) * side != t.shape[0] || side % 2 == 0 || side > 255)
    r.fail(table + " has " + std::to_string(t.shape[0]) + " rows, not (2w-1)^2 for a window up to 128");
  const int w = (side + 1) / 2;
  if (s.window == 0) s.window = w;
  if (w != s.window) r.fail(p + " has window " + std::to_string(w) + " where earlier blocks have " + std::to_string(s.window));
}

// Gated_Conv_FeedForward under LayerNorm2d.
void feed_forward(Reader& r, const std::string& p, Shape& s) {
  r.layer(p + "norm", {s.c});
  const std::int64_t in = r.rows(p + "fn.project_in.weight", 4);
  if (in % 2 != 0) r.fail(p + "fn.project_in.weight has " + std::to_string(in) + " rows, not twice a width");
  agree(r, s.hidden, in / 2, p + "fn.project_in's width");
  r.layer(p + "fn.project_in", {2 * s.hidden, s.c, 1, 1}, false);
  r.layer(p + "fn.dwconv", {2 * s.hidden, 1, 3, 3}, false);
  r.layer(p + "fn.project_out", {s.c, s.hidden, 1, 1}, false);
}

// Channel_Attention (local) or Channel_Attention_grid under LayerNorm2d: the same tensors.
void channel_attention(Reader& r, const std::string& p, Shape& s) {
  r.layer(p + "norm", {s.c});
  const std::int64_t h = r.rows(p + "fn.temperature", 3);
  agree(r, s.ca_heads, h, p + "fn.temperature's heads");
  r.expect(p + "fn.temperature", {h, 1, 1});
  if (s.c % h != 0) r.fail(p + ": num_feat " + std::to_string(s.c) + " is not a multiple of " + std::to_string(h) + " heads");
  r.layer(p + "fn.qkv", {3 * s.c, s.c, 1, 1}, false);
  r.layer(p + "fn.qkv_dwconv", {3 * s.c, 1, 3, 3}, false);
  r.layer(p + "fn.project_out", {s.c, s.c, 1, 1}, false);
}

// One OSA block: MBConv, block attention, local channel attention, grid attention, grid
// channel attention, with a gated feed-forward after each attention.
void osa_block(Reader& r, const std::string& p, Shape& s) {
  const std::string mb = p + "0.fn.";
  r.layer(mb + "0", {s.c, s.c, 1, 1});
  r.layer(mb + "2", {s.c, 1, 3, 3});
  agree(r, s.squeeze, r.rows(mb + "4.gate.1.weight", 2), mb + "4.gate.1's width");
  r.layer(mb + "4.gate.1", {s.squeeze, s.c}, false);
  r.layer(mb + "4.gate.3", {s.c, s.squeeze}, false);
  r.layer(mb + "5", {s.c, s.c, 1, 1});
  attention(r, p + "2.", s);
  feed_forward(r, p + "4.", s);
  channel_attention(r, p + "5.", s);
  feed_forward(r, p + "6.", s);
  attention(r, p + "8.", s);
  feed_forward(r, p + "10.", s);
  channel_attention(r, p + "11.", s);
  feed_forward(r, p + "12.", s);
}

void esa(Reader& r, const std::string& p, Shape& s) {
  agree(r, s.esa, r.rows(p + "conv1.weight", 4), p + "conv1's width");
  r.layer(p + "conv1", {s.esa, s.c, 1, 1});
  r.layer(p + "conv_f", {s.esa, s.esa, 1, 1});
  r.layer(p + "conv2", {s.esa, s.esa, 3, 3});
  r.layer(p + "conv3", {s.esa, s.esa, 3, 3});
  r.layer(p + "conv4", {s.c, s.esa, 1, 1});
}

}  // namespace

ArchInfo detect_omnisr(const StateDict& sd) {
  Reader r(sd);
  for (const auto& [key, t] : sd)
    if (thop_counter(key)) r.get(key);  // thop's profile counters, not weights
  Shape s;
  const HostTensor& first = r.conv_weight("input.weight");
  if (first.shape[2] != 3 || first.shape[3] != 3) r.fail("input.weight is not a 3x3 convolution");
  s.c = first.shape[0];
  const std::int64_t in_ch = first.shape[1];
  if (in_ch != 1 && in_ch != 3 && in_ch != 4) r.fail("input.weight takes " + std::to_string(in_ch) + " channels (1, 3 or 4 are run)");
  if (s.c < 4 || s.c > 4096) r.fail("num_feat " + std::to_string(s.c) + " is out of range (4 to 4096)");
  // The published attention has dim_head = C // 4, so C // (C // 4) heads, which must divide C.
  s.heads = s.c / (s.c / 4);
  if (s.c % (s.c / 4) != 0) r.fail("num_feat " + std::to_string(s.c) + " is not a multiple of num_feat // 4 (the attention's head width)");
  const bool bias = r.has("input.bias");
  r.layer("input", {s.c, in_ch, 3, 3}, bias);
  r.layer("output", {s.c, s.c, 3, 3}, bias);

  const int groups = r.count("residual_layer.", ".residual_layer.0.layer.0.fn.0.weight");
  if (groups == 0) r.fail("OmniSR without residual_layer.0.residual_layer.0");
  int blocks = 0;
  for (int g = 0; g < groups; ++g) {
    const std::string gp = "residual_layer." + std::to_string(g) + ".";
    const int n = r.count(gp + "residual_layer.", ".layer.0.fn.0.weight");
    if (g > 0 && n != blocks) r.fail(gp + " has " + std::to_string(n) + " blocks where earlier groups have " + std::to_string(blocks));
    blocks = n;
    for (int b = 0; b < n; ++b) osa_block(r, gp + "residual_layer." + std::to_string(b) + ".layer.", s);
    const std::string conv = gp + "residual_layer." + std::to_string(n);
    if (r.has(conv + ".bias") != bias) r.fail(conv + ".bias and input.bias disagree (bias)");
    r.layer(conv, {s.c, s.c, 1, 1}, bias);
    esa(r, gp + "esa.", s);
  }

  // up: one conv to out * scale^2 channels and a pixel shuffle; out is taken as the input's
  // channels where that fits (as spandrel does), else 3, 4 or 1.
  const std::int64_t up = r.rows("up.0.weight", 4);
  std::int64_t out_ch = 0, scale = 0;
  for (const std::int64_t c : {in_ch, std::int64_t{3}, std::int64_t{4}, std::int64_t{1}}) {
    if (up % c != 0) continue;
    const auto root = static_cast<std::int64_t>(std::llround(std::sqrt(static_cast<double>(up / c))));
    if (root * root == up / c) {
      out_ch = c;
      scale = root;
      break;
    }
  }
  if (scale < 1 || scale > 16) r.fail("up.0.weight has " + std::to_string(up) + " rows, not channels x scale^2 for a scale up to 16");
  r.layer("up.0", {up, s.c, 3, 3}, bias);
  r.expect_all_used();
  if (s.window == 0) s.window = kDefaultWindow;

  ArchInfo info;
  info.arch = "OmniSR";
  info.scale = static_cast<int>(scale);
  info.in_channels = static_cast<int>(in_ch);
  info.out_channels = static_cast<int>(out_ch);
  info.tile_multiple = s.window;
  info.hyper = {{"num_feat", static_cast<int>(s.c)}, {"res_num", groups}, {"block_num", blocks}, {"window_size", s.window}};
  info.options = {{"pe", s.pe ? "true" : "false"}, {"bias", bias ? "true" : "false"}};
  if (!s.pe) info.options["window_source"] = "default (not stored without pe)";
  // Widths the published code fixes (ESA max(C/4, 16), squeeze C/4, feed-forward C, 4
  // channel-attention heads) are read from the weights; shown only where they differ.
  if (s.esa != std::max<std::int64_t>(s.c / 4, 16)) info.hyper["esa_channels"] = static_cast<int>(s.esa);
  if (s.hidden != s.c) info.hyper["ffn_width"] = static_cast<int>(s.hidden);
  if (s.ca_heads != 4) info.hyper["channel_heads"] = static_cast<int>(s.ca_heads);

  // Cost per input pixel (the pad to a window multiple left out), multiply-adds: per OSA
  // block the MBConv (two 1x1, a depthwise 3x3), two window attentions (qkv, q.k and attn.v
  // over n = w^2 keys, out), four gated feed-forwards (1x1 in to 2h, depthwise 3x3, 1x1 out)
  // and two channel attentions (qkv, depthwise 3x3, the d x d scores and their product,
  // 2 C^2 / heads, out); per group a 1x1 conv and the ESA (two 1x1 at full size, conv_f, the
  // stride-2 3x3 at a quarter); input, output and the upsampler's conv. Norms, softmax,
  // GELU, the squeeze-excitation's vector and the ESA's pooled maps are not counted.
  const double c = s.c, n = static_cast<double>(s.window) * s.window, h = s.hidden, f = s.esa;
  const double block = (2 * c * c + 9 * c) + 2 * (4 * c * c + 2 * n * c) + 4 * (3 * c * h + 18 * h) +
                       2 * (4 * c * c + 27 * c + 2 * c * c / s.ca_heads);
  const double group = blocks * block + c * c + 2 * c * f + f * f + 9 * f * f / 4;
  info.flops_per_px = 2 * (groups * group + 9 * in_ch * c + 9 * c * c + 9 * c * static_cast<double>(up));
  // Peak live values per pixel: in a window attention the stream's tokens, their normed copy,
  // q/k/v and the copies the products take, the output and its merge (about 20 C, with the
  // allocator's slack), the scores and their softmax twice over (4 x heads x n), and the
  // feed-forward's 2h maps and h output; in the tail the features, the upsampler's conv
  // output and its shuffled copy. Measured: the released size's peak RSS grows by 10.5 KB per
  // input pixel (about 2600 fp32 values) from 64x64 to 256x256; this gives 2624.
  const double body = 20 * c + 4 * static_cast<double>(s.heads) * n + 5 * h;
  const double tail = 2 * c + 2 * static_cast<double>(up);
  info.live_values_per_px = std::max(body, tail);
  // Image-global steps: the grid attention and grid channel attention mix pixels spaced
  // H/w apart over the whole image, each MBConv's squeeze-excitation averages the whole
  // image, and the ESA's pooled map is resized to the whole image. A tile sees only itself:
  // the engine runs the image whole where the memory budget allows.
  info.global_reduction = true;
  // Not checked in fp16 (spandrel lists it as half-capable, untested); its window
  // attention has the SwinIR form that overflows: precision auto takes bf16/fp32.
  info.fp16_unsafe = true;
  return info;
}

}  // namespace yamiro
