// Model files: reading weights, detecting the architecture, resolving names.
// Nothing here depends on LibTorch: weights are plain float arrays until the engine
// turns them into device tensors.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace yamiro {

namespace graph {
struct Graph;  // the graph IR (src/graph/ir.hpp): plain data, no LibTorch
}

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
  std::string arch;                       // "RRDBNet", "SRVGGNetCompact" or "SwinIR"
  int scale = 0;                          // output / input size
  int in_channels = 3;                    // what the network takes and gives: 1 (gray), 3 (RGB), 4 (RGBA)
  int out_channels = 3;
  std::map<std::string, int> hyper;       // num_feat, num_block, num_grow_ch, num_conv, ...
  std::map<std::string, std::string> options;  // non-integer settings: SwinIR upsampler, depths, mlp_ratio, ...
  int tile_multiple = 1;                  // tiles run best at multiples of this (SwinIR: the window size)
  std::string module_path;                // arch "TorchScript": the module file (code, run as is)
  // Arch "Graph": the network as a graph IR run op by op (shared and immutable; the weights
  // are in it, Model::weights stays empty). The rest is its contract, from a shape probe.
  std::shared_ptr<const graph::Graph> graph;
  int shrink = 0;                         // input pixels per side that valid convolutions eat; the
                                          // network pads them back itself (so output = scale x input)
  int input_multiple = 1;                 // the graph's input side must be input_remainder mod this
  int input_remainder = 0;
  int align = 1;                          // the graph's largest inner stride: tiles start on multiples of it
  std::string border = "zero";            // what that padding puts past the image: zero|reflect|replicate
  bool global_reduction = false;          // global pooling (SE blocks): a tile sees only its own mean
  bool add_nearest_input = false;         // the nearest-upscaled input is added to the output (Real-CUGAN x4)
  // What the engine and bench need to know of an architecture, set by its detector (the one
  // file that knows it), so no other layer switches on `arch`:
  double flops_per_px = 0;                // FLOPs (2 per multiply-add) per input pixel; 0 = not counted
  double live_values_per_px = 0;          // peak live activation values per input pixel (memory estimate);
                                          // 0 = a generic guess from num_feat and the scale
  int cpu_tile = 0;                       // preferred tile on a CPU (0 = 256)
  bool fp16_unsafe = false;               // the reference overflows in fp16 (attention, GroupNorm): precision
                                          // auto never picks fp16 for it; an explicit --precision fp16 warns
  // "RRDBNet x4 (num_block=23, num_feat=64, num_grow_ch=32)"; options follow the integers.
  std::string summary() const;
};

// A loaded model: its weights and what they are. Cheap to move, immutable after load.
struct Model {
  std::string name;    // manifest name or file stem
  std::string path;    // the file it came from (.param for ncnn)
  std::string format;  // "ncnn", "onnx", "pytorch" or "safetensors"
  ArchInfo info;
  StateDict weights;
};

// Reads an ncnn model (.param text + .bin weights beside it; fp32, fp16, raw, int8 and
// codebook weight tags). A graph a hand-written network recognises (RRDBNet,
// SRVGGNetCompact) maps onto it; any other runs on the graph executor (arch "Graph",
// its contract from a shape probe). Throws Error(Model) naming the file and the reason
// for anything malformed: wrong magic, counts that do not match, truncated .bin, unknown
// layer type (with its line), blobs read before they are made, shapes that cannot be
// inferred, parameters out of range. Thread-safe.
Model load_ncnn(const std::string& param_path, const std::string& bin_path);

// Reads an ONNX model (.onnx; opsets 11 to 18) and converts it to the graph IR, run on the
// graph executor (arch "Graph", its contract from a shape probe, as for ncnn graphs).
// Initializers may be fp32, fp16, bf16, fp64 or integers (fp16 weights become fp32 on load;
// an fp16 model runs in the engine's precision), inline or in external data files, which
// must lie in the model's folder. The protobuf is read by yamiro's own bounded reader (no
// libprotobuf). Throws Error(Model) naming the file for anything malformed (truncated wire
// data, lengths past the end, tensors that do not match their dims, sizes over the caps,
// external data outside the folder) and naming the op and node for an unsupported op
// (If/Loop included) or attribute. Thread-safe.
Model load_onnx(const std::string& path);

// Reads a PyTorch checkpoint (.pth/.pt): the zip layout of torch.save >= 1.6 or the
// legacy pre-1.6 one, told apart by content. Pickles go through a restricted unpickler
// that runs no code and accepts only the globals a state dict needs. The state dict
// is taken from "params_ema", else "params", else the top-level dict; tensors of any
// float storage type (and strided views) become fp32. Names go through
// to_basicsr_names. Throws Error(Model) naming the file for anything refused or
// malformed: other globals (named in the message), truncated or corrupt data, storages
// smaller than their tensors, TorchScript archives, unknown layouts. Thread-safe.
Model load_pytorch(const std::string& path);

// Reads a .safetensors file (F32, F16, BF16 or F64 tensors, I64/I32 buffers as floats;
// "__metadata__" ignored).
// Names go through to_basicsr_names. Throws Error(Model) naming the file for a header
// length beyond the file (or over 100 MB), invalid JSON, unsupported dtypes, offsets
// outside the data, overlapping tensors, shapes that do not match their byte size, or
// an unknown layout. Thread-safe.
Model load_safetensors(const std::string& path);

// Renames foreign key layouts to basicsr names: strips "module." / "netG." prefixes, maps
// 2018 ESRGAN names (model.0, model.1.sub.N.RDBk.convj.0, model.1.sub.<nb>, then
// model.3k = conv_up<k> for k = 1..n, model.3n+2 = conv_hr, model.3n+4 = conv_last, n the
// number of x2 upsamplers, read from the last index) and 2019 ESRGAN / BSRGAN names
// (RRDB_trunk.N.RDBk.convj, trunk_conv, upconv<k>, HRconv). Other names are kept. Throws
// Error(Model) when two tensors end up with the same name, or when a 2018 layout's indices
// do not fit that pattern (naming the missing model.N).
StateDict to_basicsr_names(StateDict weights);

// Detects the architecture and its hyper-parameters from basicsr-style key names and
// shapes. Throws Error(Model) listing the keys it found when the layout is unknown.
ArchInfo detect_architecture(const StateDict& weights);

// Resolves -m NAME|PATH to a file and loads it. Names are looked up in the model
// directories (see model_dirs()). Thread-safe, as are load_ncnn, to_basicsr_names,
// detect_architecture and model_dirs (no shared state). Throws Error(Model) listing known
// names when not found. A TorchScript module is code, so it is refused unless `trust_code`
// (--trust-model); its scale is found by running a small probe input through it.
Model load_model(const std::string& name_or_path, bool trust_code = false);

// True when a .pt/.pth zip archive is a TorchScript module rather than a state dict.
bool is_torchscript_file(const std::string& path);
// Loads a TorchScript module once to learn what it does (arch "TorchScript", scale from a
// 1x3x16x16 probe). Throws Error(Model) when it cannot be run or is not an RGB upscaler.
ArchInfo probe_torchscript(const std::string& path);

// Where weights are searched, in order: $YAMIRO_MODELS, $XDG_CACHE_HOME/yamiro/models
// (else ~/.cache/yamiro/models), ./models, the source tree's models/,
// then the installed share/yamiro/models (an installed build). Thread-safe (reads the environment).
std::vector<std::string> model_dirs();

// The names of the built-in models (from the manifest).
std::vector<std::string> builtin_model_names();
inline constexpr const char* kDefaultModel = "realesrgan-x4fast";

}  // namespace yamiro
