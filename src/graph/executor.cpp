// The graph executor: an arch::Network that runs a graph IR node by node on ATen, with
// the model's contract (shrink, input multiple, border, Real-CUGAN x4's residual)
// applied around it, so that forward() maps [N,C,H,W] to [N,C,H*s,W*s] like any network.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <unordered_map>

#include "arch/network.hpp"
#include "graph/executor.hpp"
#include "graph/kernels.hpp"
#include "graph/ops.hpp"
#include "yamiro/error.hpp"

namespace yamiro::graph {

Kernel find_kernel(const std::string& op) {
  static const std::unordered_map<std::string, Kernel> table = [] {
    std::unordered_map<std::string, Kernel> t;
    for (auto group : {&kernels::conv_kernels, &kernels::elementwise_kernels, &kernels::layout_kernels})
      for (const KernelEntry& e : group()) t.emplace(e.op, e.run);
    return t;
  }();
  const auto it = table.find(op);
  return it == table.end() ? nullptr : it->second;
}

struct GraphRunner::Step {
  const Node* node;
  Kernel run;
  DeviceWeights weights;
  std::vector<int> in, out;  // blob slots
  std::vector<int> release;  // slots whose last reader is this step
};

GraphRunner::GraphRunner(std::shared_ptr<const Graph> graph, const arch::NetOptions& options) : graph_(std::move(graph)) {
  if (!graph_) throw Error(ErrorKind::Model, "architecture Graph without a graph");
  validate(*graph_);
  std::unordered_map<std::string, int> slot;
  auto slot_of = [&](const std::string& b) {
    const auto it = slot.find(b);
    if (it != slot.end()) return it->second;
    const int k = static_cast<int>(slot.size());
    slot.emplace(b, k);
    return k;
  };
  input_ = slot_of(graph_->inputs.at(0));
  for (const Node& n : graph_->nodes) {
    Step s{&n, find_kernel(n.op), {}, {}, {}, {}};
    if (!s.run) fail(*graph_, &n, "no kernel for op " + n.op);
    for (const auto& [key, w] : n.weights) s.weights[key] = arch::to_device(w, options);
    for (const auto& b : n.inputs) s.in.push_back(slot_of(b));
    for (const auto& b : n.outputs) s.out.push_back(slot_of(b));
    steps_.push_back(std::move(s));
  }
  for (const auto& o : graph_->outputs) outputs_.push_back(slot_of(o));
  slots_ = static_cast<int>(slot.size());
  // Free each blob after its last reader, so peak memory follows the graph's width.
  std::vector<int> last(slots_, -1);
  for (std::size_t i = 0; i < steps_.size(); ++i)
    for (int k : steps_[i].in) last[k] = static_cast<int>(i);
  for (int k = 0; k < slots_; ++k)
    if (last[k] >= 0 && std::find(outputs_.begin(), outputs_.end(), k) == outputs_.end()) steps_[last[k]].release.push_back(k);
}

GraphRunner::~GraphRunner() = default;

std::vector<at::Tensor> GraphRunner::run(const at::Tensor& x) const {
  std::vector<at::Tensor> blobs(static_cast<std::size_t>(slots_));
  blobs[input_] = x;
  std::vector<at::Tensor> in;
  for (const Step& s : steps_) {
    in.clear();
    for (int k : s.in) in.push_back(blobs[k]);
    auto out = s.run(*s.node, in, s.weights);
    for (std::size_t i = 0; i < s.out.size(); ++i) blobs[s.out[i]] = std::move(out.at(i));
    for (int k : s.release) blobs[k] = at::Tensor();
  }
  std::vector<at::Tensor> result;
  for (int k : outputs_) result.push_back(blobs[k]);
  return result;
}

namespace {

class GraphNetwork final : public arch::Network {
 public:
  GraphNetwork(const ArchInfo& info, const arch::NetOptions& options) : info_(info), runner_(info.graph, options) {}

  at::Tensor forward(const at::Tensor& x) override {
    const std::int64_t h = x.size(2), w = x.size(3), s = info_.scale;
    const at::Tensor y = runner_.run(pad_input(x)).at(0);
    at::Tensor out = y.narrow(2, 0, h * s).narrow(3, 0, w * s);
    if (info_.add_nearest_input) out = out + at::upsample_nearest2d(x, {h * s, w * s}, c10::nullopt, c10::nullopt);
    return out;
  }

 private:
  // The shrink on every side, and at the bottom/right what the graph's size rule needs,
  // filled by the family's border rule.
  at::Tensor pad_input(const at::Tensor& x) const {
    const int m = info_.input_multiple, p = info_.shrink;
    auto extra = [&](std::int64_t side) {
      const std::int64_t r = (side + 2 * p) % m;
      return (info_.input_remainder - r + m) % m;
    };
    const std::int64_t eh = extra(x.size(2)), ew = extra(x.size(3));
    if (p == 0 && eh == 0 && ew == 0) return x;
    const std::vector<std::int64_t> lrtb{p, p + ew, p, p + eh};
    if (info_.border == "replicate") return at::replication_pad2d(x, lrtb);
    if (info_.border == "reflect") {
      if (p + std::max(eh, ew) < std::min(x.size(2), x.size(3))) return at::reflection_pad2d(x, lrtb);
      // Narrower than the border: reflect in steps (each within the current size).
      at::Tensor t = x;
      std::vector<std::int64_t> left = lrtb;
      while (left[0] + left[1] + left[2] + left[3] > 0) {
        std::vector<std::int64_t> step(4);
        for (int i = 0; i < 4; ++i) step[i] = std::min(left[i], (i < 2 ? t.size(3) : t.size(2)) - 1), left[i] -= step[i];
        t = at::reflection_pad2d(t, step);
      }
      return t;
    }
    return at::constant_pad_nd(x, {p, p + ew, p, p + eh}, 0.0);
  }

  ArchInfo info_;
  GraphRunner runner_;
};

}  // namespace
}  // namespace yamiro::graph

namespace yamiro::arch {

std::unique_ptr<Network> make_graph(const ArchInfo& info, const StateDict&, const NetOptions& options) {
  return std::make_unique<graph::GraphNetwork>(info, options);
}

}  // namespace yamiro::arch
