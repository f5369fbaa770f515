#include <dlfcn.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "yamiro/sampler.hpp"

namespace fs = std::filesystem;

namespace yamiro {
namespace {

bool read_number(const std::string& path, double& out) {
  std::ifstream f(path);
  return static_cast<bool>(f >> out);
}

std::string read_word(const std::string& path) {
  std::ifstream f(path);
  std::string s;
  f >> s;
  return s;
}

}  // namespace

// NVML, loaded at run time so yamiro needs no NVIDIA library to build or start.
struct ThermalSampler::Nvml {
  void* lib = nullptr;
  int (*init)() = nullptr;
  int (*shutdown)() = nullptr;
  int (*count)(unsigned*) = nullptr;
  int (*handle)(unsigned, void**) = nullptr;
  int (*temperature)(void*, int, unsigned*) = nullptr;
  int (*clock)(void*, int, unsigned*) = nullptr;
  unsigned devices = 0;

  static std::unique_ptr<Nvml> load() {
    auto n = std::make_unique<Nvml>();
    n->lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!n->lib) return nullptr;
    n->init = reinterpret_cast<int (*)()>(dlsym(n->lib, "nvmlInit_v2"));
    n->shutdown = reinterpret_cast<int (*)()>(dlsym(n->lib, "nvmlShutdown"));
    n->count = reinterpret_cast<int (*)(unsigned*)>(dlsym(n->lib, "nvmlDeviceGetCount_v2"));
    n->handle = reinterpret_cast<int (*)(unsigned, void**)>(dlsym(n->lib, "nvmlDeviceGetHandleByIndex_v2"));
    n->temperature = reinterpret_cast<int (*)(void*, int, unsigned*)>(dlsym(n->lib, "nvmlDeviceGetTemperature"));
    n->clock = reinterpret_cast<int (*)(void*, int, unsigned*)>(dlsym(n->lib, "nvmlDeviceGetClockInfo"));
    if (!n->init || !n->count || !n->handle || !n->temperature || !n->clock || n->init() != 0 || n->count(&n->devices) != 0) {
      dlclose(n->lib);
      return nullptr;
    }
    return n;
  }
  ~Nvml() {
    if (shutdown) shutdown();
    if (lib) dlclose(lib);
  }
  void read(ThermalSample& s) const {
    for (unsigned i = 0; i < devices; ++i) {
      void* h = nullptr;
      unsigned v = 0;
      if (handle(i, &h) != 0) continue;
      const std::string gpu = "gpu" + std::to_string(i);
      if (temperature(h, 0 /*NVML_TEMPERATURE_GPU*/, &v) == 0) s.celsius[gpu] = v;
      if (clock(h, 1 /*NVML_CLOCK_SM*/, &v) == 0) s.mhz[gpu + ".sm"] = v;
      if (clock(h, 2 /*NVML_CLOCK_MEM*/, &v) == 0) s.mhz[gpu + ".mem"] = v;
    }
  }
};

ThermalSampler::ThermalSampler() {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/sys/class/thermal", ec))
    if (e.path().filename().string().rfind("thermal_zone", 0) == 0 && fs::exists(e.path() / "temp", ec))
      temp_files_.emplace_back(read_word((e.path() / "type").string()) + ":" + e.path().filename().string(), (e.path() / "temp").string());
  for (const auto& e : fs::directory_iterator("/sys/class/hwmon", ec)) {
    const std::string name = read_word((e.path() / "name").string());
    for (const auto& f : fs::directory_iterator(e.path(), ec)) {
      const std::string fn = f.path().filename().string();
      if (fn.rfind("temp", 0) == 0 && fn.size() > 6 && fn.substr(fn.size() - 6) == "_input")
        temp_files_.emplace_back(name + ":" + fn.substr(0, fn.size() - 6), f.path().string());
    }
  }
  for (const auto& e : fs::directory_iterator("/sys/devices/system/cpu", ec))
    if (fs::exists(e.path() / "cpufreq/scaling_cur_freq", ec)) freq_files_.push_back((e.path() / "cpufreq/scaling_cur_freq").string());
  nvml_ = Nvml::load();
}

ThermalSampler::~ThermalSampler() { stop(); }

std::vector<std::string> ThermalSampler::sources() const {
  std::vector<std::string> out;
  for (const auto& [name, path] : temp_files_) out.push_back(name);
  out.push_back(freq_files_.empty() ? "cpu MHz (/proc/cpuinfo)" : "cpufreq");
  if (nvml_) out.push_back("nvml (" + std::to_string(nvml_->devices) + " GPU)");
  return out;
}

ThermalSample ThermalSampler::read_once() const {
  ThermalSample s;
  for (const auto& [name, path] : temp_files_) {
    double milli = 0;
    if (read_number(path, milli)) s.celsius[name] = milli / 1000.0;
  }
  double sum = 0;
  int n = 0;
  for (const auto& path : freq_files_) {
    double khz = 0;
    if (read_number(path, khz)) sum += khz / 1000.0, ++n;
  }
  if (n == 0) {  // no cpufreq (VMs): the kernel's view in /proc/cpuinfo
    std::ifstream f("/proc/cpuinfo");
    std::string line;
    while (std::getline(f, line))
      if (line.rfind("cpu MHz", 0) == 0) {
        const auto c = line.find(':');
        if (c != std::string::npos) sum += std::atof(line.c_str() + c + 1), ++n;
      }
  }
  if (n > 0) s.mhz["cpu"] = sum / n;
  if (nvml_) nvml_->read(s);
  return s;
}

void ThermalSampler::start(std::chrono::milliseconds interval) {
  stop();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    samples_.clear();
  }
  t0_ = std::chrono::steady_clock::now();
  running_ = true;
  thread_ = std::thread([this, interval] {
    while (running_.load()) {
      ThermalSample s = read_once();
      s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
      {
        std::lock_guard<std::mutex> lock(mutex_);
        samples_.push_back(std::move(s));
      }
      // Sleep in short steps so stop() returns quickly.
      const auto until = std::chrono::steady_clock::now() + interval;
      while (running_.load() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
}

void ThermalSampler::stop() {
  running_ = false;
  if (thread_.joinable()) thread_.join();
}

std::vector<ThermalSample> ThermalSampler::samples() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return samples_;
}

}  // namespace yamiro
