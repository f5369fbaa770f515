// The rows of `models list` (and the Python module's models()): manifest entries, then
// the other model files in the model folders.
#include <algorithm>
#include <filesystem>
#include <set>

#include "yamiro/manifest.hpp"
#include "yamiro/model.hpp"
#include "yamiro/paths.hpp"

namespace fs = std::filesystem;

namespace yamiro {

bool is_model_extension(const std::string& ext) {
  return ext == ".param" || ext == ".pth" || ext == ".pt" || ext == ".safetensors" || ext == ".onnx";
}

std::vector<ModelListing> list_models(const std::vector<ManifestEntry>& entries) {
  std::vector<ModelListing> rows;
  std::set<fs::path> listed;
  for (const auto& e : entries) {
    ModelListing row;
    row.name = e.name;
    row.known = true;
    row.entry = &e;
    const std::string dir = installed_dir(e);
    row.installed = !dir.empty() && !e.files.empty();
    if (row.installed) {
      for (const auto& f : e.files) {
        const fs::path p = fs::path(dir) / f.name;
        listed.insert(fs::weakly_canonical(p));
        row.files.push_back(p.string());
      }
      row.path = row.files.front();
    }
    rows.push_back(std::move(row));
  }
  for (const auto& dir : model_dirs()) {
    std::error_code ec;
    std::vector<fs::path> found;
    for (const auto& f : fs::directory_iterator(dir, ec))
      if (is_model_extension(lower_extension(f.path().string()))) found.push_back(f.path());
    std::sort(found.begin(), found.end());
    for (const auto& f : found) {
      if (!listed.insert(fs::weakly_canonical(f, ec)).second) continue;
      ModelListing row;
      row.name = f.stem().string();
      row.installed = true;
      row.path = f.string();
      row.files = {row.path};
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

}  // namespace yamiro
