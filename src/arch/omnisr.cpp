// OmniSR (Wang et al., "Omni Aggregation Networks for Lightweight Image Super-Resolution",
// 2023): a 3x3 input conv, res_num omni self-attention groups (OSAG) and a 3x3 output conv
// with a residual, then one conv and a pixel shuffle. An OSAG is block_num OSA blocks, a 1x1
// conv, the group's residual and an ESA (enhanced spatial attention: a strided conv, a 7x7
// max-pool, a bilinear resize back to the whole map, a sigmoid gate). An OSA block is an
// MBConv (1x1, depthwise 3x3, squeeze-excitation over the whole image, 1x1, residual), then
// twice - on contiguous w x w windows, then on the w x w grid of pixels spaced H/w apart -
// window self-attention with relative position bias (pre-LayerNorm, residual), a gated
// feed-forward, channel attention (d x d scores between L2-normalised channel vectors: a
// window's pixels, or one in-window offset's pixels across the whole image) and another
// gated feed-forward (each under a channel LayerNorm2d, residual). The input is padded with
// zeros to a multiple of the window (and to at least 16, the least size the ESA's pooling
// takes) and the output cropped, as the reference does. Layout from detect_omnisr.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "arch/network.hpp"
#include "arch/window_attention.hpp"

namespace yamiro::arch {
namespace {

using attn::Affine;
using attn::Conv;
using attn::linear;

// The ESA's stride-2 3x3 conv and 7x7 / stride-3 max-pool need 15 pixels a side.
constexpr int64_t kEsaMinSide = 15;

Conv conv(const StateDict& sd, const std::string& key, const NetOptions& opt) {
  const HostTensor& w = sd.at(key + ".weight");
  Conv c;
  c.w = to_device(w, opt);
  if (sd.count(key + ".bias")) c.b = to_device(sd.at(key + ".bias"), opt);
  return c;
}

Conv depthwise(const StateDict& sd, const std::string& key, const NetOptions& opt) {
  Conv c = conv(sd, key, opt);
  c.groups = c.w.size(0);
  return c;
}

struct WindowAttention {  // PreNormResidual(LayerNorm, Attention)
  Affine norm, qkv, out;
  at::Tensor bias;  // [heads, n, n], undefined without pe
  int64_t heads = 0;
};

struct FeedForward {  // Conv_PreNormResidual(LayerNorm2d, Gated_Conv_FeedForward)
  Affine norm;
  Conv in, dw, out;
};

struct ChannelAttention {  // Conv_PreNormResidual(LayerNorm2d, Channel_Attention[_grid])
  Affine norm;
  Conv qkv, dw, out;
  at::Tensor temperature;  // [heads, 1, 1]
};

struct Block {
  Conv mb_in, mb_dw, mb_out;
  Affine squeeze, excite;
  WindowAttention local, grid;
  ChannelAttention local_ca, grid_ca;
  FeedForward ff[4];
};

struct Group {
  std::vector<Block> blocks;
  Conv conv;
  Conv esa1, esa_f, esa2, esa3, esa4;
};

class OmniSR final : public Network {
 public:
  OmniSR(const ArchInfo& info, const StateDict& sd, const NetOptions& opt)
      : scale_(info.scale), window_(info.hyper.at("window_size")), plain_(opt.plain) {
    const int64_t heads = info.hyper.at("num_feat") / (info.hyper.at("num_feat") / 4);
    const at::Tensor index = window::relative_index(window_);
    const int64_t n = static_cast<int64_t>(window_) * window_;
    const auto window_attention = [&](const std::string& p) {
      WindowAttention a;
      a.norm = attn::load_affine(sd, p + "norm", opt);
      a.qkv = attn::load_affine(sd, p + "fn.to_qkv", opt, false);
      a.out = attn::load_affine(sd, p + "fn.to_out.0", opt, false);
      a.heads = heads;
      if (sd.count(p + "fn.rel_pos_bias.weight")) {
        const HostTensor& t = sd.at(p + "fn.rel_pos_bias.weight");
        const at::Tensor host = at::from_blob(const_cast<float*>(t.values.data()), t.shape, at::kFloat);
        a.bias = host.index_select(0, index).view({n, n, t.shape[1]}).permute({2, 0, 1}).contiguous().to(opt.device, opt.dtype);
      }
      return a;
    };
    const auto feed_forward = [&](const std::string& p) {
      return FeedForward{attn::load_affine(sd, p + "norm", opt), conv(sd, p + "fn.project_in", opt),
                         depthwise(sd, p + "fn.dwconv", opt), conv(sd, p + "fn.project_out", opt)};
    };
    const auto channel_attention = [&](const std::string& p) {
      return ChannelAttention{attn::load_affine(sd, p + "norm", opt), conv(sd, p + "fn.qkv", opt),
                              depthwise(sd, p + "fn.qkv_dwconv", opt), conv(sd, p + "fn.project_out", opt),
                              to_device(sd.at(p + "fn.temperature"), opt)};
    };
    input_ = conv(sd, "input", opt);
    output_ = conv(sd, "output", opt);
    up_ = conv(sd, "up.0", opt);
    for (int g = 0; g < info.hyper.at("res_num"); ++g) {
      const std::string gp = "residual_layer." + std::to_string(g) + ".";
      Group group;
      const int blocks = info.hyper.at("block_num");
      for (int b = 0; b < blocks; ++b) {
        const std::string p = gp + "residual_layer." + std::to_string(b) + ".layer.";
        Block k;
        k.mb_in = conv(sd, p + "0.fn.0", opt);
        k.mb_dw = depthwise(sd, p + "0.fn.2", opt);
        k.squeeze = attn::load_affine(sd, p + "0.fn.4.gate.1", opt, false);
        k.excite = attn::load_affine(sd, p + "0.fn.4.gate.3", opt, false);
        k.mb_out = conv(sd, p + "0.fn.5", opt);
        k.local = window_attention(p + "2.");
        k.ff[0] = feed_forward(p + "4.");
        k.local_ca = channel_attention(p + "5.");
        k.ff[1] = feed_forward(p + "6.");
        k.grid = window_attention(p + "8.");
        k.ff[2] = feed_forward(p + "10.");
        k.grid_ca = channel_attention(p + "11.");
        k.ff[3] = feed_forward(p + "12.");
        group.blocks.push_back(std::move(k));
      }
      group.conv = conv(sd, gp + "residual_layer." + std::to_string(blocks), opt);
      group.esa1 = conv(sd, gp + "esa.conv1", opt);
      group.esa_f = conv(sd, gp + "esa.conv_f", opt);
      group.esa2 = conv(sd, gp + "esa.conv2", opt);
      group.esa3 = conv(sd, gp + "esa.conv3", opt);
      group.esa4 = conv(sd, gp + "esa.conv4", opt);
      groups_.push_back(std::move(group));
    }
  }

  at::Tensor forward(const at::Tensor& x) override {
    const int64_t h = x.size(2), w = x.size(3);
    const auto padded = [&](int64_t n) {
      const int64_t m = window_, least = (kEsaMinSide + m - 1) / m * m;
      return std::max(least, (n + m - 1) / m * m);
    };
    const at::Tensor in = at::constant_pad_nd(x, {0, padded(w) - w, 0, padded(h) - h}, 0);
    const at::Tensor residual = input_(in);
    at::Tensor y = residual;
    for (const Group& g : groups_) y = group(g, y);
    y = add(output_(y), residual);
    y = at::pixel_shuffle(up_(y), scale_);
    return y.narrow(2, 0, h * scale_).narrow(3, 0, w * scale_);
  }

 private:
  at::Tensor add(at::Tensor a, const at::Tensor& b) const { return plain_ ? a + b : a.add_(b); }

  // Many small products: grouped 1x1 convolutions on the CPU (attn::batched_matmul),
  // except in the plain forward.
  at::Tensor matmul(const at::Tensor& a, const at::Tensor& b) const {
    return plain_ ? at::matmul(a, b) : attn::batched_matmul(a, b);
  }

  // LayerNorm2d: over the channels of [B,C,H,W], eps 1e-6 (the biased variance, as nn.LayerNorm).
  static at::Tensor norm2d(const at::Tensor& x, const Affine& a) {
    return at::layer_norm(x.permute({0, 2, 3, 1}), {a.w.size(0)}, a.w, a.b, 1e-6).permute({0, 3, 1, 2});
  }

  at::Tensor group(const Group& g, const at::Tensor& x) {
    at::Tensor y = x;
    for (const Block& b : g.blocks) y = block(b, y);
    y = add(g.conv(y), x);
    return esa(g, y);
  }

  static at::Tensor esa(const Group& g, const at::Tensor& x) {
    const at::Tensor c1 = g.esa1(x);
    const at::Tensor c2 = at::conv2d(c1, g.esa2.w, g.esa2.b, at::IntArrayRef{2, 2}, at::IntArrayRef{0, 0});
    at::Tensor c3 = g.esa3(at::max_pool2d(c2, {7, 7}, {3, 3}));
    c3 = at::upsample_bilinear2d(c3, {x.size(2), x.size(3)}, false, c10::nullopt, c10::nullopt);
    return x * at::sigmoid(g.esa4(c3 + g.esa_f(c1)));
  }

  at::Tensor block(const Block& b, const at::Tensor& x) {
    // MBConv with its squeeze-excitation over the whole map.
    at::Tensor m = at::gelu(b.mb_dw(at::gelu(b.mb_in(x))));
    const at::Tensor gate = at::sigmoid(linear(at::silu(linear(m.mean({2, 3}), b.squeeze)), b.excite));
    at::Tensor y = add(b.mb_out(m * gate.unsqueeze(-1).unsqueeze(-1)), x);
    y = window_attention(b.local, y, false);
    y = feed_forward(b.ff[0], y);
    y = channel_attention(b.local_ca, y, false);
    y = feed_forward(b.ff[1], y);
    y = window_attention(b.grid, y, true);
    y = feed_forward(b.ff[2], y);
    y = channel_attention(b.grid_ca, y, true);
    return feed_forward(b.ff[3], y);
  }

  // [B,C,H,W] -> [B*nW, w*w, C]: contiguous windows, or (grid) the w x w pixels spaced
  // H/w and W/w apart; and back.
  at::Tensor to_tokens(const at::Tensor& x, bool grid) const {
    const int64_t bs = x.size(0), c = x.size(1), h = x.size(2), wd = x.size(3), w = window_;
    const at::Tensor t = x.permute({0, 2, 3, 1});  // [B,H,W,C]
    if (!grid) return t.reshape({bs, h / w, w, wd / w, w, c}).permute({0, 1, 3, 2, 4, 5}).reshape({-1, w * w, c});
    return t.reshape({bs, w, h / w, w, wd / w, c}).permute({0, 2, 4, 1, 3, 5}).reshape({-1, w * w, c});
  }

  at::Tensor from_tokens(const at::Tensor& t, bool grid, int64_t bs, int64_t h, int64_t wd) const {
    const int64_t c = t.size(2), w = window_;
    const at::Tensor v = t.reshape({bs, h / w, wd / w, w, w, c});
    const at::Tensor img = grid ? v.permute({0, 3, 1, 4, 2, 5}) : v.permute({0, 1, 3, 2, 4, 5});  // [B,H',w,W',w,C] order
    return img.reshape({bs, h, wd, c}).permute({0, 3, 1, 2});
  }

  at::Tensor window_attention(const WindowAttention& a, const at::Tensor& x, bool grid) {
    const int64_t bs = x.size(0), c = x.size(1), h = x.size(2), wd = x.size(3), hd = c / a.heads;
    const at::Tensor t = to_tokens(x, grid);
    const int64_t bw = t.size(0), n = t.size(1);
    const at::Tensor qkv = linear(attn::norm(t, a.norm), a.qkv).view({bw, n, 3, a.heads, hd}).permute({2, 0, 3, 1, 4});
    at::Tensor sim = matmul(qkv[0] * (1.0 / std::sqrt(static_cast<double>(hd))), qkv[1].transpose(-2, -1));
    if (a.bias.defined()) sim = add(sim, a.bias);
    const at::Tensor o = matmul(at::softmax(sim, -1), qkv[2]).transpose(1, 2).reshape({bw, n, c});
    return from_tokens(add(linear(o, a.out), t), grid, bs, h, wd);
  }

  at::Tensor feed_forward(const FeedForward& f, const at::Tensor& x) const {
    const at::Tensor y = f.dw(f.in(norm2d(x, f.norm)));
    const int64_t hidden = y.size(1) / 2;
    return add(f.out(at::gelu(y.narrow(1, 0, hidden)) * y.narrow(1, hidden, hidden)), x);
  }

  // Channel attention per head over vectors of L pixels: a window's (local), or one
  // in-window offset's across all windows (grid). Split: [B, G, heads, d, L].
  at::Tensor channel_attention(const ChannelAttention& a, const at::Tensor& x, bool grid) const {
    const int64_t bs = x.size(0), c = x.size(1), h = x.size(2), wd = x.size(3), p = window_, heads = a.temperature.size(0),
                  d = c / heads, nh = h / p, nw = wd / p;
    const at::Tensor qkv = a.dw(a.qkv(norm2d(x, a.norm)));
    const auto split = [&](int64_t k) {
      const at::Tensor t = qkv.narrow(1, k * c, c).reshape({bs, heads, d, nh, p, nw, p});
      if (grid) return t.permute({0, 4, 6, 1, 2, 3, 5}).reshape({bs, p * p, heads, d, nh * nw});
      return t.permute({0, 3, 5, 1, 2, 4, 6}).reshape({bs, nh * nw, heads, d, p * p});
    };
    const auto unit = [](const at::Tensor& t) { return t / t.norm(2, {-1}, true).clamp_min(1e-12); };
    const at::Tensor q = unit(split(0)), k = unit(split(1)), v = split(2);
    const at::Tensor attn = at::softmax(matmul(q, k.transpose(-2, -1)) * a.temperature, -1);
    const at::Tensor o = matmul(attn, v);  // [B, G, heads, d, L]
    const at::Tensor img = grid ? o.reshape({bs, p, p, heads, d, nh, nw}).permute({0, 3, 4, 5, 1, 6, 2})
                                : o.reshape({bs, nh, nw, heads, d, p, p}).permute({0, 3, 4, 1, 5, 2, 6});
    return add(a.out(img.reshape({bs, c, h, wd})), x);
  }

  int scale_, window_;
  bool plain_;
  Conv input_, output_, up_;
  std::vector<Group> groups_;
};

}  // namespace

std::unique_ptr<Network> make_omnisr(const ArchInfo& info, const StateDict& sd, const NetOptions& opt) {
  return std::make_unique<OmniSR>(info, sd, opt);
}

}  // namespace yamiro::arch
