// Device selection (internal, LibTorch).
#pragma once
#include <ATen/ATen.h>

#include <string>

#include "yamiro/system.hpp"

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

// "cuda out of memory" and friends, across LibTorch versions.
bool is_out_of_memory(const std::exception& e);

}  // namespace yamiro
