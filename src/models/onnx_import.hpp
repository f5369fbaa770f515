// ONNX -> graph IR conversion internals (onnx_graph.cpp drives, onnx_ops.cpp has one
// converter per ONNX op type; Pad and Resize are in onnx_ops_resample.cpp).
#pragma once
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "graph/ir.hpp"
#include "models/onnx_proto.hpp"

namespace yamiro::onnx {

class Builder {
 public:
  Builder(graph::Graph& g, const Model& m, const std::string& origin);

  std::int64_t opset() const { return opset_; }
  // Whether input k is given (optional inputs may be absent or "").
  bool has(const Node& n, std::size_t k) const { return k < n.inputs.size() && !n.inputs[k].empty(); }
  // The IR blob of input k; a constant (initializer or Constant node) becomes an IR
  // Constant node the first time it is read as a blob. Throws when absent.
  std::string in(const Node& n, std::size_t k);
  // The constant behind input k, or nullptr when it is computed.
  const Tensor* constant(const Node& n, std::size_t k) const;
  // Input k as a constant, or Error(Model) naming the node ("`what` must be a constant").
  const Tensor& need_constant(const Node& n, std::size_t k, const char* what) const;
  std::vector<std::int64_t> const_ints(const Node& n, std::size_t k, const char* what) const;
  std::vector<float> const_floats(const Node& n, std::size_t k, const char* what) const;
  // Records a constant output (Constant node, folded initializer arithmetic).
  void add_constant(const std::string& name, Tensor t);

  graph::Node& add(const Node& src, const std::string& op, std::vector<std::string> inputs, std::vector<std::string> outputs);
  std::string temp(const std::string& base) { return base + "#" + std::to_string(++temps_); }
  // Integer-typed blobs (shape arithmetic), tracked from the types ONNX declares.
  bool is_int(const std::string& blob) const { return ints_.count(blob) != 0; }
  void set_int(const std::string& blob, bool v) { v ? (void)ints_.insert(blob) : (void)ints_.erase(blob); }

  [[noreturn]] void fail(const Node& n, const std::string& why) const;
  std::int64_t ai(const Node& n, const char* key, std::int64_t fallback) const;
  double af(const Node& n, const char* key, double fallback) const;
  std::string as(const Node& n, const char* key, const std::string& fallback) const;
  std::vector<std::int64_t> aints(const Node& n, const char* key, std::vector<std::int64_t> fallback) const;
  const std::string& origin() const { return origin_; }

 private:
  graph::Graph& g_;
  std::string origin_;
  std::int64_t opset_ = 0;
  std::map<std::string, const Tensor*> consts_;
  std::map<std::string, std::unique_ptr<Tensor>> owned_;
  std::set<std::string> emitted_, ints_;
  int temps_ = 0;
};

// A HostTensor (fp32) of a decoded tensor's values.
HostTensor host_tensor(const Tensor& t);

using Converter = void (*)(const Node&, Builder&);
// The converters of onnx_ops_resample.cpp (Pad, Resize), registered in onnx_ops.cpp's table.
void convert_pad(const Node& n, Builder& b);
void convert_resize(const Node& n, Builder& b);
// The converter of an ONNX op type (default domain), or nullptr.
Converter find_converter(const std::string& op_type);
// The op types with a converter, sorted.
std::vector<std::string> known_ops();

}  // namespace yamiro::onnx
