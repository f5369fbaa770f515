// The graph IR: what a network computes, independent of the file format it came from.
// Plain data, no LibTorch: it sits in the models layer and is shared (immutable) by every
// engine built from one Model. Frontends (ncnn today) resolve their format's conventions
// before they build it:
//   - shapes are full tensor shapes with the batch first: images are [N,C,H,W], a
//     vector per image [N,K]; axes in attributes count from that batch axis (0 = N);
//   - broadcasting is numpy's (a frontend inserts Reshape where its format differs);
//   - there are no sentinels: "to the end" is kSliceEnd, "computed from the input" is
//     a named attribute (auto_pad), never a magic number.
// Ops and their attributes are listed in graph/ops.hpp (the shape registry).
#pragma once
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "yamiro/model.hpp"

namespace yamiro::graph {

using Shape = std::vector<std::int64_t>;
using Attr = std::variant<std::int64_t, double, std::vector<std::int64_t>, std::vector<double>, std::string>;

inline constexpr std::int64_t kSliceEnd = std::numeric_limits<std::int64_t>::max();

struct Node {
  std::string op;                          // "Conv", "Binary", "Resize", ... (graph/ops.hpp)
  std::string name;                        // the source file's layer name, for messages
  std::vector<std::string> inputs;         // blob names, in the op's order
  std::vector<std::string> outputs;
  std::map<std::string, Attr> attrs;
  std::map<std::string, HostTensor> weights;  // "weight", "bias", "slope", ...
  int source_line = 0;                     // where the layer was in the file (0 = unknown)

  // Typed attribute access. Throw Error(Model) naming the node when an attribute has
  // another type, or (for the versions without a fallback) is missing.
  std::int64_t i(const std::string& key) const;
  std::int64_t i(const std::string& key, std::int64_t fallback) const;
  double f(const std::string& key, double fallback) const;  // ints are read as doubles too
  std::vector<std::int64_t> ints(const std::string& key) const;
  std::vector<std::int64_t> ints(const std::string& key, std::vector<std::int64_t> fallback) const;
  std::vector<double> floats(const std::string& key, std::vector<double> fallback) const;
  std::string s(const std::string& key, const std::string& fallback) const;
  const HostTensor& weight(const std::string& key) const;  // throws Error(Model) when absent
  bool has_weight(const std::string& key) const { return weights.count(key) != 0; }
};

// Nodes are stored in an order where every input is produced before it is read (the
// frontend checks this; validate() checks it again).
struct Graph {
  std::string origin;                      // the file, for error messages
  std::vector<std::string> inputs;         // one image input [N,C,H,W] today
  std::vector<int> input_channels;         // C of each input
  std::vector<std::string> outputs;        // the blobs the network returns (first = image)
  std::vector<Node> nodes;

  // Total weight values (for memory estimates).
  std::int64_t weight_count() const;
};

// Checks the structure: every blob read is made before (no cycles), no blob made twice,
// outputs exist, known ops only. Throws Error(Model) naming `origin` and the node.
void validate(const Graph& g);

[[noreturn]] void fail(const Graph& g, const Node* n, const std::string& why);

}  // namespace yamiro::graph
