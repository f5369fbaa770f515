// ncnn .param/.bin reading (internal). The graph is kept as ncnn describes it; mapping
// it onto an architecture happens in ncnn.cpp's converter.
#pragma once
#include <map>
#include <memory>
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
  std::map<int, std::string> strings;         // id -> string values (newer .param syntax)
  std::vector<HostTensor> weights;            // filled from .bin in file order
  int line = 0;                               // line in the .param file
  double param(int id, double fallback) const;
  // An integer parameter within [lo, hi]. Throws Error(Model) naming `origin`, the line
  // and the layer otherwise (fractions, out of range).
  long long int_param(int id, long long fallback, long long lo, long long hi, const std::string& origin) const;
};

struct Graph {
  std::vector<Layer> layers;
};

// Layer types that convert to the graph IR (ncnn_layers.cpp), sorted.
const std::vector<std::string>& known_layer_types();

// Parses .param text: scalar, array (old "-233NN=n,..." and new "N=a,b,c") and string
// values. `origin` names the file in error messages.
// Throws Error(Model) for a wrong magic, counts that do not match, malformed lines,
// unknown layer types (named, with the line) or blobs used before they are produced.
Graph parse_param(const std::string& text, const std::string& origin);

// Reads every layer's weights from .bin bytes (in layer order, as ncnn's load_model
// does): fp32, fp16, raw fp32 and int8/codebook tags, int8 dequantised with its scales.
// Sizes are checked against the bytes left before anything is allocated.
// Throws Error(Model) for truncated data, unknown storage tags or trailing bytes.
void read_weights(Graph& graph, const std::vector<unsigned char>& bin, const std::string& origin);

// Maps a parsed graph onto RRDBNet or SRVGGNetCompact weights with basicsr names.
// Throws Error(Model) when the graph is not one of them.
StateDict to_state_dict(const Graph& graph, const std::string& origin);

// Converts a parsed graph with its weights to the graph IR: ncnn's 1-D/2-D blobs, axis
// numbering, broadcast rule and -233 sentinels resolved, Split folded away, fused
// activations as their own nodes. Throws Error(Model) naming the file and line for
// layers or parameter values the IR cannot express.
std::shared_ptr<graph::Graph> to_graph_ir(const Graph& graph, const std::string& origin);

// The architecture of a graph run on the executor: arch "Graph" with the IR, and the
// contract from a shape probe (scale, shrink, input multiple, global reductions) and the
// family's fingerprint (border rule, Real-CUGAN x4's added input). Throws Error(Model)
// naming the file when the graph does not convert or is not an image-to-image network.
ArchInfo graph_arch(const Graph& graph, const std::string& origin);

// The family a graph's structure says it is: "Real-CUGAN", "waifu2x" or "" (none known).
std::string fingerprint(const Graph& graph);

}  // namespace yamiro::ncnn
