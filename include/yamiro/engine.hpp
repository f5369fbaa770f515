// The upscaling engine: one model on one device, run tile by tile.
// LibTorch stays behind the pimpl; this header carries no torch types.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "yamiro/image.hpp"
#include "yamiro/model.hpp"

namespace yamiro {

enum class Precision { Auto, FP32, BF16, FP16 };
enum class Border { Zero, Mirror };

// Engine settings. Defaults are what `yamiro upscale` uses without options.
struct EngineOptions {
  std::string device = "auto";        // auto | cpu | cuda[:N] | mps
  Precision precision = Precision::Auto;
  int tile = -1;                      // -1 = auto from the memory budget, 0 = whole image
  int tile_pad = -1;                  // -1 = default (kDefaultTilePad)
  int batch = 1;                      // tiles per forward
  int threads = 0;                    // 0 = CPUs available to the process
  Border border = Border::Zero;
  bool channels_last = true;          // false with `baseline`
  // Run the network the plain way (NCHW fp32, out-of-place ops), as the Python
  // Real-ESRGAN does. Used by `bench --baseline` as the reference for speed-ups.
  bool baseline = false;
  // fp32 on the CPU: 3x3 convolutions as Winograd F(4x4,3x3) when the CPU has AVX-512
  // (with precision auto: when it measured fastest, see autotune.hpp). The environment
  // variable YAMIRO_WINOGRAD=0 also turns it off.
  bool winograd = true;
  // Tests only: behave as if the device ran out of memory for tiles whose padded side
  // exceeds this many pixels (0 = off). Exercises the halve-and-redo path on any machine.
  int test_oom_above = 0;
};

// 12 px keeps a tile-128 realesrgan-x4plus run at 54.5 dB PSNR of the untiled run
// (butterfly.png; pad 8: 49.9 dB, 10: 51.9 dB, 16: 59.3 dB). See README, "Tiling".
inline constexpr int kDefaultTilePad = 12;

// Progress and cancellation shared between the engine and its caller.
// Thread-safe: the engine updates the counters, any thread may read them or cancel.
struct Progress {
  std::atomic<int> tiles_done{0};
  std::atomic<int> tiles_total{0};
  std::atomic<bool> cancel{false};
  std::function<void(int done, int total)> on_tile;  // called on the engine's thread
};

// What the engine settled on, for logs and bench output.
struct EngineSetup {
  std::string device;      // "cpu", "cuda:0", "mps"
  Precision precision;     // never Auto
  std::string precision_reason;  // "requested", "baseline", or why `auto` chose it
  int threads = 0;
  bool channels_last = false;
  bool winograd = false;   // Winograd 3x3 convolutions in use
};

class Engine {
 public:
  // Converts the weights once for the chosen device and precision. Precision auto uses
  // the device's measured convolution figures (resolve_auto_precision(): from the cache, or
  // measured once per machine and process). Throws Error(Device) when the requested device is missing, Error(Usage) for a
  // precision the device cannot run, Error(Model) when the architecture is unknown or the
  // model's output has other channels than its input (or they are not 1, 3 or 4).
  Engine(const Model& model, const EngineOptions& options);
  ~Engine();
  Engine(Engine&&) noexcept;
  Engine& operator=(Engine&&) noexcept;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Upscales an 8- or 16-bit image (1, 3 or 4 channels) by the model's scale. The image
  // is fed in the model's channel count (ArchInfo::in_channels): a 3-channel model sees
  // gray and the alpha plane as RGB replicas and gives them back as BT.601 luma; a
  // 1-channel model runs every plane as its own pass; a 4-channel model takes RGBA whole,
  // an RGB image with an opaque alpha (dropped from the output), a gray one as RGB replicas
  // with an opaque alpha (back as luma). The result has the input's depth and channels. Throws Error(Interrupted) when progress->cancel is set, Error(Device) when
  // the device fails past the OOM fallbacks. Not thread-safe: one call at a time.
  Image upscale(const Image& input, Progress* progress = nullptr);

  // Same for a planar float RGB image; the output is the network's raw, unclamped output
  // (a 1-channel model runs each plane; a 4-channel one gets an opaque alpha, dropped).
  PlanarImage upscale(const PlanarImage& input, Progress* progress = nullptr);

  int scale() const;
  const EngineSetup& setup() const;
  // The tile size used for an image of this size (after `auto`), for logs and bench.
  int tile_for(int width, int height) const;
  int tile_pad() const;
  // Highest device memory in use (the whole card) seen after a forward since the last
  // reset, on CUDA builds; 0 where not measured (CPU: see the process RSS instead).
  std::uint64_t peak_device_bytes() const;
  void reset_peak_device_bytes();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

Precision parse_precision(const std::string& text);  // throws Error(Usage)
const char* to_string(Precision p);

}  // namespace yamiro
