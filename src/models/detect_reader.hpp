// A state dict reader for detectors that account for every tensor (internal to src/models).
#pragma once
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "models/detect.hpp"

namespace yamiro::detect {

inline std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::ostringstream s;
  s << "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s << (i ? "," : "") << shape[i];
  return s.str() + "]";
}

// "6,6,6,6": a list of per-stage integers as ArchInfo options spell it.
inline std::string join(const std::vector<int>& v) {
  std::string s;
  for (const int x : v) s += (s.empty() ? "" : ",") + std::to_string(x);
  return s;
}

// Reads the state dict and remembers which tensors it has looked at; every failure goes
// through unknown_layout (Error(Model), one line naming the reason). Not thread-safe
// (one per detection).
class Reader {
 public:
  Reader(const StateDict& sd, std::string arch) : sd_(sd), arch_(std::move(arch)) {}

  bool has(const std::string& key) const { return sd_.count(key) > 0; }

  // The tensor, or a failure naming the missing key or a value count that does not fit the shape.
  const HostTensor& get(const std::string& key) {
    const auto it = sd_.find(key);
    if (it == sd_.end()) fail(arch_ + " without " + key);
    if (static_cast<std::int64_t>(it->second.values.size()) != it->second.numel()) fail(key + " holds the wrong number of values");
    used_.insert(key);
    return it->second;
  }

  const HostTensor& expect(const std::string& key, const std::vector<std::int64_t>& shape) {
    const HostTensor& t = get(key);
    if (t.shape != shape) fail(key + " has shape " + shape_text(t.shape) + ", expected " + shape_text(shape));
    return t;
  }

  // A 4-D tensor (a convolution's weight), or a failure.
  const HostTensor& conv_weight(const std::string& key) {
    const HostTensor& t = get(key);
    if (t.shape.size() != 4) fail(key + " has shape " + shape_text(t.shape) + ", not a convolution's [out,in,kh,kw]");
    return t;
  }

  // The first dimension of a tensor that must have `rank` dimensions, or a failure.
  std::int64_t rows(const std::string& key, std::size_t rank) {
    const HostTensor& t = get(key);
    if (t.shape.size() != rank || t.shape[0] < 1) fail(key + " has shape " + shape_text(t.shape));
    return t.shape[0];
  }

  // Weight and (optional) bias of a layer.
  void layer(const std::string& name, const std::vector<std::int64_t>& weight_shape, bool bias = true) {
    expect(name + ".weight", weight_shape);
    if (bias) expect(name + ".bias", {weight_shape[0]});
  }

  // How many consecutive N from `first` have `prefix N suffix`.
  int count(const std::string& prefix, const std::string& suffix, int first = 0) const {
    int n = first;
    while (has(prefix + std::to_string(n) + suffix)) ++n;
    return n - first;
  }

  // The tensors nobody asked for: a layout with extra parts is not the one detected.
  void expect_all_used() const {
    for (const auto& [key, t] : sd_)
      if (!used_.count(key)) fail("tensor " + key + shape_text(t.shape) + " is not part of " + arch_);
  }

  [[noreturn]] void fail(const std::string& why) const { unknown_layout(sd_, why); }

 private:
  const StateDict& sd_;
  std::string arch_;
  std::set<std::string> used_;
};

}  // namespace yamiro::detect
