// Model readers over bytes already in memory (internal): what load_pytorch and
// load_safetensors do once the file is read, for the fuzz targets and tests that have
// no file. `origin` names the source in error messages.
#pragma once
#include <string>
#include <vector>

#include "yamiro/model.hpp"

namespace yamiro {

// See load_ncnn: `param_text` is the .param file's text, `bin` the .bin file's bytes;
// the paths name them in errors. Throws Error(Model). Thread-safe.
Model ncnn_from_bytes(const std::string& param_text, const std::vector<unsigned char>& bin, const std::string& param_path,
                      const std::string& bin_path);

// Like ncnn_from_bytes, but always on the graph executor (arch "Graph"), even for a graph
// a hand-written network recognises (to compare the two). Throws Error(Model). Thread-safe.
Model ncnn_graph_from_bytes(const std::string& param_text, const std::vector<unsigned char>& bin,
                            const std::string& param_path, const std::string& bin_path);

// See load_onnx: the bytes of an .onnx file (tensors with external data are refused: there
// is no folder). Throws Error(Model) prefixed with `origin`. Thread-safe.
Model onnx_from_bytes(const std::vector<unsigned char>& bytes, const std::string& origin);

// See load_pytorch. Throws Error(Model) prefixed with `origin`. Thread-safe.
Model pytorch_from_bytes(const std::vector<unsigned char>& bytes, const std::string& origin);

// See load_safetensors. Throws Error(Model) prefixed with `origin`. Thread-safe.
Model safetensors_from_bytes(const std::vector<unsigned char>& bytes, const std::string& origin);

}  // namespace yamiro
