// Named heuristics of the engine: precision and tile size choice (no LibTorch).
#include <algorithm>
#include <array>
#include <cmath>
#include <sstream>
#include <string>

#include "yamiro/error.hpp"
#include "yamiro/heuristics.hpp"

namespace yamiro {

Precision parse_precision(const std::string& text) {
  if (text == "auto") return Precision::Auto;
  if (text == "fp32") return Precision::FP32;
  if (text == "bf16") return Precision::BF16;
  if (text == "fp16") return Precision::FP16;
  throw Error(ErrorKind::Usage, "unknown precision '" + text + "' (valid: auto, fp32, bf16, fp16)");
}

const char* to_string(Precision p) {
  switch (p) {
    case Precision::Auto: return "auto";
    case Precision::FP32: return "fp32";
    case Precision::BF16: return "bf16";
    case Precision::FP16: return "fp16";
  }
  return "?";
}

std::uint64_t forward_bytes(const ArchInfo& arch, int bytes_per_value, int w, int h) {
  const std::uint64_t px = static_cast<std::uint64_t>(w) * static_cast<std::uint64_t>(h);
  const auto hp = [&](const char* k) { return static_cast<std::uint64_t>(arch.hyper.count(k) ? arch.hyper.at(k) : 0); };
  const std::uint64_t s2 = static_cast<std::uint64_t>(arch.scale) * arch.scale;
  std::uint64_t values_per_px = 0;
  if (arch.live_values_per_px > 0) {
    values_per_px = static_cast<std::uint64_t>(std::ceil(arch.live_values_per_px));  // from the detector
  } else if (arch.arch == "RRDBNet") {
    // Input resolution: trunk, block input/output and the dense buffer (nf + 4 gc) with
    // a conv output; after upsampling: three nf-channel maps at 4x and 16x the pixels.
    const std::uint64_t nf = hp("num_feat"), gc = hp("num_grow_ch");
    values_per_px = (4 * nf + 5 * gc) + 3 * nf * 4 + 3 * nf * 16;
  } else {
    // Two nf-channel maps live at a time, then the shuffled output and the upsampled base.
    values_per_px = 3 * hp("num_feat") + 3 * 3 * s2;
  }
  return px * values_per_px * static_cast<std::uint64_t>(bytes_per_value);
}

int auto_tile(const ArchInfo& arch, int bytes_per_value, std::uint64_t budget_bytes, int width, int height, int batch) {
  const std::uint64_t b = static_cast<std::uint64_t>(std::max(1, batch));
  if (forward_bytes(arch, bytes_per_value, width, height) <= budget_bytes) return 0;
  static constexpr std::array<int, 9> kSizes = {1024, 768, 512, 384, 256, 192, 128, 96, 64};
  for (int t : kSizes)
    if (b * forward_bytes(arch, bytes_per_value, t, t) <= budget_bytes) return t;
  return 32;
}

}  // namespace yamiro

namespace yamiro {

int cpu_preferred_tile(const ArchInfo& arch) {
  // Measured on a 2-core AVX512/AMX Xeon, 512x512 input, bf16 (bench --latency --tile N):
  // RRDBNet x4plus: tile 96 13.4 s, 128 11.4 s, 192 12.7 s, 256 18.5 s, whole 18.2 s;
  // SRVGGNetCompact x4fast: tile 128 0.69 s, 256 0.68 s, whole image 1.34 s.
  // Other architectures: the detector's cpu_tile (SwinIR: the RRDBNet figure, as attention
  // cost per pixel does not grow with the tile; rounded to the window by the engine).
  // Not measured per machine, unlike precision auto: the effect is the whole network's
  // working set, which one convolution does not show, and timing the network at several
  // tile sizes takes seconds (x4fast) to minutes (x4plus) per model on 2 cores.
  if (arch.cpu_tile > 0) return arch.cpu_tile;
  return arch.arch == "RRDBNet" ? 128 : 256;
}

int choose_tile(const ArchInfo& arch, DeviceKind device, int bytes_per_value, std::uint64_t budget_bytes, int width,
                int height, int batch) {
  int t = auto_tile(arch, bytes_per_value, budget_bytes, width, height, batch);
  // Global layers (SE means) see only their tile: such graphs run whole within the budget.
  if (device != DeviceKind::CPU || arch.global_reduction) return t;
  const int pref = cpu_preferred_tile(arch);
  if (width <= pref && height <= pref) return t;
  return t == 0 ? pref : std::min(t, pref);
}

}  // namespace yamiro
