#include <sched.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "yamiro/system.hpp"

namespace yamiro {
namespace {

std::string read_text(const char* path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

CpuFeatures parse_cpuinfo(const std::string& text) {
  CpuFeatures cpu;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    key.erase(key.find_last_not_of(" \t") + 1);
    const std::string value = colon + 2 <= line.size() ? line.substr(colon + 2) : "";
    if (key == "model name" && cpu.model.empty()) cpu.model = value;
    if (key == "flags" || key == "Features") {
      std::istringstream fs(value);
      std::set<std::string> flags;
      for (std::string f; fs >> f;) flags.insert(f);
      cpu.avx2 = flags.count("avx2");
      cpu.avx512f = flags.count("avx512f");
      cpu.avx512_bf16 = flags.count("avx512_bf16");
      cpu.amx_bf16 = flags.count("amx_bf16");
      cpu.neon = flags.count("asimd") || flags.count("neon");
      if (key == "flags") break;  // x86: the first processor is enough
    }
  }
  return cpu;
}

CpuFeatures cpu_features() { return parse_cpuinfo(read_text("/proc/cpuinfo")); }

int available_cpus() {
  int n = 0;
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) n = CPU_COUNT(&set);
  if (n <= 0) n = static_cast<int>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
  // cgroup v2 quota: "max 100000" or "200000 100000".
  std::istringstream q(read_text("/sys/fs/cgroup/cpu.max"));
  std::string quota;
  double period = 0;
  if (q >> quota >> period && quota != "max" && period > 0) {
    const int limit = static_cast<int>(std::ceil(std::stod(quota) / period));
    if (limit > 0) n = std::min(n, limit);
  }
  return std::max(1, n);
}

std::uint64_t available_memory_bytes() {
  std::uint64_t total = 0;
  std::istringstream mi(read_text("/proc/meminfo"));
  std::string key;
  std::uint64_t kb = 0;
  std::string unit;
  while (mi >> key >> kb >> unit) {
    if (key == "MemAvailable:") { total = kb * 1024; break; }
  }
  std::istringstream cg(read_text("/sys/fs/cgroup/memory.max"));
  std::string limit;
  if (cg >> limit && limit != "max") {
    try {
      total = total ? std::min<std::uint64_t>(total, std::stoull(limit)) : std::stoull(limit);
    } catch (const std::exception&) {
    }
  }
  return total;
}

bool release_free_memory(double min_interval_s) {
#if defined(__GLIBC__)
  static std::atomic<std::int64_t> last_ns{0};
  const std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::steady_clock::now().time_since_epoch()).count();
  std::int64_t last = last_ns.load();
  if (last != 0 && now - last < static_cast<std::int64_t>(min_interval_s * 1e9)) return false;
  if (!last_ns.compare_exchange_strong(last, now)) return false;  // another thread just did
  ::malloc_trim(0);
  return true;
#else
  (void)min_interval_s;
  return false;
#endif
}

}  // namespace yamiro
