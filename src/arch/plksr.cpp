// PLKSR and RealPLKSR (Lee et al., "Partial Large Kernel CNNs for Efficient
// Super-Resolution", 2024): feats.0, n PLK blocks (a channel mixer, a large kernel over the
// first channels only, element-wise attention x * sigmoid(conv(x)), a 1x1 refine, and in
// RealPLKSR a LayerNorm before or a GroupNorm(4) after), the last conv to 3 * s^2
// channels plus the input repeated s^2 times, then PixelShuffle or DySample (learned
// offsets moving a bilinear grid_sample). Layout and hyper-parameters from detect_plksr.
#include <utility>
#include <vector>

#include "arch/network.hpp"
#include "arch/winograd.hpp"

namespace yamiro::arch {
namespace {

struct Conv {
  at::Tensor w, b;
  Conv3x3 fast;  // 3x3 convolutions outside plain mode (Winograd where enabled)
  at::Tensor operator()(const at::Tensor& x) const {
    if (fast.uses_winograd()) return fast(x);
    return at::conv2d(x, w, b, 1, {w.size(2) / 2, w.size(3) / 2});
  }
};

Conv load_conv(const StateDict& sd, const std::string& key, const NetOptions& opt, bool bias = true) {
  Conv c{to_device(sd.at(key + ".weight"), opt), bias ? to_device(sd.at(key + ".bias"), opt) : at::Tensor(), {}};
  if (!opt.plain && opt.winograd && c.w.size(2) == 3 && c.w.size(3) == 3 && c.b.defined()) c.fast = Conv3x3(c.w, c.b, true);
  return c;
}

// LibTorch 1.13 has no bf16 Mish on the CPU: there it runs in fp32.
at::Tensor mish_any(const at::Tensor& x) {
  if (x.scalar_type() == at::kFloat || !x.device().is_cpu()) return at::mish(x);
  return at::mish(x.to(at::kFloat)).to(x.scalar_type());
}

struct Block {
  at::Tensor ln_w, ln_b, gn_w, gn_b;  // RealPLKSR: LayerNorm before, or GroupNorm after
  Conv mix0, mix2;
  std::vector<Conv> lk;  // PLK: one conv; RectSparsePLK: three, summed
  int64_t pdim = 0;
  bool ea = false;
  Conv attn, refine;
};

class Plksr final : public Network {
 public:
  Plksr(const ArchInfo& info, const StateDict& sd, const NetOptions& opt)
      : real_(info.arch == "RealPLKSR"), scale_(info.scale), plain_(opt.plain) {
    const int n = info.hyper.at("n_blocks");
    first_ = load_conv(sd, "feats.0", opt);
    for (int i = 1; i <= n; ++i) {
      const std::string p = "feats." + std::to_string(i) + ".";
      Block b;
      const std::string mixer = real_ ? "channel_mixer" : "channe_mixer";
      b.mix0 = load_conv(sd, p + mixer + ".0", opt);
      b.mix2 = load_conv(sd, p + mixer + ".2", opt);
      if (sd.count(p + "lk.conv.weight")) {
        b.lk.push_back(load_conv(sd, p + "lk.conv", opt));
      } else {
        for (const char* k : {"lk.mn_conv", "lk.nm_conv", "lk.nn_conv"}) b.lk.push_back(load_conv(sd, p + k, opt));
      }
      b.pdim = b.lk[0].w.size(0);
      b.ea = sd.count(p + "attn.f.0.weight") > 0;
      if (b.ea) b.attn = load_conv(sd, p + "attn.f.0", opt);
      b.refine = load_conv(sd, p + "refine", opt);
      if (sd.count(p + "layer_norm.weight")) {
        b.ln_w = to_device(sd.at(p + "layer_norm.weight"), opt).view({1, -1, 1, 1});
        b.ln_b = to_device(sd.at(p + "layer_norm.bias"), opt).view({1, -1, 1, 1});
      }
      if (sd.count(p + "norm.weight")) {
        b.gn_w = to_device(sd.at(p + "norm.weight"), opt);
        b.gn_b = to_device(sd.at(p + "norm.bias"), opt);
      }
      blocks_.push_back(std::move(b));
    }
    last_ = load_conv(sd, "feats." + std::to_string(n + (real_ ? 2 : 1)), opt);
    if (info.options.at("upsampler") == "dysample") {
      groups_ = info.hyper.at("dysample_groups");
      // The sampling grid is built and sampled in fp32 whatever the network's dtype: in
      // bf16 a coordinate would be off by up to a quarter pixel at 80 pixels.
      NetOptions f32 = opt;
      f32.dtype = at::kFloat;
      f32.winograd = false;
      offset_ = load_conv(sd, "to_img.offset", f32);
      scope_ = load_conv(sd, "to_img.scope", f32, false);
      init_pos_ = to_device(sd.at("to_img.init_pos"), f32);
      if (scale_ != 1) end_ = load_conv(sd, "to_img.end_conv", f32);
    }
  }

  at::Tensor forward(const at::Tensor& x) override {
    at::Tensor f = first_(x);
    for (const Block& b : blocks_) f = block(b, f);
    const at::Tensor y = last_(f) + at::repeat_interleave(x, static_cast<int64_t>(scale_) * scale_, 1);
    if (groups_ == 0) return at::pixel_shuffle(y, scale_);
    return dysample(y.to(at::kFloat)).to(x.scalar_type());
  }

 private:
  // RealPLKSR's LayerNorm: over the channels of each pixel, eps 1e-6.
  at::Tensor layer_norm(const Block& b, const at::Tensor& x) const {
    if (plain_) {
      const at::Tensor u = x.mean(1, true);
      const at::Tensor d = x - u;
      return b.ln_w * (d / at::sqrt(d.pow(2).mean(1, true) + 1e-6)) + b.ln_b;
    }
    const int64_t c = x.size(1);
    const at::Tensor nhwc = x.permute({0, 2, 3, 1});
    return at::layer_norm(nhwc, {c}, b.ln_w.view({c}), b.ln_b.view({c}), 1e-6).permute({0, 3, 1, 2});
  }

  at::Tensor block(const Block& b, const at::Tensor& x) const {
    at::Tensor y = b.ln_w.defined() ? layer_norm(b, x) : x;
    y = b.mix0(y);
    y = real_ ? mish_any(y) : at::gelu(y);
    y = b.mix2(y);
    // The large kernel replaces the first pdim channels (the reference writes them in place).
    const at::Tensor part = y.narrow(1, 0, b.pdim);
    at::Tensor lk = b.lk[0](part);
    for (std::size_t k = 1; k < b.lk.size(); ++k) lk = lk + b.lk[k](part);
    if (plain_) {
      y = at::cat({lk, y.narrow(1, b.pdim, y.size(1) - b.pdim)}, 1);
    } else {
      y.narrow(1, 0, b.pdim).copy_(lk);
    }
    if (b.ea) y = plain_ ? y * at::sigmoid(b.attn(y)) : y.mul_(at::sigmoid(b.attn(y)));
    y = b.refine(y);
    if (b.gn_w.defined()) y = at::group_norm(y, 4, b.gn_w, b.gn_b, 1e-5);
    return plain_ ? y + x : y.add_(x);
  }

  // DySample: offsets offset(x) * sigmoid(scope(x)) / 2 + init_pos (in pixels of the input),
  // added to the pixel centres, normalised to [-1, 1] and pixel-shuffled to one sampling
  // point per output pixel and group; bilinear grid_sample with border padding and
  // align_corners false, as the reference; then the 1x1 end conv.
  at::Tensor dysample(const at::Tensor& x) const {
    const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3), s = scale_, g = groups_;
    const at::Tensor off = (offset_(x) * at::sigmoid(scope_(x)) * 0.5 + init_pos_).view({n, 2, -1, h, w});
    const auto fopt = x.options().memory_format(c10::nullopt);
    const at::Tensor cx = (at::arange(w, fopt) + 0.5).view({1, w}).expand({h, w});
    const at::Tensor cy = (at::arange(h, fopt) + 0.5).view({h, 1}).expand({h, w});
    const at::Tensor base = at::stack({cx, cy}).view({1, 2, 1, h, w});
    const at::Tensor norm = at::tensor(std::vector<float>{static_cast<float>(w), static_cast<float>(h)}, fopt).view({1, 2, 1, 1, 1});
    const at::Tensor coords = 2 * (base + off) / norm - 1;
    const at::Tensor grid = at::pixel_shuffle(coords.reshape({n, -1, h, w}), s)
                                .view({n, 2, -1, s * h, s * w})
                                .permute({0, 2, 3, 4, 1})
                                .contiguous()
                                .flatten(0, 1);
    // interpolation 0 = bilinear, padding 1 = border
    at::Tensor out = at::grid_sampler(x.contiguous().view({n * g, c / g, h, w}), grid, 0, 1, false).view({n, c, s * h, s * w});
    if (end_.w.defined()) out = end_(out);
    return out;
  }

  bool real_;
  int scale_;
  bool plain_;
  Conv first_, last_;
  std::vector<Block> blocks_;
  int64_t groups_ = 0;
  Conv offset_, scope_, end_;
  at::Tensor init_pos_;
};

}  // namespace

std::unique_ptr<Network> make_plksr(const ArchInfo& info, const StateDict& sd, const NetOptions& opt) {
  return std::make_unique<Plksr>(info, sd, opt);
}

}  // namespace yamiro::arch
