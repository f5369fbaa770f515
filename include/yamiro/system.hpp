// Facts about the host: CPU model and ISA, CPUs and memory available to the process.
// Torch-free and unit-tested; the choices made from them are in heuristics.hpp.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

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

}  // namespace yamiro
