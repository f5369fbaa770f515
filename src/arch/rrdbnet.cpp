// RRDBNet (ESRGAN / Real-ESRGAN x4plus): conv_first, residual-in-residual dense blocks,
// conv_body, N nearest x2 upsamplings with convs (N = 0 for x1 .. 4 for x16), conv_hr,
// conv_last, on 1, 3 or 4 channels. Real-ESRGAN's x2/x1 fold the input with
// pixel_unshuffle(2/4) first (option pixel_unshuffle), after reflection padding to a
// multiple of it, as Real-ESRGAN's inference and spandrel do; the output is cropped back.
#include <array>
#include <string>
#include <vector>

#include "arch/network.hpp"
#include "arch/winograd.hpp"

namespace yamiro::arch {
namespace {

using Conv = Conv3x3;

Conv load_conv(const StateDict& sd, const std::string& key, const NetOptions& opt) {
  return Conv(to_device(sd.at(key + ".weight"), opt), to_device(sd.at(key + ".bias"), opt), opt.winograd && !opt.plain);
}

// LeakyReLU(0.2) as a fused conv epilogue.
const Epilogue kLrelu{0.2f, {}, {}, 1.0f};

at::Tensor lrelu(const at::Tensor& x) { return at::leaky_relu(x, 0.2); }

class RrdbNet final : public Network {
 public:
  RrdbNet(const ArchInfo& info, const StateDict& sd, const NetOptions& opt)
      : scale_(info.scale),
        unshuffle_(info.options.count("pixel_unshuffle") ? std::stoi(info.options.at("pixel_unshuffle")) : 1),
        nf_(info.hyper.at("num_feat")),
        gc_(info.hyper.at("num_grow_ch")),
        opt_(opt) {
    first_ = load_conv(sd, "conv_first", opt);
    const int nb = info.hyper.at("num_block");
    for (int b = 0; b < nb; ++b) {
      Block block;
      for (int r = 0; r < 3; ++r)
        for (int k = 0; k < 5; ++k)
          block[r][k] = load_conv(sd, "body." + std::to_string(b) + ".rdb" + std::to_string(r + 1) + ".conv" + std::to_string(k + 1), opt);
      body_.push_back(std::move(block));
    }
    conv_body_ = load_conv(sd, "conv_body", opt);
    for (int u = 1; sd.count("conv_up" + std::to_string(u) + ".weight"); ++u) up_.push_back(load_conv(sd, "conv_up" + std::to_string(u), opt));
    hr_ = load_conv(sd, "conv_hr", opt);
    last_ = load_conv(sd, "conv_last", opt);
  }

  at::Tensor forward(const at::Tensor& input) override {
    at::Tensor x = input;
    const int64_t h = input.size(2), w = input.size(3);
    if (unshuffle_ > 1) {
      const int64_t ph = (unshuffle_ - h % unshuffle_) % unshuffle_, pw = (unshuffle_ - w % unshuffle_) % unshuffle_;
      if (ph || pw) {
        // Reflection needs more pixels than it pads (a 1-pixel side repeats its pixel), and
        // LibTorch 1.13 has no bf16 reflection pad on the CPU: the input pads in fp32.
        const at::Tensor f = x.to(at::kFloat);
        x = (h > ph && w > pw ? at::reflection_pad2d(f, {0, pw, 0, ph}) : at::replication_pad2d(f, {0, pw, 0, ph}))
                .to(x.scalar_type());
        if (x.dim() == 4 && input.is_contiguous(at::MemoryFormat::ChannelsLast) && !input.is_contiguous())
          x = x.contiguous(at::MemoryFormat::ChannelsLast);
      }
      x = at::pixel_unshuffle(x, unshuffle_);
    }
    at::Tensor feat = first_(x);
    at::Tensor body = feat;
    for (const auto& block : body_) body = rrdb(block, body);
    at::Tensor y;
    if (opt_.plain) {
      feat = feat + conv_body_(body);
      for (const auto& up : up_) feat = lrelu(up(upsample2(feat)));
      y = last_(lrelu(hr_(feat)));
    } else {
      feat = conv_body_(body, Epilogue{1.0f, {}, feat, 1.0f});
      for (const auto& up : up_) feat = up(upsample2(feat), kLrelu);
      y = last_(hr_(feat, kLrelu));
    }
    if (y.size(2) != h * scale_ || y.size(3) != w * scale_) y = y.narrow(2, 0, h * scale_).narrow(3, 0, w * scale_);
    return y;
  }

 private:
  using Block = std::array<std::array<Conv, 5>, 3>;

  static at::Tensor upsample2(const at::Tensor& x) {
    const std::vector<int64_t> size = {x.size(2) * 2, x.size(3) * 2};
    return at::upsample_nearest2d(x, size);
  }

  at::Tensor rrdb(const Block& block, const at::Tensor& x) const {
    at::Tensor out = x;
    for (const auto& convs : block) out = rdb(convs, out);
    return opt_.plain ? out * 0.2 + x : out.mul_(0.2).add_(x);
  }

  // Dense block: conv k sees the concatenation of the input and all earlier outputs.
  at::Tensor rdb(const std::array<Conv, 5>& c, const at::Tensor& x) const {
    if (opt_.plain) {
      std::vector<at::Tensor> feats = {x};
      for (int k = 0; k < 4; ++k) feats.push_back(at::leaky_relu(c[k](at::cat(feats, 1)), 0.2));
      return c[4](at::cat(feats, 1)) * 0.2 + x;
    }
    // One buffer holds the growing concatenation, so nothing is copied twice.
    const auto fmt = x.suggest_memory_format();
    at::Tensor buf = at::empty({x.size(0), nf_ + 4 * gc_, x.size(2), x.size(3)}, x.options().memory_format(fmt));
    buf.narrow(1, 0, nf_).copy_(x);
    for (int k = 0; k < 4; ++k) c[k].into(buf.narrow(1, 0, nf_ + k * gc_), buf.narrow(1, nf_ + k * gc_, gc_), kLrelu);
    return c[4](buf, Epilogue{1.0f, {}, x, 0.2f});
  }

  int scale_;
  int unshuffle_;
  int64_t nf_, gc_;
  NetOptions opt_;
  Conv first_, conv_body_, hr_, last_;
  std::vector<Conv> up_;
  std::vector<Block> body_;
};

}  // namespace

std::unique_ptr<Network> make_rrdbnet(const ArchInfo& info, const StateDict& sd, const NetOptions& opt) {
  return std::make_unique<RrdbNet>(info, sd, opt);
}

}  // namespace yamiro::arch
