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
