#include "engine/device.hpp"

#include <ATen/Context.h>
#include <ATen/detail/CUDAHooksInterface.h>

#include <torch/version.h>

#include <cstdlib>

#ifdef YAMIRO_HAVE_CUDART
#include <cuda_runtime_api.h>
#endif

#include "yamiro/error.hpp"

namespace yamiro {

void limit_kernel_caches() {
  ::setenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "128", 0);
  ::setenv("LRU_CACHE_CAPACITY", "128", 0);
}

namespace {

int cuda_count() { return at::hasCUDA() ? at::detail::getCUDAHooks().getNumGPUs() : 0; }

DeviceChoice cuda(int index, std::string reason) {
  return {at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index)), DeviceKind::CUDA,
          "cuda:" + std::to_string(index), std::move(reason)};
}

}  // namespace

DeviceChoice select_device(const std::string& spec) {
  if (spec == "auto") {
    if (at::hasMPS()) return {at::Device(at::kMPS), DeviceKind::MPS, "mps", "auto: Apple MPS available"};
    if (cuda_count() > 0) return cuda(0, "auto: " + std::to_string(cuda_count()) + " CUDA device(s), no MPS");
    return {at::Device(at::kCPU), DeviceKind::CPU, "cpu", "auto: no MPS, no CUDA device"};
  }
  if (spec == "cpu") return {at::Device(at::kCPU), DeviceKind::CPU, "cpu", "requested"};
  if (spec == "mps") {
    if (!at::hasMPS()) throw Error(ErrorKind::Device, "device 'mps' requested but Apple MPS is not available in this build/machine");
    return {at::Device(at::kMPS), DeviceKind::MPS, "mps", "requested"};
  }
  if (spec.rfind("cuda", 0) == 0) {
    int index = 0;
    if (spec.size() > 4) {
      if (spec[4] != ':' || spec.size() == 5 || spec.find_first_not_of("0123456789", 5) != std::string::npos || spec.size() > 8)
        throw Error(ErrorKind::Usage, "bad device '" + spec + "' (valid: auto, cpu, cuda, cuda:N, mps)");
      index = std::stoi(spec.substr(5));
    }
    const int n = cuda_count();
    if (n == 0) throw Error(ErrorKind::Device, "device '" + spec + "' requested but no CUDA device is available (this LibTorch " +
                                                   std::string(at::hasCUDA() ? "has" : "lacks") + " CUDA support)");
    if (index >= n) throw Error(ErrorKind::Device, "device '" + spec + "' requested but only " + std::to_string(n) + " CUDA device(s) exist");
    return cuda(index, "requested");
  }
  throw Error(ErrorKind::Usage, "unknown device '" + spec + "' (valid: auto, cpu, cuda, cuda:N, mps)");
}

DeviceProfile device_profile() {
  DeviceProfile p;
  p.torch_version = TORCH_VERSION;
  p.cuda_built = at::hasCUDA();
  p.cuda_devices = cuda_count();
  p.mps = at::hasMPS();
#ifdef YAMIRO_HAVE_CUDART
  for (int i = 0; i < p.cuda_devices; ++i) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) continue;
    p.cuda.push_back({prop.name, static_cast<std::uint64_t>(prop.totalGlobalMem), prop.major, prop.minor});
  }
#endif
  return p;
}

std::uint64_t device_memory_used(const DeviceChoice& device) {
#ifdef YAMIRO_HAVE_CUDART
  if (device.kind != DeviceKind::CUDA) return 0;
  int previous = 0;
  if (cudaGetDevice(&previous) != cudaSuccess) return 0;
  std::size_t free_bytes = 0, total = 0;
  const bool ok = cudaSetDevice(device.device.index()) == cudaSuccess && cudaMemGetInfo(&free_bytes, &total) == cudaSuccess;
  cudaSetDevice(previous);
  return ok ? static_cast<std::uint64_t>(total - free_bytes) : 0;
#else
  (void)device;
  return 0;
#endif
}

bool is_out_of_memory(const std::exception& e) {
  if (dynamic_cast<const c10::OutOfMemoryError*>(&e)) return true;
  const std::string what = e.what();
  return what.find("out of memory") != std::string::npos || what.find("Out of memory") != std::string::npos;
}

}  // namespace yamiro
