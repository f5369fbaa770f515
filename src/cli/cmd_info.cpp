// yamiro info: the system profile (human text, or --json).
#include <sys/utsname.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/common.hpp"
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
            << p["devices"]["precision_auto"]["cpu"].get<std::string>() << " cuda=" << p["devices"]["precision_auto"]["cuda"].get<std::string>() << "\n"
            << "Model dirs: ";
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
