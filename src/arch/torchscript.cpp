// TorchScript modules (only with --trust-model: they are code). The module is run as is;
// yamiro only checks, with a probe, that it maps RGB to RGB at an integer scale.
#include <torch/script.h>

#include "arch/network.hpp"
#include "yamiro/error.hpp"

namespace yamiro {
namespace {

torch::jit::Module load_module(const std::string& path, const at::Device& device) {
  try {
    torch::jit::Module m = torch::jit::load(path, device);
    m.eval();
    return m;
  } catch (const c10::Error& e) {
    throw Error(ErrorKind::Model, path + ": cannot load the TorchScript module: " +
                                      std::string(e.what_without_backtrace()).substr(0, 300));
  }
}

class TorchScriptNet final : public arch::Network {
 public:
  TorchScriptNet(const std::string& path, const arch::NetOptions& opt) : module_(load_module(path, opt.device)) {
    module_.to(opt.dtype);
  }
  at::Tensor forward(const at::Tensor& x) override { return module_.forward({x}).toTensor(); }

 private:
  torch::jit::Module module_;
};

}  // namespace

ArchInfo probe_torchscript(const std::string& path) {
  torch::jit::Module m = load_module(path, at::kCPU);
  at::Tensor y;
  try {
    c10::InferenceMode inference;
    y = m.forward({at::rand({1, 3, 16, 16})}).toTensor();
  } catch (const std::exception& e) {
    throw Error(ErrorKind::Model, path + ": the TorchScript module fails on a 1x3x16x16 probe: " + std::string(e.what()).substr(0, 300));
  }
  if (y.dim() != 4 || y.size(0) != 1 || y.size(1) != 3 || y.size(2) % 16 != 0 || y.size(2) != y.size(3) || y.size(2) == 0)
    throw Error(ErrorKind::Model, path + ": the TorchScript module does not map RGB to RGB at an integer scale (probe output " +
                                      std::to_string(y.dim()) + "-D)");
  ArchInfo info;
  info.arch = "TorchScript";
  info.scale = static_cast<int>(y.size(2) / 16);
  info.module_path = path;
  return info;
}

namespace arch {

std::unique_ptr<Network> make_torchscript(const ArchInfo& info, const StateDict&, const NetOptions& opt) {
  return std::make_unique<TorchScriptNet>(info.module_path, opt);
}

}  // namespace arch
}  // namespace yamiro
