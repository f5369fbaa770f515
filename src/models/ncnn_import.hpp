// ncnn -> graph IR conversion internals (ncnn_graph.cpp drives, ncnn_layers.cpp has one
// converter per ncnn layer type).
#pragma once
#include <functional>
#include <map>
#include <string>

#include "graph/ir.hpp"
#include "models/ncnn.hpp"

namespace yamiro::ncnn {

// What the importer knows about a blob without an input size: ncnn's rank (1 = w,
// 2 = h,w, 3 = c,h,w) and its channel count (w for rank 1; -1 when unknown).
struct BlobInfo {
  int rank = 3;
  std::int64_t channels = -1;
};

class Importer {
 public:
  Importer(graph::Graph& g, const std::string& origin) : g_(g), origin_(origin) {}

  // The IR name of an ncnn blob (Split outputs are aliases of their input).
  const std::string& blob(const std::string& ncnn_name) const;
  const BlobInfo& info(const std::string& ncnn_name) const;
  void alias(const std::string& ncnn_name, const std::string& ir_name);
  // Records an ncnn output blob made by the last node added.
  void made(const std::string& ncnn_name, BlobInfo info);
  std::string temp(const std::string& base);
  graph::Node& add(const Layer& l, const std::string& op, std::vector<std::string> inputs, std::vector<std::string> outputs);
  // `main` writes the layer's output, or a temporary when activation 9= is set; the
  // activation node then writes the output. Returns the IR name `main` must write.
  std::string output_with_activation(const Layer& l, std::int64_t channels, int rank = 3);

  [[noreturn]] void fail(const Layer& l, const std::string& why) const;
  long long p(const Layer& l, int id, long long fallback, long long lo, long long hi) const {
    return l.int_param(id, fallback, lo, hi, origin_);
  }
  // IR axis of an ncnn axis (negative counts from the end) for a blob of `rank`.
  std::int64_t axis(const Layer& l, long long ncnn_axis, int rank) const;
  graph::Graph& graph() { return g_; }
  // Adds what output_with_activation left for after the main node.
  void flush() {
    if (pending_) pending_(), pending_ = nullptr;
  }

 private:
  graph::Graph& g_;
  const std::string& origin_;
  std::map<std::string, std::string> alias_;
  std::map<std::string, BlobInfo> info_;
  int temps_ = 0;
  std::function<void()> pending_;
};

using Converter = void (*)(const Layer&, Importer&);
// The converter of an ncnn layer type, or nullptr.
Converter find_converter(const std::string& type);

}  // namespace yamiro::ncnn
