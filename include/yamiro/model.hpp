// Model files: reading weights, detecting the architecture, resolving names.
// Nothing here depends on LibTorch: weights are plain float arrays until the engine
// turns them into device tensors.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace yamiro {

// One weight tensor on the host, fp32, row-major.
struct HostTensor {
  std::vector<std::int64_t> shape;
  std::vector<float> values;
  std::int64_t numel() const;
};

// Weights by basicsr parameter name (e.g. "conv_first.weight", "body.3.weight").
using StateDict = std::map<std::string, HostTensor>;

// What the weights say the network is. Hyper-parameters come from tensor shapes.
struct ArchInfo {
  std::string arch;                       // "RRDBNet" or "SRVGGNetCompact"
  int scale = 0;                          // output / input size
  int in_channels = 3;
  int out_channels = 3;
  std::map<std::string, int> hyper;       // num_feat, num_block, num_grow_ch, num_conv, ...
  std::string summary() const;            // "RRDBNet x4 (num_block=23, num_feat=64, num_grow_ch=32)"
};

// A loaded model: its weights and what they are. Cheap to move, immutable after load.
struct Model {
  std::string name;    // manifest name or file stem
  std::string path;    // the file it came from (.param for ncnn)
  std::string format;  // "ncnn"
  ArchInfo info;
  StateDict weights;
};

// Reads an ncnn model (.param text + .bin weights beside it, fp16 or fp32 weight tags)
// and maps its graph onto a known architecture.
// Throws Error(Model) naming the file and the reason for anything malformed:
// wrong magic, counts that do not match, truncated .bin, unknown layer, unknown graph.
Model load_ncnn(const std::string& param_path, const std::string& bin_path);

// Detects the architecture and its hyper-parameters from basicsr-style key names and
// shapes. Throws Error(Model) listing the keys it found when the layout is unknown.
ArchInfo detect_architecture(const StateDict& weights);

// Resolves -m NAME|PATH to a file and loads it. Names are looked up in the model
// directories (see model_dirs()). Throws Error(Model) listing known names when not found.
Model load_model(const std::string& name_or_path);

// Where weights are searched, in order: $YAMIRO_MODELS, $XDG_CACHE_HOME/yamiro/models
// (else ~/.cache/yamiro/models), ./models, the source tree's models/.
std::vector<std::string> model_dirs();

// The names of the built-in models (from the manifest).
std::vector<std::string> builtin_model_names();
inline constexpr const char* kDefaultModel = "realesrgan-x4fast";

}  // namespace yamiro
