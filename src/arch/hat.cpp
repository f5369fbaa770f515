// HAT (Chen et al., "Activating More Pixels in Image Super-Resolution Transformer", 2023):
// conv_first, residual hybrid attention groups (RHAG) and the pixelshuffle upsampler of
// SwinIR's classical model. A group is a run of hybrid attention blocks (HAB: window
// attention with relative position bias, alternately shifted windows with a mask, plus
// conv_scale times a channel-attention block, CAB: conv-GELU-conv and a squeeze-excitation
// over the whole image's average), one overlapping cross-attention block (OCAB: queries from
// the ws x ws windows, keys and values from ow x ow windows around them, zero outside the
// image, its own relative position table) and a 3x3 conv (resi_connection 1conv, or none).
// The input is padded to a multiple of the window by reflection and the output cropped, as
// the reference does. Layout and hyper-parameters come from detect_hat.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "arch/network.hpp"
#include "arch/window_attention.hpp"

namespace yamiro::arch {
namespace {

using window::Affine;
using window::Conv;
using window::linear;
using window::norm;

// The reference's DIV2K RGB mean; img_range is 1 in every released model and is not
// stored in the weights.
constexpr float kRgbMean[3] = {0.4488f, 0.4371f, 0.4040f};

struct Hab {
  Affine norm1, qkv, proj, norm2, fc1, fc2;
  Conv cab0, cab2, squeeze, excite;  // conv_block.cab.0, .2, .3.attention.1, .3.attention.3
  at::Tensor bias;                   // [heads, N, N]
  int64_t heads = 0;
  bool shifted = false;
};

struct Ocab {
  Affine norm1, qkv, proj, norm2, fc1, fc2;
  at::Tensor bias;  // [heads, ws^2, ow^2]
  int64_t heads = 0;
};

struct Group {
  std::vector<Hab> blocks;
  Ocab ocab;
  Conv conv;  // undefined for resi_connection identity
};

// Query i of a ws x ws window, key j of the ow x ow window around it: the row of the OCAB's
// table, as the published calculate_rpi_oca computes it. Its offsets start below zero for
// ow > 2 (the lookup wraps around the table in Python); wrapped here the same way.
at::Tensor overlap_index(int ws, int ow) {
  const int64_t nq = static_cast<int64_t>(ws) * ws, nk = static_cast<int64_t>(ow) * ow, side = ws + ow - 1;
  const int64_t rows = side * side, shift = ws - ow + 1;
  std::vector<int64_t> idx(static_cast<std::size_t>(nq * nk));
  for (int64_t i = 0; i < nq; ++i)
    for (int64_t j = 0; j < nk; ++j) {
      const int64_t r = (j / ow - i / ws + shift) * side + (j % ow - i % ws + shift);
      idx[static_cast<std::size_t>(i * nk + j)] = (r % rows + rows) % rows;
    }
  return at::tensor(idx, at::kLong);
}

// The table's rows for every (query, key) pair, as [heads, nq, nk] on the device.
at::Tensor gather_bias(const HostTensor& table, const at::Tensor& index, int64_t nq, int64_t nk, const NetOptions& opt) {
  const at::Tensor host = at::from_blob(const_cast<float*>(table.values.data()), table.shape, at::kFloat);
  return host.index_select(0, index).view({nq, nk, table.shape[1]}).permute({2, 0, 1}).contiguous().to(opt.device, opt.dtype);
}

void load_attention(const StateDict& sd, const std::string& a, const std::string& p, const NetOptions& opt, Affine& qkv,
                    Affine& proj, Affine& n1, Affine& n2, Affine& fc1, Affine& fc2) {
  qkv = window::load_affine(sd, a + "qkv", opt, sd.count(a + "qkv.bias") > 0);
  proj = window::load_affine(sd, a + "proj", opt);
  n1 = window::load_affine(sd, p + "norm1", opt);
  n2 = window::load_affine(sd, p + "norm2", opt);
  fc1 = window::load_affine(sd, p + "mlp.fc1", opt);
  fc2 = window::load_affine(sd, p + "mlp.fc2", opt);
}

class HAT final : public Network {
 public:
  HAT(const ArchInfo& info, const StateDict& sd, const NetOptions& opt)
      : scale_(info.scale),
        window_(info.hyper.at("window_size")),
        overlap_(info.hyper.at("overlap_window")),
        conv_scale_(std::stod(info.options.at("conv_scale"))),
        plain_(opt.plain),
        grouped_(!opt.plain && opt.device.is_cpu() && opt.dtype == at::kFloat),
        opt_(opt) {
    first_ = window::load_conv(sd, "conv_first", opt);
    if (sd.count("patch_embed.norm.weight")) patch_norm_ = window::load_affine(sd, "patch_embed.norm", opt);
    const int64_t n = static_cast<int64_t>(window_) * window_, on = static_cast<int64_t>(overlap_) * overlap_;
    const at::Tensor sa = window::relative_index(window_), oca = overlap_index(window_, overlap_);
    for (int i = 0; sd.count("layers." + std::to_string(i) + ".residual_group.blocks.0.norm1.weight"); ++i) {
      const std::string gp = "layers." + std::to_string(i) + ".residual_group.";
      Group g;
      for (int j = 0; sd.count(gp + "blocks." + std::to_string(j) + ".norm1.weight"); ++j) {
        const std::string p = gp + "blocks." + std::to_string(j) + ".";
        Hab b;
        load_attention(sd, p + "attn.", p, opt, b.qkv, b.proj, b.norm1, b.norm2, b.fc1, b.fc2);
        b.cab0 = window::load_conv(sd, p + "conv_block.cab.0", opt);
        b.cab2 = window::load_conv(sd, p + "conv_block.cab.2", opt);
        b.squeeze = window::load_conv(sd, p + "conv_block.cab.3.attention.1", opt);
        b.excite = window::load_conv(sd, p + "conv_block.cab.3.attention.3", opt);
        const HostTensor& table = sd.at(p + "attn.relative_position_bias_table");
        b.heads = table.shape[1];
        b.bias = gather_bias(table, sa, n, n, opt);
        b.shifted = j % 2 == 1 && window_ > 1;
        g.blocks.push_back(std::move(b));
      }
      const std::string op = gp + "overlap_attn.";
      load_attention(sd, op, op, opt, g.ocab.qkv, g.ocab.proj, g.ocab.norm1, g.ocab.norm2, g.ocab.fc1, g.ocab.fc2);
      const HostTensor& table = sd.at(op + "relative_position_bias_table");
      g.ocab.heads = table.shape[1];
      g.ocab.bias = gather_bias(table, oca, n, on, opt);
      if (sd.count("layers." + std::to_string(i) + ".conv.weight")) g.conv = window::load_conv(sd, "layers." + std::to_string(i) + ".conv", opt);
      groups_.push_back(std::move(g));
    }
    norm_ = window::load_affine(sd, "norm", opt);
    if (sd.count("conv_after_body.weight")) after_body_ = window::load_conv(sd, "conv_after_body", opt);
    before_up_ = window::load_conv(sd, "conv_before_upsample.0", opt);
    for (int k = 0; sd.count("upsample." + std::to_string(2 * k) + ".weight"); ++k)
      ups_.push_back(window::load_conv(sd, "upsample." + std::to_string(2 * k), opt));
    last_ = window::load_conv(sd, "conv_last", opt);
    mean_ = at::tensor(std::vector<float>(kRgbMean, kRgbMean + 3)).view({1, 3, 1, 1}).to(opt.device, opt.dtype);
  }

  at::Tensor forward(const at::Tensor& input) override {
    const int64_t h = input.size(2), w = input.size(3);
    const at::Tensor x = window::pad_to_multiple(input, window_) - mean_;
    const at::Tensor feat = first_(x);
    at::Tensor body = features(feat);
    if (after_body_.w.defined()) body = after_body_(body);
    body = add(body, feat);
    at::Tensor y = at::leaky_relu(before_up_(body), 0.01);
    // One x3 conv, or one x2 conv per power of two.
    const int64_t r = ups_.size() == 1 && scale_ == 3 ? 3 : 2;
    for (const Conv& c : ups_) y = at::pixel_shuffle(c(y), r);
    y = add(last_(y), mean_);
    return y.narrow(2, 0, h * scale_).narrow(3, 0, w * scale_);
  }

 private:
  // a + b, in place into a (a temporary of ours) unless the plain forward is asked for.
  at::Tensor add(at::Tensor a, const at::Tensor& b) const { return plain_ ? a + b : a.add_(b); }

  const at::Tensor& mask_for(int64_t h, int64_t w) {
    auto it = masks_.find({h, w});
    if (it == masks_.end()) it = masks_.emplace(std::make_pair(h, w), window::shift_mask(h, w, window_).to(opt_.device, opt_.dtype)).first;
    return it->second;
  }

  // Softmax(q k^T / sqrt(d) + bias [+ mask]) v for q [B', heads, nq, d] and k, v [B', heads, nk, d],
  // as [B', nq, heads * d].
  at::Tensor attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& bias, const at::Tensor* mask) const {
    if (grouped_) return attend_grouped(q, k, v, bias, mask);
    const int64_t bw = q.size(0), heads = q.size(1), nq = q.size(2), nk = k.size(2);
    at::Tensor attn = at::matmul(q * (1.0 / std::sqrt(static_cast<double>(q.size(3)))), k.transpose(-2, -1));
    attn = add(attn, bias);
    if (mask) {
      const int64_t nw = mask->size(0);
      attn = add(attn.view({bw / nw, nw, heads, nq, nk}), mask->unsqueeze(1).unsqueeze(0)).view({bw, heads, nq, nk});
    }
    return at::matmul(at::softmax(attn, -1), v).transpose(1, 2).reshape({bw, nq, heads * q.size(3)});
  }

  // The same on the CPU in fp32: LibTorch sends fp32 batched matmuls to its generic BLAS
  // (Debian's: the reference one, about 1.5 GFLOP/s on 2 cores), so both products run as
  // grouped 1x1 convolutions, which oneDNN computes (one group per window and head). The
  // scores come out as [nq, B', heads, nk] (channels-last), softmax runs over the contiguous
  // last dimension, and that memory is the second convolution's input as it is.
  at::Tensor attend_grouped(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& bias,
                            const at::Tensor* mask) const {
    const int64_t bw = q.size(0), heads = q.size(1), nq = q.size(2), nk = k.size(2), d = q.size(3), groups = bw * heads;
    const auto channels_last = [](const at::Tensor& rows, int64_t n, int64_t ch) {  // [n, ch] memory as [1, ch, 1, n]
      return rows.view({1, 1, n, ch}).permute({0, 3, 1, 2});
    };
    const at::Tensor x = channels_last((q * (1.0 / std::sqrt(static_cast<double>(d)))).permute({2, 0, 1, 3}).contiguous(), nq, groups * d);
    const std::vector<int64_t> one = {1, 1}, zero = {0, 0};
    at::Tensor s = at::conv2d(x, k.reshape({groups * nk, d, 1, 1}), at::Tensor(), one, zero, one, groups);
    s = s.permute({0, 2, 3, 1}).contiguous().view({nq, bw, heads, nk});  // no copy: already channels-last
    s.add_(bias.permute({1, 0, 2}).unsqueeze(1));
    if (mask) {
      const int64_t nw = mask->size(0);
      s.view({nq, bw / nw, nw, heads, nk}).add_(mask->permute({1, 0, 2}).unsqueeze(1).unsqueeze(3));
    }
    const at::Tensor a = at::softmax(s, -1);
    const at::Tensor o = at::conv2d(channels_last(a, nq, groups * nk), v.transpose(2, 3).reshape({groups * d, nk, 1, 1}), at::Tensor(), one, zero,
                                    one, groups);
    return o.permute({0, 2, 3, 1}).reshape({nq, bw, heads * d}).transpose(0, 1);
  }

  // The CAB on the normed tokens as an image [B, C, h, w] (a channels-last view).
  at::Tensor cab(const Hab& b, const at::Tensor& img) const {
    const at::Tensor y = b.cab2(at::gelu(b.cab0(img)));
    const at::Tensor s = at::sigmoid(b.excite(at::relu(b.squeeze(y.mean({2, 3}, /*keepdim=*/true)))));
    return y * s;
  }

  // x: [B, h*w, C] tokens.
  at::Tensor hab(const Hab& b, const at::Tensor& x, int64_t h, int64_t w) {
    const int64_t bs = x.size(0), c = x.size(2), shift = window_ / 2, hd = c / b.heads;
    const at::Tensor xn = norm(x, b.norm1).view({bs, h, w, c});
    at::Tensor conv_x = cab(b, xn.permute({0, 3, 1, 2})).permute({0, 2, 3, 1}).reshape({bs, h * w, c});
    at::Tensor y = b.shifted ? at::roll(xn, {-shift, -shift}, {1, 2}) : xn;
    const at::Tensor win = window::to_windows(y, window_);  // [B*nW, N, C]
    const int64_t bw = win.size(0), n = win.size(1);
    const at::Tensor qkv = linear(win, b.qkv).view({bw, n, 3, b.heads, hd}).permute({2, 0, 3, 1, 4});
    const at::Tensor o = attend(qkv[0], qkv[1], qkv[2], b.bias, b.shifted ? &mask_for(h, w) : nullptr);
    y = window::from_windows(linear(o, b.proj), window_, h, w);
    if (b.shifted) y = at::roll(y, {shift, shift}, {1, 2});
    conv_x = plain_ ? conv_x * conv_scale_ : conv_x.mul_(conv_scale_);
    at::Tensor mid = add(x + y.reshape({bs, h * w, c}), conv_x);
    return add(mid, linear(at::gelu(linear(norm(mid, b.norm2), b.fc1)), b.fc2));
  }

  at::Tensor ocab(const Ocab& o, const at::Tensor& x, int64_t h, int64_t w) {
    const int64_t bs = x.size(0), c = x.size(2), hd = c / o.heads, ws = window_, ow = overlap_, pad = (ow - ws) / 2;
    const at::Tensor qkv = linear(norm(x, o.norm1), o.qkv).view({bs, h, w, 3 * c});
    const at::Tensor q = window::to_windows(qkv.narrow(3, 0, c), ws);  // [B*nW, ws^2, C]
    // Keys and values of the ow x ow window around each query window, zero past the image
    // (the reference unfolds them with zero padding): [B*nW, ow^2, 2C].
    const at::Tensor kv = at::constant_pad_nd(qkv.narrow(3, c, 2 * c), {0, 0, pad, pad, pad, pad})
                              .unfold(1, ow, ws)
                              .unfold(2, ow, ws)
                              .permute({0, 1, 2, 4, 5, 3})
                              .reshape({-1, ow * ow, 2 * c});
    const int64_t bw = q.size(0), nq = q.size(1), nk = kv.size(1);
    const auto heads = [&](const at::Tensor& t, int64_t len) { return t.reshape({bw, len, o.heads, hd}).permute({0, 2, 1, 3}); };
    const at::Tensor a = attend(heads(q, nq), heads(kv.narrow(2, 0, c), nk), heads(kv.narrow(2, c, c), nk), o.bias, nullptr);
    const at::Tensor y = window::from_windows(a.contiguous(), ws, h, w).reshape({bs, h * w, c});
    const at::Tensor mid = add(linear(y, o.proj), x);
    return add(mid, linear(at::gelu(linear(norm(mid, o.norm2), o.fc1)), o.fc2));
  }

  at::Tensor features(const at::Tensor& feat) {
    const int64_t bs = feat.size(0), c = feat.size(1), h = feat.size(2), w = feat.size(3);
    at::Tensor t = feat.flatten(2).transpose(1, 2).contiguous();  // [B, L, C]
    if (patch_norm_.w.defined()) t = norm(t, patch_norm_);
    for (const Group& g : groups_) {
      at::Tensor y = t;
      for (const Hab& b : g.blocks) y = hab(b, y, h, w);
      y = ocab(g.ocab, y, h, w);
      if (g.conv.w.defined()) y = g.conv(y.transpose(1, 2).reshape({bs, c, h, w})).flatten(2).transpose(1, 2);
      t = y + t;
    }
    return norm(t, norm_).transpose(1, 2).reshape({bs, c, h, w});
  }

  int scale_, window_, overlap_;
  double conv_scale_;
  bool plain_, grouped_;
  NetOptions opt_;
  Conv first_, after_body_, before_up_, last_;
  std::vector<Conv> ups_;
  Affine patch_norm_, norm_;
  std::vector<Group> groups_;
  at::Tensor mean_;
  std::map<std::pair<int64_t, int64_t>, at::Tensor> masks_;
};

}  // namespace

std::unique_ptr<Network> make_hat(const ArchInfo& info, const StateDict& sd, const NetOptions& opt) {
  return std::make_unique<HAT>(info, sd, opt);
}

}  // namespace yamiro::arch
