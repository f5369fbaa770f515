// Facts about the host and the choices derived from them. Torch-free and unit-tested.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "yamiro/engine.hpp"

namespace yamiro {

struct CpuFeatures {
  std::string model;
  bool avx2 = false, avx512f = false, avx512_bf16 = false, amx_bf16 = false, neon = false;
};

// Reads /proc/cpuinfo (Linux); all false where it cannot tell.
CpuFeatures cpu_features();
// Parses the text of /proc/cpuinfo (exposed for tests).
CpuFeatures parse_cpuinfo(const std::string& text);

// CPUs this process may run on (affinity mask and cgroup CPU quota), at least 1.
int available_cpus();
// Physical memory available to the process (cgroup limit if lower), in bytes; 0 if unknown.
std::uint64_t available_memory_bytes();

// Hands the allocator's free pages back to the system (glibc's malloc_trim), at most once
// per `min_interval_s` seconds across all threads; returns whether it ran. A long batch of
// differently sized images otherwise keeps the high-water mark of every freed size class
// resident (measured: +30 MiB over 3000 images with the live heap flat; bench/soak.sh).
// Thread-safe; a no-op without glibc.
bool release_free_memory(double min_interval_s = 1.0);

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
