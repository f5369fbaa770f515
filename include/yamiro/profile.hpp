// The system profile: what `yamiro info --json` prints (OS and cgroup limits, CPU and ISA,
// memory, library versions, devices and the auto choices, model folders and the models in
// them). Its own layer, above video: it reports on every layer below it.
#pragma once
#include <nlohmann/json.hpp>

namespace yamiro {

// Returns the profile as a JSON object (keys: yamiro, os, cpu, memory_available_bytes,
// libraries, devices, model_dirs, models). Reads /proc, /sys and the model folders and asks
// LibTorch about its devices; throws only std::bad_alloc. Thread-safe.
nlohmann::json system_profile();

}  // namespace yamiro
