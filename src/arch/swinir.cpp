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

#include "arch/attention.hpp"
#include "arch/network.hpp"
#include "yamiro/geometry.hpp"

namespace yamiro::arch {
namespace {

using attn::Affine;
using attn::Conv;
using attn::linear;
using attn::load_affine;
using attn::load_conv;
using attn::load_residual;
using attn::norm;
using attn::residual_conv;

// The reference's DIV2K RGB mean; img_range is 1 in every released model and is not
// stored in the weights.
constexpr float kRgbMean[3] = {0.4488f, 0.4371f, 0.4040f};

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

// Token (i, j) of a w x w window looks up row (dy + w-1) * (2w-1) + (dx + w-1) of the table.
at::Tensor relative_index(int w) {
  const int n = w * w;
  std::vector<int64_t> idx(static_cast<std::size_t>(n) * n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j)
      idx[static_cast<std::size_t>(i) * n + j] = (i / w - j / w + w - 1) * (2 * w - 1) + (i % w - j % w + w - 1);
  return at::tensor(idx, at::kLong);
}

// [B,H,W,C] -> [B*nW, w*w, C], windows row-major; and back.
at::Tensor to_windows(const at::Tensor& x, int64_t w) {
  const int64_t b = x.size(0), h = x.size(1), wd = x.size(2), c = x.size(3);
  return x.view({b, h / w, w, wd / w, w, c}).permute({0, 1, 3, 2, 4, 5}).reshape({-1, w * w, c});
}

at::Tensor from_windows(const at::Tensor& win, int64_t w, int64_t h, int64_t wd) {
  const int64_t c = win.size(2), b = win.size(0) / ((h / w) * (wd / w));
  return win.view({b, h / w, wd / w, w, w, c}).permute({0, 1, 3, 2, 4, 5}).reshape({b, h, wd, c});
}

class SwinIR final : public Network {
 public:
  SwinIR(const ArchInfo& info, const StateDict& sd, const NetOptions& opt)
      : scale_(info.scale), window_(info.hyper.at("window_size")), upsampler_(info.options.at("upsampler")), opt_(opt) {
    first_ = load_conv(sd, "conv_first", opt);
    if (sd.count("patch_embed.norm.weight")) patch_norm_ = load_affine(sd, "patch_embed.norm", opt);
    const at::Tensor index = relative_index(window_);
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
    at::Tensor x = pad_to_window(input) - mean_;
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
  // Right/bottom padding to a multiple of the window, reflecting without repeating the
  // edge (F.pad 'reflect'); also valid when the pad exceeds the image (tiny tiles).
  at::Tensor pad_to_window(const at::Tensor& x) const {
    at::Tensor out = x;
    for (int dim = 2; dim <= 3; ++dim) {
      const int n = static_cast<int>(x.size(dim));
      const int padded = (n + window_ - 1) / window_ * window_;
      if (padded == n) continue;
      std::vector<int64_t> idx(padded);
      for (int i = 0; i < padded; ++i) idx[i] = mirror_index(i, n);
      out = out.index_select(dim, at::tensor(idx, at::kLong).to(x.device()));
    }
    return out;
  }

  // Shifted-window mask for an h x w feature map: -100 between tokens that the cyclic
  // shift brought together from different regions. [nW, N, N], cached per size.
  const at::Tensor& mask_for(int64_t h, int64_t w) {
    auto it = masks_.find({h, w});
    if (it != masks_.end()) return it->second;
    const int64_t ws = window_, shift = window_ / 2;
    auto region = [&](int64_t i, int64_t n) -> int64_t { return i < n - ws ? 0 : (i < n - shift ? 1 : 2); };
    std::vector<float> label(static_cast<std::size_t>(h * w));
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) label[y * w + x] = static_cast<float>(region(y, h) * 3 + region(x, w));
    const at::Tensor l = to_windows(at::tensor(label).view({1, h, w, 1}), ws).squeeze(-1);  // [nW, N]
    const at::Tensor diff = l.unsqueeze(1) - l.unsqueeze(2);
    const at::Tensor mask = at::where(diff != 0, at::full({}, -100.0f), at::zeros({}));
    return masks_.emplace(std::make_pair(h, w), mask.to(opt_.device, opt_.dtype)).first->second;
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
