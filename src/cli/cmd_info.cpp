// yamiro info: the system profile (human text, or --json).
#include <sys/utsname.h>

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/common.hpp"
#include "yamiro/autotune.hpp"
#include "yamiro/io.hpp"
#include "yamiro/model.hpp"
#include "yamiro/heuristics.hpp"
#include "yamiro/video.hpp"

namespace fs = std::filesystem;

namespace yamiro::cli {

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

namespace {

int run_info(bool json) {
  const nlohmann::json p = system_profile();
  if (json) {
    std::cout << p.dump(1) << std::endl;
    return 0;
  }
  std::cout << "yamiro " << p["yamiro"].get<std::string>() << "\n"
            << "OS:         " << p["os"].value("name", std::string("?")) << ", " << p["os"].value("system", std::string()) << " "
            << p["os"].value("release", std::string()) << " " << p["os"].value("machine", std::string()) << "; cgroup cpu.max '"
            << p["os"]["cgroup_cpu_max"].get<std::string>() << "', memory.max '" << p["os"]["cgroup_memory_max"].get<std::string>() << "'\n"
            << "CPU:        " << p["cpu"]["model"].get<std::string>() << ", " << p["cpu"]["cpus_available"] << " CPUs available\n"
            << "ISA:        ";
  for (const auto& i : p["cpu"]["isa"]) std::cout << i.get<std::string>() << " ";
  std::cout << "\nMemory:     " << p["memory_available_bytes"].get<std::uint64_t>() / (1 << 20) << " MiB available\n"
            << "LibTorch:   " << p["libraries"]["libtorch"].get<std::string>() << ", OpenCV: "
            << p["libraries"]["opencv"].get<std::string>() << ", FFmpeg: " << p["libraries"]["ffmpeg"].get<std::string>() << "\n"
            << "CUDA:       " << (p["devices"]["cuda_built"].get<bool>() ? std::to_string(p["devices"]["cuda_devices"].get<int>()) + " device(s)" : "not in this LibTorch") << "\n";
  for (const auto& d : p["devices"]["cuda"])
    std::cout << "  " << d["name"].get<std::string>() << ", " << d["memory_bytes"].get<std::uint64_t>() / (1 << 20)
              << " MiB, compute capability " << d["compute_capability"].get<std::string>() << "\n";
  std::cout << "MPS:        " << (p["devices"]["mps"].get<bool>() ? "available" : "not available") << "\n"
            << "auto:       " << p["devices"]["auto"].get<std::string>() << ", precision cpu="
            << p["devices"]["precision_auto"]["cpu"].get<std::string>() << " cuda=" << p["devices"]["precision_auto"]["cuda"].get<std::string>() << "\n";
  for (const auto& [device, probe] : p["devices"]["precision_probe"].items()) {
    std::cout << "Precision:  " << device << ": ";
    if (probe["candidates"].empty()) std::cout << "not measured";
    for (const auto& c : probe["candidates"]) {
      std::cout << c["name"].get<std::string>() << " ";
      if (!c["error"].get<std::string>().empty()) std::cout << "failed (" << c["error"].get<std::string>() << ")";
      else std::cout << std::fixed << std::setprecision(2) << c["seconds"].get<double>() * 1e3 << " ms, error "
                     << std::scientific << std::setprecision(1) << c["rel_error"].get<double>() << std::defaultfloat;
      std::cout << "; ";
    }
    const std::string source = probe["source"].get<std::string>(), file = probe["cache_file"].get<std::string>();
    std::cout << "\n            -> " << probe["choice"]["reason"].get<std::string>() << "\n            (";
    if (!probe["candidates"].empty())
      std::cout << probe["shape"].get<std::string>() << "; measured " << probe["measured_at"].get<std::string>() << " in "
                << std::fixed << std::setprecision(2) << probe["probe_seconds"].get<double>() << " s at load "
                << std::setprecision(1) << probe["load_per_cpu"].get<double>() << std::defaultfloat << " per CPU";
    if (source == "cache") std::cout << ", read from " << file;
    else if (!file.empty()) std::cout << ", cached in " << file;
    if (probe.contains("note")) std::cout << (probe["candidates"].empty() ? "" : "; ") << probe["note"].get<std::string>();
    std::cout << ")\n";
  }
  std::cout << "Model dirs: ";
  for (const auto& d : p["model_dirs"]) std::cout << d.get<std::string>() << "  ";
  std::cout << "\nModels:     ";
  for (const auto& m : p["models"]) std::cout << m["name"].get<std::string>() << " (" << m["path"].get<std::string>() << ")  ";
  std::cout << std::endl;
  return 0;
}

}  // namespace

Command register_info(CLI::App& app, const GlobalFlags&) {
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("info", "system profile: CPU, memory, devices, libraries, models");
  cmd->add_flag("--json", *json, "print JSON");
  return {cmd, [json] { return run_info(*json); }};
}

}  // namespace yamiro::cli
