// Background sampling of temperatures and clocks during a sustained run.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace yamiro {

// Resident memory of this process from /proc/self/status (0 where unavailable).
std::uint64_t current_rss_bytes();
std::uint64_t peak_rss_bytes();
// Resets the kernel's peak-RSS mark (/proc/self/clear_refs); false where not allowed.
bool reset_peak_rss();

struct ThermalSample {
  double seconds = 0;                      // since start()
  std::map<std::string, double> celsius;   // sensor name -> temperature
  std::map<std::string, double> mhz;       // clock name -> MHz ("cpu", "gpu0.sm", ...)
};

// Reads Linux thermal zones and hwmon sensors, CPU frequency (cpufreq, else
// /proc/cpuinfo) and, when the driver's libnvidia-ml.so.1 can be loaded, NVIDIA GPU
// temperatures and clocks. One background thread between start() and stop().
// Thread-safe: samples() may be called while running. The destructor stops the thread.
class ThermalSampler {
 public:
  ThermalSampler();
  ~ThermalSampler();
  ThermalSampler(const ThermalSampler&) = delete;
  ThermalSampler& operator=(const ThermalSampler&) = delete;

  void start(std::chrono::milliseconds interval);
  void stop();  // joins the thread; idempotent
  bool running() const { return running_.load(); }
  std::vector<ThermalSample> samples() const;
  // What the platform offers: sensor names found at construction ("none" entries absent).
  std::vector<std::string> sources() const;
  ThermalSample read_once() const;

 private:
  struct Nvml;
  std::vector<std::pair<std::string, std::string>> temp_files_;  // name, path
  std::vector<std::string> freq_files_;
  std::unique_ptr<Nvml> nvml_;
  std::atomic<bool> running_{false};
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<ThermalSample> samples_;
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace yamiro
