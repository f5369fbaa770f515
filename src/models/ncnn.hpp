// ncnn .param/.bin reading (internal). The graph is kept as ncnn describes it; mapping
// it onto an architecture happens in ncnn.cpp's converter.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "yamiro/model.hpp"

namespace yamiro::ncnn {

struct Layer {
  std::string type;
  std::string name;
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  std::map<int, std::vector<double>> params;  // id -> values (scalars have one value)
  std::vector<HostTensor> weights;            // filled from .bin in file order
  double param(int id, double fallback) const;
};

struct Graph {
  std::vector<Layer> layers;
};

// Parses .param text. `origin` names the file in error messages.
// Throws Error(Model) for a wrong magic, counts that do not match, malformed lines,
// unknown layer types or blobs used before they are produced.
Graph parse_param(const std::string& text, const std::string& origin);

// Reads every layer's weights from .bin bytes (in layer order).
// Throws Error(Model) for truncated data, unknown storage tags or trailing bytes.
void read_weights(Graph& graph, const std::vector<unsigned char>& bin, const std::string& origin);

// Maps a parsed graph onto RRDBNet or SRVGGNetCompact weights with basicsr names.
// Throws Error(Model) when the graph is not one of them.
StateDict to_state_dict(const Graph& graph, const std::string& origin);

}  // namespace yamiro::ncnn
