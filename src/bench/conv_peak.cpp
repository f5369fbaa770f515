// The machine's measured convolution peak: a large 64->64 3x3 convolution in the
// engine's precision and memory format, best of several runs.
#include <chrono>

#include "engine/device.hpp"
#include "yamiro/autotune.hpp"
#include "yamiro/bench.hpp"
#include "yamiro/error.hpp"

namespace yamiro {

double measure_conv_peak_gflops(const std::string& device, Precision precision, bool channels_last, int threads) {
  limit_kernel_caches();
  const DeviceChoice dev = select_device(device);
  if (threads > 0) at::set_num_threads(threads);
  const Precision p = precision != Precision::Auto
                          ? precision
                          : resolve_auto_precision(dev.name, dev.kind, threads, winograd_env_allows()).precision;
  const at::ScalarType dtype = p == Precision::BF16 ? at::kBFloat16 : p == Precision::FP16 ? at::kHalf : at::kFloat;
  const int64_t n = dev.kind == DeviceKind::CPU ? 1 : 4, hw = dev.kind == DeviceKind::CPU ? 192 : 512, c = 64;
  const auto fmt = channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
  if (dev.kind == DeviceKind::CUDA) {
    at::globalContext().setBenchmarkCuDNN(true);
    at::globalContext().setAllowTF32CuDNN(p != Precision::FP32);
  }
  try {
    c10::InferenceMode inference;
    const auto opts = at::TensorOptions().device(dev.device).dtype(dtype);
    const at::Tensor x = at::rand({n, c, hw, hw}, opts).contiguous(fmt);
    const at::Tensor w = (at::rand({c, c, 3, 3}, opts) * 0.05).contiguous(fmt);
    const at::Tensor b = at::zeros({c}, opts);
    // An accelerator runs a convolution in well under a millisecond: queue several per
    // timed round so launch and synchronisation costs do not count as convolution time.
    const int per_round = dev.kind == DeviceKind::CPU ? 1 : 20;
    double best = 1e30;
    for (int i = 0; i < 6; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      at::Tensor y;
      for (int k = 0; k < per_round; ++k) y = at::conv2d(x, w, b, 1, 1);
      (void)y.sum().item<float>();  // waits for the device
      const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / per_round;
      if (i > 0) best = std::min(best, dt);  // the first run builds kernels
    }
    return 2.0 * 9 * c * c * static_cast<double>(n * hw * hw) / best / 1e9;
  } catch (const c10::Error& e) {
    throw Error(ErrorKind::Device, "convolution peak measurement failed on " + dev.name + ": " +
                                       std::string(e.what_without_backtrace()).substr(0, 200));
  }
}

}  // namespace yamiro
