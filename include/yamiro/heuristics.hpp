// The engine's choices derived from the host: device facts, precision `auto`, tile sizes.
// Torch-free and unit-tested.
// Thread-safety: the tile functions are pure and thread-safe; device_profile() asks
// LibTorch and may be called from any thread.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "yamiro/engine.hpp"
#include "yamiro/system.hpp"

namespace yamiro {

enum class DeviceKind { CPU, CUDA, MPS };

// What LibTorch can reach on this machine.
struct CudaDeviceInfo {
  std::string name;
  std::uint64_t total_bytes = 0;
  int cc_major = 0, cc_minor = 0;  // compute capability
};

struct DeviceProfile {
  std::string torch_version;
  bool cuda_built = false;  // this LibTorch has CUDA support
  int cuda_devices = 0;
  std::vector<CudaDeviceInfo> cuda;  // filled when built against the CUDA runtime
  bool mps = false;
};
DeviceProfile device_profile();

// Precision `auto` is chosen by measurement: see yamiro/autotune.hpp.

// Largest tile (input pixels a side) whose estimated working set for `batch` tiles fits in
// `budget_bytes`; 0 (= whole image) when the whole image fits. Never below 32.
int auto_tile(const ArchInfo& arch, int bytes_per_value, std::uint64_t budget_bytes, int width, int height, int batch);

// On a CPU, tiles that keep activations near the caches run faster than the whole image
// (memory-bound convolutions): the preferred tile side for this architecture, as measured
// on one CPU (see README, "Default tile size"; not measured per machine).
int cpu_preferred_tile(const ArchInfo& arch);

// The tile `--tile auto` resolves to: the memory-budget tile, and on a CPU no larger than
// cpu_preferred_tile(); 0 (whole image) when the image is no larger than that.
int choose_tile(const ArchInfo& arch, DeviceKind device, int bytes_per_value, std::uint64_t budget_bytes, int width,
                int height, int batch);

// Estimated peak bytes of one forward over a tile of w x h input pixels.
std::uint64_t forward_bytes(const ArchInfo& arch, int bytes_per_value, int w, int h);

}  // namespace yamiro
