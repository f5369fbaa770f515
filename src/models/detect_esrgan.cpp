// ESRGAN-family detection: RRDBNet (ESRGAN, BSRGAN, Real-ESRGAN) and SRVGGNetCompact
// (Real-ESRGAN's compact network), every hyper-parameter and both channel counts from
// key names and shapes, and their cost figures. Every tensor must be accounted for.
#include <cmath>
#include <set>
#include <sstream>

#include "models/detect.hpp"

namespace yamiro {
namespace {

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::ostringstream s;
  s << "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s << (i ? "," : "") << shape[i];
  return s.str() + "]";
}

// Reads the state dict and remembers which tensors it has looked at.
class Reader {
 public:
  Reader(const StateDict& sd, std::string arch) : sd_(sd), arch_(std::move(arch)) {}

  bool has(const std::string& key) const { return sd_.count(key) > 0; }

  const HostTensor& get(const std::string& key, std::size_t dims) {
    const auto it = sd_.find(key);
    if (it == sd_.end()) fail("missing " + key + " (" + arch_ + ")");
    if (it->second.shape.size() != dims) fail(key + " has shape " + shape_text(it->second.shape) + ", not " + std::to_string(dims) + "-D");
    if (static_cast<std::int64_t>(it->second.values.size()) != it->second.numel()) fail(key + " holds the wrong number of values");
    used_.insert(key);
    return it->second;
  }

  void expect(const std::string& key, const std::vector<std::int64_t>& shape) {
    const HostTensor& t = get(key, shape.size());
    if (t.shape != shape) fail(key + " has shape " + shape_text(t.shape) + ", expected " + shape_text(shape));
  }

  // A 3x3 convolution with bias.
  void conv(const std::string& name, std::int64_t out, std::int64_t in) {
    expect(name + ".weight", {out, in, 3, 3});
    expect(name + ".bias", {out});
  }

  int count(const std::string& prefix, const std::string& suffix, int first = 0) const {
    int n = first;
    while (has(prefix + std::to_string(n) + suffix)) ++n;
    return n - first;
  }

  void expect_all_used() const {
    for (const auto& [key, t] : sd_)
      if (!used_.count(key)) fail("tensor " + key + shape_text(t.shape) + " is not part of " + arch_);
  }

  [[noreturn]] void fail(const std::string& why) const { unknown_layout(sd_, why); }

 private:
  const StateDict& sd_;
  std::string arch_;
  std::set<std::string> used_;
};

bool image_channels(std::int64_t c) { return c == 1 || c == 3 || c == 4; }

}  // namespace

ArchInfo detect_rrdbnet(const StateDict& sd) {
  Reader r(sd, "RRDBNet");
  for (const auto& [key, t] : sd)
    if (key.find(".conv1x1.") != std::string::npos)
      r.fail("ESRGAN+ (" + key + ": 1x1 convolutions in the dense blocks) is not supported");
  const HostTensor& first = r.get("conv_first.weight", 4);
  const std::int64_t nf = first.shape[0], cin = first.shape[1];
  const int nb = r.count("body.", ".rdb1.conv1.weight");
  if (nb == 0) r.fail("RRDBNet without body blocks (body.0.rdb1.conv1.weight)");
  const std::int64_t gc = r.get("body.0.rdb1.conv1.weight", 4).shape[0];
  const HostTensor& last = r.get("conv_last.weight", 4);
  const std::int64_t out = last.shape[0];
  // Real-ESRGAN's x2/x1 (and gray/RGBA alike) fold the input with pixel_unshuffle(f)
  // first; conv_first then takes out * f^2 channels, as spandrel reads it.
  int unshuffle = 1;
  if (cin == out * 4) unshuffle = 2;
  else if (cin == out * 16) unshuffle = 4;
  const std::int64_t in = cin / (unshuffle * unshuffle);
  if (!image_channels(in) || !image_channels(out))
    r.fail("RRDBNet from " + std::to_string(in) + " to " + std::to_string(out) + " channels (1, 3 or 4 expected)");
  const int ups = r.count("conv_up", ".weight", 1);
  if (ups > 6 || (1 << ups) % unshuffle != 0)
    r.fail(std::to_string(ups) + " x2 upsamplers after pixel_unshuffle(" + std::to_string(unshuffle) + ")");
  const int scale = (1 << ups) / unshuffle;

  r.conv("conv_first", nf, cin);
  for (int b = 0; b < nb; ++b)
    for (int d = 1; d <= 3; ++d)
      for (int k = 1; k <= 5; ++k)
        r.conv("body." + std::to_string(b) + ".rdb" + std::to_string(d) + ".conv" + std::to_string(k), k == 5 ? nf : gc,
               nf + (k - 1) * gc);
  r.conv("conv_body", nf, nf);
  for (int u = 1; u <= ups; ++u) r.conv("conv_up" + std::to_string(u), nf, nf);
  r.conv("conv_hr", nf, nf);
  r.conv("conv_last", out, nf);
  r.expect_all_used();

  ArchInfo info;
  info.arch = "RRDBNet";
  info.scale = scale;
  info.in_channels = static_cast<int>(in);
  info.out_channels = static_cast<int>(out);
  info.hyper = {{"num_feat", static_cast<int>(nf)}, {"num_block", nb}, {"num_grow_ch", static_cast<int>(gc)}};
  if (unshuffle > 1) {
    info.options = {{"pixel_unshuffle", std::to_string(unshuffle)}};
    info.tile_multiple = unshuffle;  // tiles on the unshuffle grid equal the untiled run
  }
  // Per input pixel: the body runs on 1/f^2 of the pixels, upsampler k at (2^k/f)^2,
  // conv_hr and conv_last at scale^2.
  const double f2 = static_cast<double>(unshuffle) * unshuffle, s2 = static_cast<double>(scale) * scale;
  double rdb = (nf + 4.0 * gc) * nf;
  for (int j = 0; j < 4; ++j) rdb += (nf + j * static_cast<double>(gc)) * gc;
  double macs = 9.0 * (cin * nf + nb * 3.0 * rdb + nf * nf) / f2;
  double live = (4.0 * nf + 5.0 * gc) / f2;  // trunk, block input/output, dense buffer, a conv output
  for (int u = 1; u <= ups; ++u) {
    const double px = static_cast<double>(1 << u) * (1 << u) / f2;
    macs += px * 9.0 * nf * nf;
    live += px * 3.0 * nf;  // the upsampled map, the conv output, its activation
  }
  macs += s2 * 9.0 * nf * (nf + out);
  if (ups == 0) live += s2 * 2.0 * nf;  // conv_hr's input and output
  info.flops_per_px = 2.0 * macs;
  info.live_values_per_px = live;
  info.cpu_tile = 128;  // measured on x4plus (heuristics.cpp): 128 beats 96, 192 and 256
  return info;
}

ArchInfo detect_compact(const StateDict& sd) {
  Reader r(sd, "SRVGGNetCompact");
  const int n = r.count("body.", ".weight");
  if (n < 3 || n % 2 == 0) r.fail("SRVGGNetCompact body of " + std::to_string(n) + " layers (conv, PReLU pairs and a last conv)");
  const HostTensor& first = r.get("body.0.weight", 4);
  const std::int64_t nf = first.shape[0], in = first.shape[1];
  if (!image_channels(in)) r.fail("body.0 takes " + std::to_string(in) + " channels (1, 3 or 4 expected)");
  const int last = n - 1;
  const HostTensor& lw = r.get("body." + std::to_string(last) + ".weight", 4);
  // The residual adds the nearest-upsampled input, so the output has the input's channels.
  const int scale = static_cast<int>(std::lround(std::sqrt(static_cast<double>(lw.shape[0]) / static_cast<double>(in))));
  if (scale < 1 || in * scale * scale != lw.shape[0])
    r.fail("last convolution gives " + std::to_string(lw.shape[0]) + " channels, not " + std::to_string(in) + " * scale^2");
  r.conv("body.0", nf, in);
  for (int i = 1; i < last; i += 2) {
    r.expect("body." + std::to_string(i) + ".weight", {nf});
    if (i + 1 < last) r.conv("body." + std::to_string(i + 1), nf, nf);
  }
  r.conv("body." + std::to_string(last), in * scale * scale, nf);
  r.expect_all_used();
  ArchInfo info;
  info.arch = "SRVGGNetCompact";
  info.scale = scale;
  info.in_channels = info.out_channels = static_cast<int>(in);
  const int num_conv = (n - 3) / 2;
  info.hyper = {{"num_feat", static_cast<int>(nf)}, {"num_conv", num_conv}};
  const double s2 = static_cast<double>(scale) * scale;
  info.flops_per_px = 2.0 * 9.0 * (in * nf + num_conv * static_cast<double>(nf) * nf + nf * in * s2);
  // Two nf-channel maps at a time, then the conv output, the shuffled output and the base.
  info.live_values_per_px = 3.0 * nf + 3.0 * in * s2;
  info.cpu_tile = 256;
  return info;
}

}  // namespace yamiro
