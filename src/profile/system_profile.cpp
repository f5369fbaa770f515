// The system profile of `yamiro info --json`, also embedded in bench results, serve's
// /api/info and the Python module's yamiro.info().
#include "yamiro/profile.hpp"

#include <sys/utsname.h>

#include <filesystem>
#include <fstream>

#include "yamiro/autotune.hpp"
#include "yamiro/heuristics.hpp"
#include "yamiro/io.hpp"
#include "yamiro/model.hpp"
#include "yamiro/system.hpp"
#include "yamiro/video.hpp"

namespace fs = std::filesystem;

namespace yamiro {

namespace {

std::string first_line_of(const char* path) {
  std::ifstream f(path);
  std::string line;
  std::getline(f, line);
  return line.empty() ? "none" : line;
}

nlohmann::json os_json() {
  struct utsname u {};
  nlohmann::json os = {{"cgroup_cpu_max", first_line_of("/sys/fs/cgroup/cpu.max")},
                       {"cgroup_memory_max", first_line_of("/sys/fs/cgroup/memory.max")}};
  if (uname(&u) == 0) os.update({{"system", u.sysname}, {"release", u.release}, {"machine", u.machine}});
  std::ifstream f("/etc/os-release");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("PRETTY_NAME=", 0) == 0) os["name"] = line.substr(13, line.size() - 14);
  return os;
}

// Precision auto on one device: the measured figures (cached per machine) and the choice.
nlohmann::json precision_probe(const std::string& device, DeviceKind kind) {
  const ProbeResult r = auto_probe(device, 0);
  AutoChoice c = choose_auto(r.candidates, kind, winograd_env_allows());
  if (r.source == "disabled") c.reason = "not measured (" + r.note + "): " + std::string(to_string(c.precision));
  return nlohmann::json::parse(probe_json(r, c));
}

}  // namespace

nlohmann::json system_profile() {
  const CpuFeatures cpu = cpu_features();
  const DeviceProfile dev = device_profile();
  nlohmann::json isa = nlohmann::json::array();
  if (cpu.avx2) isa.push_back("AVX2");
  if (cpu.avx512f) isa.push_back("AVX-512");
  if (cpu.avx512_bf16) isa.push_back("AVX512-BF16");
  if (cpu.amx_bf16) isa.push_back("AMX-BF16");
  if (cpu.neon) isa.push_back("NEON");
  nlohmann::json models = nlohmann::json::array();
  for (const auto& dir : model_dirs()) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.path().extension() == ".param") models.push_back({{"name", e.path().stem().string()}, {"path", e.path().string()}});
  }
  nlohmann::json cuda = nlohmann::json::array();
  for (const auto& d : dev.cuda)
    cuda.push_back({{"name", d.name}, {"memory_bytes", d.total_bytes},
                    {"compute_capability", std::to_string(d.cc_major) + "." + std::to_string(d.cc_minor)}});
  const DeviceKind best = dev.mps ? DeviceKind::MPS : dev.cuda_devices > 0 ? DeviceKind::CUDA : DeviceKind::CPU;
  const std::string best_name = best == DeviceKind::MPS ? "mps" : best == DeviceKind::CUDA ? "cuda:0" : "cpu";
  nlohmann::json probes = {{"cpu", precision_probe("cpu", DeviceKind::CPU)}};
  if (best != DeviceKind::CPU) probes[best_name] = precision_probe(best_name, best);
  const auto choice_text = [](const nlohmann::json& p) {
    const auto& c = p["choice"];
    return c["precision"].get<std::string>() + (c["winograd"].get<bool>() ? "-winograd" : "");
  };
  return {
      {"yamiro", YAMIRO_VERSION},
      {"os", os_json()},
      {"cpu", {{"model", cpu.model}, {"cpus_available", available_cpus()}, {"isa", isa}}},
      {"memory_available_bytes", available_memory_bytes()},
      {"libraries", {{"libtorch", dev.torch_version},
                     {"opencv", image_io_available() ? image_library_version() : "not built"},
                     {"ffmpeg", video_available() ? video_library_version() : "not built"}}},
      {"devices",
       {{"cuda_built", dev.cuda_built}, {"cuda_devices", dev.cuda_devices}, {"cuda", cuda}, {"mps", dev.mps},
        {"auto", best_name},
        // What precision auto runs: measured on the CPU and on the auto device; "cuda" is
        // the unmeasured fallback when there is no CUDA device to measure.
        {"precision_auto", {{"cpu", choice_text(probes["cpu"])},
                            {"cuda", best == DeviceKind::CUDA ? choice_text(probes[best_name])
                                                              : std::string(to_string(fallback_precision(DeviceKind::CUDA)))}}},
        {"precision_probe", probes}}},
      {"model_dirs", model_dirs()},
      {"models", models},
  };
}

}  // namespace yamiro
