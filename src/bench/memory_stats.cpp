#include <fstream>
#include <sstream>
#include <string>

#include "yamiro/sampler.hpp"

namespace yamiro {
namespace {

std::uint64_t status_kb(const char* key) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(key, 0) == 0) {
      std::istringstream ss(line.substr(std::string(key).size()));
      std::uint64_t kb = 0;
      ss >> kb;
      return kb * 1024;
    }
  return 0;
}

}  // namespace

std::uint64_t current_rss_bytes() { return status_kb("VmRSS:"); }
std::uint64_t peak_rss_bytes() { return status_kb("VmHWM:"); }

bool reset_peak_rss() {
  std::ofstream f("/proc/self/clear_refs");
  f << "5";
  return static_cast<bool>(f.flush());
}

}  // namespace yamiro
