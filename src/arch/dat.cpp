// DAT (Chen et al., "Dual Aggregation Transformer for Image Super-Resolution", ICCV 2023):
// conv_first, LayerNorm, residual groups of blocks that alternate spatial-window
// attention (even blocks: the channels split into two branches on h x w and w x h
// windows, each with a dynamic position bias from a small MLP; every other spatial block
// shifted by half a window, with the Swin mask) and channel attention (odd blocks: q and
// k L2-normalised over all tokens of the image, attention between channels). Both kinds
// add a depthwise-convolution branch on v and the adaptive interaction module (a pooled
// channel map gating one branch, a 1x1-conv spatial map gating the other). Each block
// ends with the SGFN (fc1, GELU, half the channels LayerNorm + depthwise 3x3 gating the
// other half, fc2). Then LayerNorm, a conv after the body and the upsampler.
// As in the reference, the image itself is not padded: each spatial block pads q/k/v with
// zeros to a multiple of the larger split side and crops back. BatchNorm (eval) is folded
// into the convolution before it at load. Layout and hyper-parameters from detect_dat.
#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>
#include <tuple>
#include <vector>

#include "arch/attention.hpp"
#include "arch/network.hpp"

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

// The reference's DIV2K RGB mean (RGB models); img_range 1 (not stored in the weights).
constexpr float kRgbMean[3] = {0.4488f, 0.4371f, 0.4040f};

at::Tensor host(const StateDict& sd, const std::string& key) {
  const HostTensor& t = sd.at(key);
  return at::from_blob(const_cast<float*>(t.values.data()), t.shape, at::kFloat).clone();
}

// A convolution followed by BatchNorm2d in eval mode, as one convolution.
Conv fold_bn(const StateDict& sd, const std::string& conv, const std::string& bn, const NetOptions& opt, int64_t groups = 1) {
  const at::Tensor w = host(sd, conv + ".weight"), b = host(sd, conv + ".bias");
  const at::Tensor k = host(sd, bn + ".weight") / at::sqrt(host(sd, bn + ".running_var") + 1e-5);
  const at::Tensor fw = w * k.view({-1, 1, 1, 1}), fb = (b - host(sd, bn + ".running_mean")) * k + host(sd, bn + ".bias");
  return Conv{fw.to(opt.device, opt.dtype), fb.to(opt.device, opt.dtype), groups};
}

// A 1x1 convolution (optionally with BatchNorm folded in) as a linear layer over tokens,
// keeping the 4-D weight for images.
Affine pointwise(const Conv& c, const NetOptions& opt) {
  Affine a{c.w.view({c.w.size(0), c.w.size(1)}), c.b, {}};
  if (opt.device.is_cpu()) a.w1x1 = c.w;
  return a;
}

// The adaptive interaction module's layers.
struct Interaction {
  Conv dw;            // depthwise 3x3 + BatchNorm, then GELU
  Affine ci1, ci2;    // channel map: pooled -> C/8 (+BatchNorm) -> GELU -> C
  Affine si1, si2;    // spatial map: C -> C/16 (+BatchNorm) -> GELU -> 1
};

struct Branch {
  int64_t hs = 0, ws = 0;  // window rows x columns
  at::Tensor bias;         // dynamic position bias gathered once: [heads, N, N]
};

struct Block {
  Affine norm1, norm2, qkv, proj, fc1, fc2, sg_norm;
  Conv sg_conv;
  Interaction aim;
  bool spatial = false, shifted = false;
  int64_t heads = 0;       // channel block: heads; spatial block: heads of one branch
  at::Tensor temperature;  // channel block: [heads, 1, 1]
  Branch branch[2];
};

struct Group {
  std::vector<Block> blocks;
  std::vector<Conv> conv;
};

// The position-bias MLP (DynamicPosBias, residual=False) over the window's offsets, then
// each token pair's row: [heads, N, N], computed once in fp32 on the host.
at::Tensor position_bias(const StateDict& sd, const std::string& p, int64_t hs, int64_t ws) {
  at::Tensor pos = at::linear(host(sd, p + "rpe_biases"), host(sd, p + "pos.pos_proj.weight"), host(sd, p + "pos.pos_proj.bias"));
  for (const char* stage : {"pos.pos1.", "pos.pos2.", "pos.pos3."}) {
    const std::string s = p + stage;
    pos = at::layer_norm(pos, {pos.size(-1)}, host(sd, s + "0.weight"), host(sd, s + "0.bias"), 1e-5);
    pos = at::linear(at::relu(pos), host(sd, s + "2.weight"), host(sd, s + "2.bias"));
  }
  const int64_t n = hs * ws;
  std::vector<int64_t> idx(static_cast<std::size_t>(n * n));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) idx[i * n + j] = (i / ws - j / ws + hs - 1) * (2 * ws - 1) + (i % ws - j % ws + ws - 1);
  return pos.index_select(0, at::tensor(idx, at::kLong)).view({n, n, -1}).permute({2, 0, 1}).contiguous();
}

// "8,16" -> {8, 16}
std::vector<int> int_list(const std::string& text) {
  std::vector<int> v;
  std::istringstream in(text);
  for (std::string item; std::getline(in, item, ',');) v.push_back(std::stoi(item));
  return v;
}

class DAT final : public Network {
 public:
  DAT(const ArchInfo& info, const StateDict& sd, const NetOptions& opt)
      : scale_(info.scale), upsampler_(info.options.at("upsampler")), opt_(opt) {
    const std::vector<int> split = int_list(info.options.at("split_size"));
    multiple_ = std::max(split.at(0), split.at(1));
    first_ = load_conv(sd, "conv_first", opt);
    before_ = load_affine(sd, "before_RG.1", opt);
    const bool qkv_bias = !info.options.count("qkv_bias");
    for (int i = 0; sd.count("layers." + std::to_string(i) + ".blocks.0.norm1.weight"); ++i) {
      Group g;
      for (int j = 0; sd.count("layers." + std::to_string(i) + ".blocks." + std::to_string(j) + ".norm1.weight"); ++j) {
        const std::string p = "layers." + std::to_string(i) + ".blocks." + std::to_string(j) + ".", a = p + "attn.";
        Block b;
        b.norm1 = load_affine(sd, p + "norm1", opt);
        b.norm2 = load_affine(sd, p + "norm2", opt);
        b.qkv = load_affine(sd, a + "qkv", opt, qkv_bias);
        b.proj = load_affine(sd, a + "proj", opt);
        b.fc1 = load_affine(sd, p + "ffn.fc1", opt);
        b.fc2 = load_affine(sd, p + "ffn.fc2", opt);
        b.sg_norm = load_affine(sd, p + "ffn.sg.norm", opt);
        b.sg_conv = load_conv(sd, p + "ffn.sg.conv", opt);
        b.sg_conv.groups = b.sg_conv.w.size(0);
        const int64_t dim = b.proj.w.size(0);
        b.aim.dw = fold_bn(sd, a + "dwconv.0", a + "dwconv.1", opt, dim);
        b.aim.ci1 = pointwise(fold_bn(sd, a + "channel_interaction.1", a + "channel_interaction.2", opt), opt);
        b.aim.ci2 = pointwise(load_conv(sd, a + "channel_interaction.4", opt), opt);
        b.aim.si1 = pointwise(fold_bn(sd, a + "spatial_interaction.0", a + "spatial_interaction.1", opt), opt);
        b.aim.si2 = pointwise(load_conv(sd, a + "spatial_interaction.3", opt), opt);
        b.spatial = j % 2 == 0;
        if (b.spatial) {
          b.shifted = i % 2 == 0 ? j > 0 && (j - 2) % 4 == 0 : j % 4 == 0;
          for (int k = 0; k < 2; ++k) {
            Branch& br = b.branch[k];
            br.hs = k == 0 ? split[0] : split[1];
            br.ws = k == 0 ? split[1] : split[0];
            const std::string bp = a + "attns." + std::to_string(k) + ".";
            br.bias = position_bias(sd, bp, br.hs, br.ws).to(opt.device, opt.dtype);
          }
          b.heads = b.branch[0].bias.size(0);
        } else {
          b.temperature = to_device(sd.at(a + "temperature"), opt);
          b.heads = b.temperature.size(0);
        }
        g.blocks.push_back(std::move(b));
      }
      g.conv = load_residual(sd, "layers." + std::to_string(i) + ".conv", opt);
      groups_.push_back(std::move(g));
    }
    norm_ = load_affine(sd, "norm", opt);
    after_body_ = load_residual(sd, "conv_after_body", opt);
    if (upsampler_ == "pixelshuffle") {
      before_up_ = load_conv(sd, "conv_before_upsample.0", opt);
      for (int k = 0; sd.count("upsample." + std::to_string(2 * k) + ".weight"); ++k)
        ups_.push_back(load_conv(sd, "upsample." + std::to_string(2 * k), opt));
      last_ = load_conv(sd, "conv_last", opt);
    } else {
      ups_.push_back(load_conv(sd, "upsample.0", opt));
    }
    mean_ = at::tensor(std::vector<float>(kRgbMean, kRgbMean + 3)).view({1, 3, 1, 1}).to(opt.device, opt.dtype);
  }

  at::Tensor forward(const at::Tensor& input) override {
    const int64_t bs = input.size(0), h = input.size(2), w = input.size(3);
    const at::Tensor feat = first_(input - mean_);
    const int64_t c = feat.size(1);
    at::Tensor t = norm(feat.flatten(2).transpose(1, 2).contiguous(), before_);  // [B, L, C]
    for (const Group& g : groups_) {
      at::Tensor y = t;
      for (const Block& b : g.blocks) y = block(b, y, h, w);
      const at::Tensor conv = residual_conv(g.conv, y.transpose(1, 2).reshape({bs, c, h, w}));
      t = conv.flatten(2).transpose(1, 2) + t;
    }
    const at::Tensor img = norm(t, norm_).transpose(1, 2).reshape({bs, c, h, w});
    at::Tensor body = residual_conv(after_body_, img);
    body = opt_.plain ? body + feat : body.add_(feat);
    at::Tensor out;
    if (upsampler_ == "pixelshuffle") {
      out = at::leaky_relu(before_up_(body), 0.01);
      const int64_t r = ups_.size() == 1 && scale_ == 3 ? 3 : 2;
      for (const Conv& u : ups_) out = at::pixel_shuffle(u(out), r);
      out = last_(out);
    } else {
      out = at::pixel_shuffle(ups_[0](body), scale_);
    }
    return opt_.plain ? out + mean_ : out.add_(mean_);
  }

 private:
  // The Swin mask of a shifted h x w window grid on an H x W map: -100 between tokens the
  // cyclic shift brought together from different regions. [nW, N, N], cached per size.
  const at::Tensor& mask_for(int64_t hs, int64_t ws, int64_t H, int64_t W) {
    const auto key = std::make_tuple(hs, ws, H, W);
    auto it = masks_.find(key);
    if (it != masks_.end()) return it->second;
    // Rows [0, n-win), [n-win, n-shift), [n-shift, n): Python's slices, where a shift of 0
    // leaves one region.
    auto region = [](int64_t i, int64_t n, int64_t win) -> int64_t {
      const int64_t shift = win / 2;
      if (shift == 0) return 0;
      return i < n - win ? 0 : (i < n - shift ? 1 : 2);
    };
    std::vector<float> label(static_cast<std::size_t>(H * W));
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x) label[y * W + x] = static_cast<float>(region(y, H, hs) * 3 + region(x, W, ws));
    const at::Tensor l = at::tensor(label).view({H / hs, hs, W / ws, ws}).permute({0, 2, 1, 3}).reshape({-1, hs * ws});
    const at::Tensor diff = l.unsqueeze(1) - l.unsqueeze(2);
    const at::Tensor mask = at::where(diff != 0, at::full({}, -100.0f), at::zeros({}));
    return masks_.emplace(key, mask.to(opt_.device, opt_.dtype)).first->second;
  }

  // One branch of spatial attention on its channels of the padded q/k/v [B, H, W, 3, C/2].
  at::Tensor window_attention(const Block& b, const Branch& br, at::Tensor part) {
    const int64_t bs = part.size(0), H = part.size(1), W = part.size(2), half = part.size(4);
    const int64_t hs = br.hs, ws = br.ws, n = hs * ws, hd = half / b.heads, nh = H / hs, nw = W / ws;
    if (b.shifted) part = at::roll(part, {-(hs / 2), -(ws / 2)}, {1, 2});
    const at::Tensor win = part.reshape({bs, nh, hs, nw, ws, 3, b.heads, hd}).permute({5, 0, 1, 3, 6, 2, 4, 7}).reshape({3, bs * nh * nw, b.heads, n, hd});
    const at::Tensor q = win[0] * (1.0 / std::sqrt(static_cast<double>(hd)));
    at::Tensor a = mm(q, win[1].transpose(-2, -1));
    a = opt_.plain ? a + br.bias : a.add_(br.bias);
    if (b.shifted) {
      const at::Tensor& m = mask_for(hs, ws, H, W);
      a = (a.view({bs, nh * nw, b.heads, n, n}) + m.unsqueeze(1).unsqueeze(0)).view({-1, b.heads, n, n});
    }
    const at::Tensor out = mm(at::softmax(a, -1), win[2]);  // [B*nW, heads, N, hd]
    at::Tensor img = out.view({bs, nh, nw, b.heads, hs, ws, hd}).permute({0, 1, 4, 2, 5, 3, 6}).reshape({bs, H, W, half});
    if (b.shifted) img = at::roll(img, {hs / 2, ws / 2}, {1, 2});
    return img;
  }

  // Batched products: the grouped-convolution form, or at::matmul in the baseline. (attn.v
  // of channel attention, [hd x hd] @ [hd x L], stays at::matmul: the grouped form is
  // slower there.)
  at::Tensor mm(const at::Tensor& a, const at::Tensor& b) const { return opt_.plain ? at::matmul(a, b) : attn::batched_matmul(a, b); }

  static at::Tensor channel_map(const Interaction& m, const at::Tensor& pooled) {  // [B, C] -> [B, C]
    return at::linear(at::gelu(at::linear(pooled, m.ci1.w, m.ci1.b)), m.ci2.w, m.ci2.b);
  }
  static at::Tensor spatial_map_tokens(const Interaction& m, const at::Tensor& t) {  // [B, L, C] -> [B, L, 1]
    return linear(at::gelu(linear(t, m.si1)), m.si2);
  }
  static at::Tensor spatial_map_image(const Interaction& m, const at::Tensor& img) {  // [B, C, h, w] -> [B, 1, h, w]
    const at::Tensor w1 = m.si1.w.view({m.si1.w.size(0), m.si1.w.size(1), 1, 1}), w2 = m.si2.w.view({1, m.si2.w.size(1), 1, 1});
    return at::conv2d(at::gelu(at::conv2d(img, w1, m.si1.b)), w2, m.si2.b);
  }

  // Adaptive spatial attention: x [B, L, C] (normalised), returns [B, L, C].
  at::Tensor spatial_attention(const Block& b, const at::Tensor& x, int64_t h, int64_t w) {
    const int64_t bs = x.size(0), l = x.size(1), c = x.size(2), half = c / 2;
    const at::Tensor qkv = linear(x, b.qkv);  // [B, L, 3C]
    const at::Tensor v = qkv.narrow(2, 2 * c, c).transpose(1, 2).reshape({bs, c, h, w});
    const int64_t H = (h + multiple_ - 1) / multiple_ * multiple_, W = (w + multiple_ - 1) / multiple_ * multiple_;
    at::Tensor padded = qkv.reshape({bs, h, w, 3 * c});
    if (H != h || W != w) padded = at::constant_pad_nd(padded, {0, 0, 0, W - w, 0, H - h}, 0);
    const at::Tensor grid = padded.reshape({bs, H, W, 3, c});
    at::Tensor parts[2];
    for (int k = 0; k < 2; ++k)
      parts[k] = window_attention(b, b.branch[k], grid.narrow(4, k * half, half)).narrow(1, 0, h).narrow(2, 0, w);
    at::Tensor att = at::cat({parts[0], parts[1]}, 3).view({bs, l, c});
    const at::Tensor conv = at::gelu(b.aim.dw(v));  // [B, C, h, w]
    const at::Tensor cmap = at::sigmoid(channel_map(b.aim, conv.mean({2, 3}))).view({bs, 1, c});
    const at::Tensor smap = at::sigmoid(spatial_map_tokens(b.aim, att));  // [B, L, 1]
    const at::Tensor conv_t = conv.permute({0, 2, 3, 1}).reshape({bs, l, c});
    const at::Tensor mixed = opt_.plain ? att * cmap + conv_t * smap : att.mul_(cmap).addcmul_(conv_t, smap);
    return linear(mixed, b.proj);
  }

  // Adaptive channel attention: attention between the channels of each head, over all tokens.
  at::Tensor channel_attention(const Block& b, const at::Tensor& x, int64_t h, int64_t w) {
    const int64_t bs = x.size(0), l = x.size(1), c = x.size(2), hd = c / b.heads;
    const at::Tensor qkv = linear(x, b.qkv).view({bs, l, 3, b.heads, hd}).permute({2, 0, 3, 4, 1});  // [3, B, heads, hd, L]
    auto l2 = [](const at::Tensor& t) { return t / at::clamp_min(at::norm(t, 2, {-1}, true), 1e-12); };
    const at::Tensor q = l2(qkv[0]), k = l2(qkv[1]), v = qkv[2];
    const at::Tensor a = at::softmax(mm(q, k.transpose(-2, -1)) * b.temperature, -1);  // [B, heads, hd, hd]
    const at::Tensor att = at::matmul(a, v).permute({0, 3, 1, 2}).reshape({bs, l, c});
    const at::Tensor conv = at::gelu(b.aim.dw(v.reshape({bs, c, h, w})));
    const at::Tensor cmap = at::sigmoid(channel_map(b.aim, att.mean(1))).view({bs, c, 1, 1});
    const at::Tensor smap = at::sigmoid(spatial_map_image(b.aim, conv)).view({bs, l, 1});
    const at::Tensor conv_t = (opt_.plain ? conv * cmap : conv.mul_(cmap)).permute({0, 2, 3, 1}).reshape({bs, l, c});
    const at::Tensor mixed = opt_.plain ? att * smap + conv_t : att.mul_(smap).add_(conv_t);
    return linear(mixed, b.proj);
  }

  // Spatial-gate feed-forward network.
  at::Tensor sgfn(const Block& b, const at::Tensor& x, int64_t h, int64_t w) const {
    const int64_t bs = x.size(0);
    const at::Tensor y = at::gelu(linear(x, b.fc1));
    const int64_t g = y.size(2) / 2;
    const at::Tensor gate = b.sg_conv(norm(y.narrow(2, g, g), b.sg_norm).transpose(1, 2).reshape({bs, g, h, w}));
    return linear(y.narrow(2, 0, g) * gate.flatten(2).transpose(1, 2), b.fc2);
  }

  at::Tensor block(const Block& b, const at::Tensor& x, int64_t h, int64_t w) {
    const at::Tensor n1 = norm(x, b.norm1);
    at::Tensor y = x + (b.spatial ? spatial_attention(b, n1, h, w) : channel_attention(b, n1, h, w));
    const at::Tensor f = sgfn(b, norm(y, b.norm2), h, w);
    return opt_.plain ? y + f : y.add_(f);
  }

  int scale_;
  int64_t multiple_ = 1;
  std::string upsampler_;
  NetOptions opt_;
  Conv first_, before_up_, last_;
  std::vector<Conv> after_body_, ups_;
  Affine before_, norm_;
  std::vector<Group> groups_;
  at::Tensor mean_;
  std::map<std::tuple<int64_t, int64_t, int64_t, int64_t>, at::Tensor> masks_;
};

}  // namespace

std::unique_ptr<Network> make_dat(const ArchInfo& info, const StateDict& sd, const NetOptions& opt) {
  return std::make_unique<DAT>(info, sd, opt);
}

}  // namespace yamiro::arch
