// SRVGGNetCompact (Real-ESRGAN's compact network, realesr-general-x4v3 layout):
// conv + PReLU pairs, a last conv to C*scale^2 channels, pixel shuffle, plus the
// nearest-upsampled input; C = 1, 3 or 4 (body.0 takes it, the output keeps it).
#include <vector>

#include "arch/network.hpp"
#include "arch/winograd.hpp"

namespace yamiro::arch {
namespace {

class SrvggCompact final : public Network {
 public:
  SrvggCompact(const ArchInfo& info, const StateDict& sd, const NetOptions& opt) : scale_(info.scale), plain_(opt.plain) {
    const int layers = 2 * info.hyper.at("num_conv") + 3;
    for (int i = 0; i < layers; ++i) {
      const std::string key = "body." + std::to_string(i);
      if (i % 2 == 0) {
        conv_.emplace_back(to_device(sd.at(key + ".weight"), opt), to_device(sd.at(key + ".bias"), opt),
                           opt.winograd && !opt.plain);
      } else {
        prelu_.push_back(to_device(sd.at(key + ".weight"), opt));
      }
    }
  }

  at::Tensor forward(const at::Tensor& x) override {
    at::Tensor out = x;
    for (std::size_t i = 0; i < conv_.size(); ++i) {
      Epilogue e;  // conv then PReLU, fused on the Winograd path
      if (i < prelu_.size()) e.prelu = prelu_[i];
      out = conv_[i](out, e);
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
  std::vector<Conv3x3> conv_;
  std::vector<at::Tensor> prelu_;
};

}  // namespace

std::unique_ptr<Network> make_srvgg_compact(const ArchInfo& info, const StateDict& sd, const NetOptions& opt) {
  return std::make_unique<SrvggCompact>(info, sd, opt);
}

}  // namespace yamiro::arch
