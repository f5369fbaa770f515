// Device selection (internal, LibTorch).
#pragma once
#include <ATen/ATen.h>

#include <string>

#include "yamiro/heuristics.hpp"

namespace yamiro {

struct DeviceChoice {
  at::Device device = at::kCPU;
  DeviceKind kind = DeviceKind::CPU;
  std::string name;    // "cpu", "cuda:0", "mps"
  std::string reason;  // why auto picked it
};

// "auto" tries MPS, then CUDA, then CPU. A named device that is missing is an error:
// Error(Device); an unknown name is Error(Usage).
DeviceChoice select_device(const std::string& spec);

// Bytes in use on a CUDA device (the whole card, from the CUDA runtime); 0 for other
// devices or builds without the CUDA runtime.
std::uint64_t device_memory_used(const DeviceChoice& device);

// Caps the CPU kernel caches at 128 entries each: oneDNN's primitive cache
// (ONEDNN_PRIMITIVE_CACHE_CAPACITY, default 1024) and ideep's per-thread cache
// (LRU_CACHE_CAPACITY, default 1024). Both keep compiled kernels per input shape, and a
// folder of images of many sizes grew by about 2.8 MB per new shape in bf16
// (bench/soak.sh); 128 still holds every layer of a tiled image. A value already in the
// environment is kept. Call before the first convolution; both caches read it then.
void limit_kernel_caches();

// "cuda out of memory" and friends, across LibTorch versions.
bool is_out_of_memory(const std::exception& e);

}  // namespace yamiro
