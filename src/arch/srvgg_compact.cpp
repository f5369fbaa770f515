// SRVGGNetCompact (Real-ESRGAN's compact network, realesr-general-x4v3 layout):
// conv + PReLU pairs, a last conv to 3*scale^2 channels, pixel shuffle, plus the
// nearest-upsampled input.
#include <vector>

#include "arch/network.hpp"

namespace yamiro::arch {
namespace {

class SrvggCompact final : public Network {
 public:
  SrvggCompact(const ArchInfo& info, const StateDict& sd, const NetOptions& opt) : scale_(info.scale), plain_(opt.plain) {
    const int layers = 2 * info.hyper.at("num_conv") + 3;
    for (int i = 0; i < layers; ++i) {
      const std::string key = "body." + std::to_string(i);
      if (i % 2 == 0) {
        conv_w_.push_back(to_device(sd.at(key + ".weight"), opt));
        conv_b_.push_back(to_device(sd.at(key + ".bias"), opt));
      } else {
        prelu_.push_back(to_device(sd.at(key + ".weight"), opt));
      }
    }
  }

  at::Tensor forward(const at::Tensor& x) override {
    at::Tensor out = x;
    for (std::size_t i = 0; i < conv_w_.size(); ++i) {
      out = at::conv2d(out, conv_w_[i], conv_b_[i], 1, 1);
      if (i < prelu_.size()) out = at::prelu(out, prelu_[i]);
    }
    const std::vector<int64_t> size = {x.size(2) * scale_, x.size(3) * scale_};
    at::Tensor base = at::upsample_nearest2d(x, size);
    at::Tensor shuffled = at::pixel_shuffle(out, scale_);
    if (plain_) return shuffled + base;
    return shuffled.add_(base);
  }

 private:
  int scale_;
  bool plain_;
  std::vector<at::Tensor> conv_w_, conv_b_, prelu_;
};

}  // namespace

std::unique_ptr<Network> make_srvgg_compact(const ArchInfo& info, const StateDict& sd, const NetOptions& opt) {
  return std::make_unique<SrvggCompact>(info, sd, opt);
}

}  // namespace yamiro::arch
