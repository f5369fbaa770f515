// SPAN detection (spandrel's SPAN arch; traiNNer-redux's generalisation to N blocks):
// feature channels from conv_1, the block count from block_N, the scale from the
// upsampler's output channels, norm from the no_norm buffer. Every tensor must be
// accounted for; a left-over or mis-shaped one is an unknown layout.
#include <cmath>

#include "models/detect.hpp"
#include "models/detect_reader.hpp"

namespace yamiro {
namespace {

using detect::Reader;
using detect::shape_text;

// One Conv3XC: sk (1x1 in->out), conv.0 (1x1 in->g*in), conv.1 (3x3 g*in->g*out),
// conv.2 (1x1 g*out->out), and eval_conv (3x3 in->out, recomputed from the others at
// load, as the reference's eval forward does, so only its shape is checked).
// Returns the gain g.
int conv3xc(Reader& r, const std::string& p, std::int64_t in, std::int64_t out) {
  r.layer(p + ".sk", {out, in, 1, 1});
  const HostTensor& c0 = r.conv_weight(p + ".conv.0.weight");
  if (c0.shape[1] != in || c0.shape[0] % in != 0 || c0.shape[0] == 0)
    r.fail(p + ".conv.0.weight is " + shape_text(c0.shape) + ", not [gain*" + std::to_string(in) + "," + std::to_string(in) + ",1,1]");
  const std::int64_t gain = c0.shape[0] / in;
  r.layer(p + ".conv.0", {gain * in, in, 1, 1});
  r.layer(p + ".conv.1", {gain * out, gain * in, 3, 3});
  r.layer(p + ".conv.2", {out, gain * out, 1, 1});
  if (r.has(p + ".eval_conv.weight")) r.layer(p + ".eval_conv", {out, in, 3, 3});
  return static_cast<int>(gain);
}

}  // namespace

ArchInfo detect_span(const StateDict& sd) {
  Reader r(sd, "SPAN");
  const HostTensor& sk = r.conv_weight("conv_1.sk.weight");
  const std::int64_t f = sk.shape[0], in_ch = sk.shape[1];
  if (in_ch != 3) r.fail("SPAN with " + std::to_string(in_ch) + " input channels (only RGB models are run)");
  const int gain = conv3xc(r, "conv_1", in_ch, f);
  const int blocks = r.count("block_", ".c1_r.sk.weight", 1);
  if (blocks == 0) r.fail("SPAN without block_1");
  for (int b = 1; b <= blocks; ++b)
    for (const char* c : {".c1_r", ".c2_r", ".c3_r"})
      if (conv3xc(r, "block_" + std::to_string(b) + c, f, f) != gain)
        r.fail("block_" + std::to_string(b) + c + " has a Conv3XC gain other than conv_1's " + std::to_string(gain));
  r.layer("conv_cat", {f, 4 * f, 1, 1});
  if (conv3xc(r, "conv_2", f, f) != gain) r.fail("conv_2 has a Conv3XC gain other than conv_1's " + std::to_string(gain));

  // pixelshuffle_block: a 3x3 conv to out * scale^2 channels, then PixelShuffle(scale).
  const HostTensor& up = r.conv_weight("upsampler.0.weight");
  const std::int64_t out_ch = 3;
  const int scale = static_cast<int>(std::lround(std::sqrt(static_cast<double>(up.shape[0]) / out_ch)));
  if (scale < 1 || out_ch * scale * scale != up.shape[0])
    r.fail("upsampler.0 gives " + std::to_string(up.shape[0]) + " channels, not 3 * scale^2 (only RGB models are run)");
  r.layer("upsampler.0", {up.shape[0], f, 3, 3});

  // The no_norm buffer marks a model trained without (x - mean) * 255; neosr keeps the
  // mean as a parameter ("mean"), others as a constant not in the file.
  const bool norm = !r.has("no_norm");
  if (!norm) r.expect("no_norm", {1});
  if (r.has("mean")) r.expect("mean", {1, 3, 1, 1});
  r.expect_all_used();

  ArchInfo info;
  info.arch = "SPAN";
  info.scale = scale;
  info.in_channels = static_cast<int>(in_ch);
  info.out_channels = static_cast<int>(out_ch);
  info.hyper = {{"feature_channels", static_cast<int>(f)}, {"num_blocks", blocks}};
  info.options = {{"norm", norm ? "true" : "false"}};
  // Per input pixel, after the fold: conv_1, three 3x3 convs per block, conv_2, the 1x1
  // conv_cat over 4f channels, the upsampler's 3x3 conv (the activations, attention and
  // the pixel shuffle are not counted).
  const double fd = static_cast<double>(f), s2 = static_cast<double>(scale) * scale;
  info.flops_per_px = 2.0 * (9 * 3 * fd + blocks * 3 * 9 * fd * fd + 9 * fd * fd + 4 * fd * fd + 9 * fd * out_ch * s2);
  // Peak: the four maps conv_cat concatenates, the concatenation itself and its output,
  // the input; then the upsampler's conv output and its shuffled copy.
  info.live_values_per_px = 9 * fd + 3 + 2 * out_ch * s2;
  // A light all-convolution network, like SRVGGNetCompact: its 256 (not measured for SPAN).
  info.cpu_tile = 256;
  info.fp16_unsafe = false;  // the reference runs it in fp16 (spandrel: supports_half)
  info.global_reduction = false;  // local: 3 * num_blocks + 3 input pixels of context per side
  return info;
}

}  // namespace yamiro
