// SwinIR (Liang et al., "SwinIR: Image Restoration Using Swin Transformer", 2021):
// conv_first, residual Swin transformer blocks (RSTB: window attention with relative
// position bias, alternately shifted windows with an attention mask, MLP), a conv after
// the body, and one of three upsamplers (pixelshuffle, pixelshuffledirect, nearest+conv).
// The input is padded to a multiple of the window by reflection and the output cropped,
// as the reference does. Layout and hyper-parameters come from detect_swinir.
#include <cmath>
#include <map>
#include <utility>
#include <vector>

#include "arch/network.hpp"
#include "arch/window_attention.hpp"

namespace yamiro::arch {
namespace {

// The reference's DIV2K RGB mean; img_range is 1 in every released model and is not
// stored in the weights.
constexpr float kRgbMean[3] = {0.4488f, 0.4371f, 0.4040f};

using window::Affine;
using window::Conv;
using window::from_windows;
using window::linear;
using window::load_affine;
using window::load_conv;
using window::norm;
using window::to_windows;
using attn::load_residual;
using attn::residual_conv;

struct Block {
  Affine norm1, qkv, proj, norm2, fc1, fc2;
  at::Tensor bias;  // relative position bias gathered once: [heads, N, N]
  int64_t heads = 0;
  bool shifted = false;
};

struct Stage {
  std::vector<Block> blocks;
  std::vector<Conv> conv;  // 1conv: one; 3conv: three with LeakyReLU(0.2) between
};


class SwinIR final : public Network {
 public:
  SwinIR(const ArchInfo& info, const StateDict& sd, const NetOptions& opt)
      : scale_(info.scale), window_(info.hyper.at("window_size")), upsampler_(info.options.at("upsampler")), opt_(opt) {
    first_ = load_conv(sd, "conv_first", opt);
    if (sd.count("patch_embed.norm.weight")) patch_norm_ = load_affine(sd, "patch_embed.norm", opt);
    const at::Tensor index = window::relative_index(window_);
    for (int i = 0; sd.count("layers." + std::to_string(i) + ".residual_group.blocks.0.norm1.weight"); ++i) {
      const std::string lp = "layers." + std::to_string(i) + ".";
      Stage stage;
      for (int j = 0; sd.count(lp + "residual_group.blocks." + std::to_string(j) + ".norm1.weight"); ++j) {
        const std::string p = lp + "residual_group.blocks." + std::to_string(j) + ".";
        Block b;
        b.norm1 = load_affine(sd, p + "norm1", opt);
        b.norm2 = load_affine(sd, p + "norm2", opt);
        b.qkv = load_affine(sd, p + "attn.qkv", opt, sd.count(p + "attn.qkv.bias") > 0);
        b.proj = load_affine(sd, p + "attn.proj", opt);
        b.fc1 = load_affine(sd, p + "mlp.fc1", opt);
        b.fc2 = load_affine(sd, p + "mlp.fc2", opt);
        const HostTensor& table = sd.at(p + "attn.relative_position_bias_table");
        b.heads = table.shape[1];
        const int64_t n = static_cast<int64_t>(window_) * window_;
        const at::Tensor host = at::from_blob(const_cast<float*>(table.values.data()), table.shape, at::kFloat);
        b.bias = host.index_select(0, index).view({n, n, b.heads}).permute({2, 0, 1}).contiguous().to(opt.device, opt.dtype);
        b.shifted = j % 2 == 1 && window_ > 1;
        stage.blocks.push_back(std::move(b));
      }
      stage.conv = load_residual(sd, lp + "conv", opt);
      stages_.push_back(std::move(stage));
    }
    norm_ = load_affine(sd, "norm", opt);
    after_body_ = load_residual(sd, "conv_after_body", opt);
    if (upsampler_ == "pixelshuffle") {
      before_up_ = load_conv(sd, "conv_before_upsample.0", opt);
      for (int k = 0; sd.count("upsample." + std::to_string(2 * k) + ".weight"); ++k)
        ups_.push_back(load_conv(sd, "upsample." + std::to_string(2 * k), opt));
      last_ = load_conv(sd, "conv_last", opt);
    } else if (upsampler_ == "pixelshuffledirect") {
      ups_.push_back(load_conv(sd, "upsample.0", opt));
    } else {  // nearest+conv
      before_up_ = load_conv(sd, "conv_before_upsample.0", opt);
      ups_.push_back(load_conv(sd, "conv_up1", opt));
      if (scale_ == 4) ups_.push_back(load_conv(sd, "conv_up2", opt));
      hr_ = load_conv(sd, "conv_hr", opt);
      last_ = load_conv(sd, "conv_last", opt);
    }
    mean_ = at::tensor(std::vector<float>(kRgbMean, kRgbMean + 3)).view({1, 3, 1, 1}).to(opt.device, opt.dtype);
  }

  at::Tensor forward(const at::Tensor& input) override {
    const int64_t h = input.size(2), w = input.size(3);
    at::Tensor x = window::pad_to_multiple(input, window_) - mean_;
    const at::Tensor feat = first_(x);
    const at::Tensor body = residual_conv(after_body_, features(feat)) + feat;
    at::Tensor y;
    if (upsampler_ == "pixelshuffle") {
      y = at::leaky_relu(before_up_(body), 0.01);
      // One x3 conv, or one x2 conv per power of two.
      const int64_t r = ups_.size() == 1 && scale_ == 3 ? 3 : 2;
      for (const Conv& c : ups_) y = at::pixel_shuffle(c(y), r);
      y = last_(y);
    } else if (upsampler_ == "pixelshuffledirect") {
      y = at::pixel_shuffle(ups_[0](body), scale_);
    } else {
      y = at::leaky_relu(before_up_(body), 0.01);
      for (const Conv& c : ups_) {
        const std::vector<int64_t> size = {y.size(2) * 2, y.size(3) * 2};
        y = at::leaky_relu(c(at::upsample_nearest2d(y, size)), 0.2);
      }
      y = last_(at::leaky_relu(hr_(y), 0.2));
    }
    y = y + mean_;
    return y.narrow(2, 0, h * scale_).narrow(3, 0, w * scale_);
  }

 private:
  // Shifted-window mask, cached per feature-map size.
  const at::Tensor& mask_for(int64_t h, int64_t w) {
    auto it = masks_.find({h, w});
    if (it != masks_.end()) return it->second;
    return masks_.emplace(std::make_pair(h, w), window::shift_mask(h, w, window_).to(opt_.device, opt_.dtype)).first->second;
  }

  at::Tensor attention(const Block& b, const at::Tensor& x, const at::Tensor* mask) const {
    const int64_t bw = x.size(0), n = x.size(1), c = x.size(2), hd = c / b.heads;
    const at::Tensor qkv = linear(x, b.qkv).view({bw, n, 3, b.heads, hd}).permute({2, 0, 3, 1, 4});
    const at::Tensor q = qkv[0] * (1.0 / std::sqrt(static_cast<double>(hd)));
    at::Tensor attn = at::matmul(q, qkv[1].transpose(-2, -1)) + b.bias;
    if (mask) {
      const int64_t nw = mask->size(0);
      attn = (attn.view({bw / nw, nw, b.heads, n, n}) + mask->unsqueeze(1).unsqueeze(0)).view({bw, b.heads, n, n});
    }
    const at::Tensor out = at::matmul(at::softmax(attn, -1), qkv[2]).transpose(1, 2).reshape({bw, n, c});
    return linear(out, b.proj);
  }

  // x: [B, H*W, C] tokens.
  at::Tensor block(const Block& b, const at::Tensor& x, int64_t h, int64_t w) {
    const int64_t bs = x.size(0), c = x.size(2), shift = window_ / 2;
    at::Tensor y = norm(x, b.norm1).view({bs, h, w, c});
    if (b.shifted) y = at::roll(y, {-shift, -shift}, {1, 2});
    y = from_windows(attention(b, to_windows(y, window_), b.shifted ? &mask_for(h, w) : nullptr), window_, h, w);
    if (b.shifted) y = at::roll(y, {shift, shift}, {1, 2});
    const at::Tensor mid = x + y.reshape({bs, h * w, c});
    return mid + linear(at::gelu(linear(norm(mid, b.norm2), b.fc1)), b.fc2);
  }

  at::Tensor features(const at::Tensor& feat) {
    const int64_t bs = feat.size(0), c = feat.size(1), h = feat.size(2), w = feat.size(3);
    at::Tensor t = feat.flatten(2).transpose(1, 2).contiguous();  // [B, L, C]
    if (patch_norm_.w.defined()) t = norm(t, patch_norm_);
    for (const Stage& s : stages_) {
      at::Tensor y = t;
      for (const Block& b : s.blocks) y = block(b, y, h, w);
      const at::Tensor img = y.transpose(1, 2).reshape({bs, c, h, w});
      t = residual_conv(s.conv, img).flatten(2).transpose(1, 2) + t;
    }
    return norm(t, norm_).transpose(1, 2).reshape({bs, c, h, w});
  }

  int scale_, window_;
  std::string upsampler_;
  NetOptions opt_;
  Conv first_, before_up_, hr_, last_;
  std::vector<Conv> after_body_, ups_;
  Affine patch_norm_, norm_;
  std::vector<Stage> stages_;
  at::Tensor mean_;
  std::map<std::pair<int64_t, int64_t>, at::Tensor> masks_;
};

}  // namespace

std::unique_ptr<Network> make_swinir(const ArchInfo& info, const StateDict& sd, const NetOptions& opt) {
  return std::make_unique<SwinIR>(info, sd, opt);
}

}  // namespace yamiro::arch
