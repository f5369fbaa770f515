// Model names and files: where weights are looked for and how -m is resolved.
#include <cstdlib>
#include <filesystem>

#include "yamiro/error.hpp"
#include "yamiro/model.hpp"
#include "yamiro/paths.hpp"

namespace fs = std::filesystem;

namespace yamiro {
namespace {

std::string join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : sep) + s;
  return out;
}

Model load_file(const fs::path& path, const std::string& name, bool trust_code) {
  const std::string ext = lower_extension(path.string());
  if (ext == ".param" || ext == ".bin") {
    fs::path param = path, bin = path;
    param.replace_extension(".param");
    bin.replace_extension(".bin");
    for (const auto& p : {param, bin})
      if (!fs::is_regular_file(p)) throw Error(ErrorKind::Model, p.string() + ": missing (an ncnn model needs .param and .bin side by side)");
    Model m = load_ncnn(param.string(), bin.string());
    m.name = name;
    return m;
  }
  // Zip or legacy is told from the content inside load_pytorch, not from the name.
  if (ext == ".pth" || ext == ".pt") {
    if (is_torchscript_file(path.string())) {
      if (!trust_code)
        throw Error(ErrorKind::Model, path.string() + ": is a TorchScript module, which is code that runs as is; "
                                                      "pass --trust-model if you trust its source");
      Model m;
      m.name = name;
      m.path = path.string();
      m.format = "torchscript";
      m.info = probe_torchscript(path.string());
      return m;
    }
    Model m = load_pytorch(path.string());
    m.name = name;
    return m;
  }
  if (ext == ".safetensors") {
    Model m = load_safetensors(path.string());
    m.name = name;
    return m;
  }
  if (ext == ".onnx") {
    Model m = load_onnx(path.string());
    m.name = name;
    return m;
  }
  throw Error(ErrorKind::Model, path.string() + ": unsupported model format '" + ext +
                                    "' (supported: ncnn .param/.bin, ONNX .onnx, PyTorch .pth/.pt, .safetensors)");
}

}  // namespace

std::vector<std::string> builtin_model_names() { return {"realesrgan-x4fast", "realesrgan-x4plus"}; }

std::vector<std::string> model_dirs() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("YAMIRO_MODELS"); env && *env) dirs.emplace_back(env);
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    dirs.push_back((fs::path(xdg) / "yamiro" / "models").string());
  else if (const char* home = std::getenv("HOME"); home && *home)
    dirs.push_back((fs::path(home) / ".cache" / "yamiro" / "models").string());
  dirs.emplace_back("models");
  dirs.emplace_back(YAMIRO_SOURCE_MODELS_DIR);
#ifdef YAMIRO_INSTALL_MODELS_DIR
  dirs.emplace_back(YAMIRO_INSTALL_MODELS_DIR);  // the prefix's share/yamiro/models
#endif
  return dirs;
}

Model load_model(const std::string& name_or_path, bool trust_code) {
  const fs::path p(name_or_path);
  std::error_code ec;
  if (fs::is_regular_file(p, ec)) return load_file(p, p.stem().string(), trust_code);
  const bool looks_like_path = name_or_path.find('/') != std::string::npos || p.has_extension();
  if (looks_like_path) throw Error(ErrorKind::Model, name_or_path + ": model file not found");
  for (const auto& dir : model_dirs())
    for (const char* ext : {".param", ".safetensors", ".pth", ".pt", ".onnx"}) {
      const fs::path file = fs::path(dir) / (name_or_path + ext);
      if (fs::is_regular_file(file, ec)) return load_file(file, name_or_path, trust_code);
    }
  throw Error(ErrorKind::Model, "model '" + name_or_path + "' not found in " + join(model_dirs(), ", ") +
                                    " (built-in models: " + join(builtin_model_names(), ", ") +
                                    "; run scripts/fetch-models.sh, or pass a model file's path)");
}

}  // namespace yamiro
