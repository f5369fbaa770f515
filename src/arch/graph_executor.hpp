// Running a graph IR on ATen (internal; yamiro_torch and tests only). The engine sees it
// as arch::make_graph's Network; GraphRunner is the bare graph, without the contract.
#pragma once
#include <ATen/ATen.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "arch/network.hpp"
#include "graph/ir.hpp"

namespace yamiro::graph {

class GraphRunner {
 public:
  // Validates the graph, finds every node's kernel and puts the weights on the device in
  // the options' dtype. Throws Error(Model) for a graph that does not validate or an op
  // without a kernel, c10::Error when the device cannot take the weights.
  GraphRunner(std::shared_ptr<const Graph> graph, const arch::NetOptions& options);
  ~GraphRunner();
  GraphRunner(const GraphRunner&) = delete;
  GraphRunner& operator=(const GraphRunner&) = delete;

  // Runs the nodes in order on `x` (the graph's input, as is: no padding, no crop) and
  // returns the graph's outputs. Blobs are freed after their last reader. Blobs that fold
  // (shape arithmetic, constants: graph/ops.hpp) are computed once per input shape and
  // cached (up to 64 shapes), their nodes skipped. Throws what the kernels throw. Not
  // thread-safe.
  std::vector<at::Tensor> run(const at::Tensor& x) const { return run(x, nullptr); }

  // Control over the GlobalPool nodes (numbered in node order): `fixed[k]`, when defined,
  // is used as node k's output ([1,C] or [1,C,1,1], expanded over the batch); with
  // `stop_at` >= 0 the run stops at that node and returns its input.
  struct Globals {
    std::vector<at::Tensor> fixed;
    int stop_at = -1;
  };
  std::vector<at::Tensor> run(const at::Tensor& x, const Globals* globals) const;
  // The GlobalPool nodes in node order.
  const std::vector<const Node*>& global_nodes() const { return global_nodes_; }

 private:
  struct Step;
  struct Folded;
  std::shared_ptr<const Folded> folded(const at::Tensor& x) const;
  std::shared_ptr<const Graph> graph_;
  bool folding_ = false;
  std::vector<std::string> slot_names_;
  mutable std::mutex fold_mutex_;
  mutable std::map<std::vector<std::int64_t>, std::shared_ptr<const Folded>> fold_cache_;
  std::vector<Step> steps_;
  std::vector<int> outputs_;
  std::vector<const Node*> global_nodes_;
  int input_ = 0, slots_ = 0;
};

}  // namespace yamiro::graph
