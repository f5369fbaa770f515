// SPAN (Wan et al., "Swift Parameter-free Attention Network for Efficient Super-Resolution",
// 2024): conv_1, N SPAB blocks (three Conv3XC with SiLU between, then the parameter-free
// attention (c3 + x) * (sigmoid(c3) - 0.5)), conv_2, a 1x1 conv_cat over [conv_1's output,
// conv_2's, block 1's, the last block's first activation], and a pixel-shuffle upsampler.
// Each Conv3XC (a 1x1 skip plus 1x1 -> 3x3 -> 1x1 branches, as trained) is folded at load
// into the one 3x3 convolution the reference's eval forward runs. Layout from detect_span.
#include <utility>
#include <vector>

#include "arch/network.hpp"
#include "arch/winograd.hpp"

namespace yamiro::arch {
namespace {

// The reference's DIV2K RGB mean and img_range (not stored in the weights, except neosr's
// "mean" parameter).
constexpr float kRgbMean[3] = {0.4488f, 0.4371f, 0.4040f};
constexpr double kImgRange = 255.0;

const std::vector<float>& values(const StateDict& sd, const std::string& key) { return sd.at(key).values; }

// The fold, in double: W = w3 . w2 . w1 (1x1, 3x3, 1x1) plus the 1x1 skip at the kernel
// centre; b = w3 (w2 b1 + b2) + b3 + b_sk, where w2 b1 sums over the 3x3 taps (the
// eval conv pads the input with zeros, as the reference's does).
HostTensor fold_conv3xc(const StateDict& sd, const std::string& p, HostTensor& bias) {
  const auto& s1 = sd.at(p + ".conv.0.weight").shape;  // [m1, in, 1, 1]
  const auto& s2 = sd.at(p + ".conv.1.weight").shape;  // [m2, m1, 3, 3]
  const int64_t in = s1[1], m1 = s1[0], m2 = s2[0], out = sd.at(p + ".sk.weight").shape[0];
  const auto &w1 = values(sd, p + ".conv.0.weight"), &b1 = values(sd, p + ".conv.0.bias");
  const auto &w2 = values(sd, p + ".conv.1.weight"), &b2 = values(sd, p + ".conv.1.bias");
  const auto &w3 = values(sd, p + ".conv.2.weight"), &b3 = values(sd, p + ".conv.2.bias");
  const auto &sk = values(sd, p + ".sk.weight"), &skb = values(sd, p + ".sk.bias");
  // a[m][i][k] = sum_n w2[m][n][k] w1[n][i]
  std::vector<double> a(static_cast<std::size_t>(m2 * in * 9), 0.0);
  std::vector<double> mid_bias(static_cast<std::size_t>(m2), 0.0);
  for (int64_t m = 0; m < m2; ++m) {
    double bm = b2[m];
    for (int64_t n = 0; n < m1; ++n)
      for (int k = 0; k < 9; ++k) {
        const double w = w2[(m * m1 + n) * 9 + k];
        bm += w * b1[n];
        for (int64_t i = 0; i < in; ++i) a[(m * in + i) * 9 + k] += w * w1[n * in + i];
      }
    mid_bias[m] = bm;
  }
  HostTensor w{{out, in, 3, 3}, std::vector<float>(static_cast<std::size_t>(out * in * 9))};
  bias = HostTensor{{out}, std::vector<float>(static_cast<std::size_t>(out))};
  for (int64_t o = 0; o < out; ++o) {
    double bo = static_cast<double>(b3[o]) + skb[o];
    std::vector<double> acc(static_cast<std::size_t>(in * 9), 0.0);
    for (int64_t m = 0; m < m2; ++m) {
      const double c = w3[o * m2 + m];
      bo += c * mid_bias[m];
      for (int64_t j = 0; j < in * 9; ++j) acc[j] += c * a[m * in * 9 + j];
    }
    for (int64_t i = 0; i < in; ++i) {
      acc[i * 9 + 4] += sk[o * in + i];
      for (int k = 0; k < 9; ++k) w.values[(o * in + i) * 9 + k] = static_cast<float>(acc[i * 9 + k]);
    }
    bias.values[o] = static_cast<float>(bo);
  }
  return w;
}

// A 3x3 convolution: at::conv2d in plain mode, else Conv3x3 (Winograd where enabled).
struct Conv {
  at::Tensor w, b;
  Conv3x3 fast;
  bool plain = true;
  at::Tensor operator()(const at::Tensor& x) const { return plain ? at::conv2d(x, w, b, 1, w.size(2) / 2) : fast(x); }
};

Conv make_conv(const HostTensor& w, const HostTensor& b, const NetOptions& opt) {
  Conv c{to_device(w, opt), to_device(b, opt), {}, opt.plain};
  if (!opt.plain) c.fast = Conv3x3(c.w, c.b, opt.winograd);
  return c;
}

Conv load_conv3xc(const StateDict& sd, const std::string& p, const NetOptions& opt) {
  HostTensor bias;
  const HostTensor w = fold_conv3xc(sd, p, bias);
  return make_conv(w, bias, opt);
}

at::Tensor silu_inplace(at::Tensor t) {
  at::silu_(t);
  return t;
}

struct Block {
  Conv c1, c2, c3;
};

class Span final : public Network {
 public:
  Span(const ArchInfo& info, const StateDict& sd, const NetOptions& opt)
      : scale_(info.scale), norm_(info.options.at("norm") == "true"), plain_(opt.plain) {
    first_ = load_conv3xc(sd, "conv_1", opt);
    for (int b = 1; b <= info.hyper.at("num_blocks"); ++b) {
      const std::string p = "block_" + std::to_string(b);
      blocks_.push_back(Block{load_conv3xc(sd, p + ".c1_r", opt), load_conv3xc(sd, p + ".c2_r", opt),
                              load_conv3xc(sd, p + ".c3_r", opt)});
    }
    second_ = load_conv3xc(sd, "conv_2", opt);
    cat_w_ = to_device(sd.at("conv_cat.weight"), opt);
    cat_b_ = to_device(sd.at("conv_cat.bias"), opt);
    up_ = make_conv(sd.at("upsampler.0.weight"), sd.at("upsampler.0.bias"), opt);
    std::vector<float> mean(kRgbMean, kRgbMean + 3);
    if (sd.count("mean")) mean = sd.at("mean").values;
    mean_ = at::tensor(mean).view({1, 3, 1, 1}).to(opt.device, opt.dtype);
  }

  at::Tensor forward(const at::Tensor& input) override {
    const at::Tensor x = norm_ ? (input - mean_) * kImgRange : input;
    const at::Tensor feat = first_(x);
    at::Tensor out = feat, b1, mid;
    for (std::size_t i = 0; i < blocks_.size(); ++i) {
      const Block& b = blocks_[i];
      // The reference's SiLU is in place: the first activation it returns is the activated one.
      mid = plain_ ? at::silu(b.c1(out)) : silu_inplace(b.c1(out));
      const at::Tensor o2 = plain_ ? at::silu(b.c2(mid)) : silu_inplace(b.c2(mid));
      at::Tensor o3 = b.c3(o2);
      if (plain_) {
        out = (o3 + out) * (at::sigmoid(o3) - 0.5);
      } else {
        const at::Tensor att = at::sigmoid(o3).sub_(0.5);
        out = o3.add_(out).mul_(att);
      }
      if (i == 0) b1 = out;
    }
    const at::Tensor y = at::conv2d(at::cat({feat, second_(out), b1, mid}, 1), cat_w_, cat_b_);
    return at::pixel_shuffle(up_(y), scale_);
  }

 private:
  int scale_;
  bool norm_, plain_;
  Conv first_, second_, up_;
  std::vector<Block> blocks_;
  at::Tensor cat_w_, cat_b_, mean_;
};

}  // namespace

std::unique_ptr<Network> make_span(const ArchInfo& info, const StateDict& sd, const NetOptions& opt) {
  return std::make_unique<Span>(info, sd, opt);
}

}  // namespace yamiro::arch
