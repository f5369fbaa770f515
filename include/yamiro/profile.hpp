// The system profile: what `yamiro info --json` prints (OS and cgroup limits, CPU and ISA,
// memory, library versions, devices and the auto choices, model folders and the models in
// them). Its own layer, above video: it reports on every layer below it.
#pragma once
#include <nlohmann/json.hpp>

namespace yamiro {

// Returns the profile as a JSON object (keys: yamiro, os, cpu, memory_available_bytes,
// libraries, devices, model_dirs, models). Reads /proc, /sys and the model folders, asks
// LibTorch about its devices and includes precision auto's figures (auto_probe(): from the
// cache, else measured once, which takes about a second and sets LibTorch's thread count).
// Throws what auto_probe() throws (Error(Device)) and std::bad_alloc. Thread-safe.
nlohmann::json system_profile();

}  // namespace yamiro
