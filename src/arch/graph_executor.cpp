// The graph executor: an arch::Network that runs a graph IR node by node on ATen, with
// the model's contract (shrink, input multiple, border, Real-CUGAN x4's residual)
// applied around it, so that forward() maps [N,C,H,W] to [N,C,H*s,W*s] like any network.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <unordered_map>

#include "arch/network.hpp"
#include "arch/winograd.hpp"
#include "arch/graph_executor.hpp"
#include "arch/graph_kernels.hpp"
#include "graph/ops.hpp"
#include "yamiro/error.hpp"

namespace yamiro::graph {

Kernel find_kernel(const std::string& op) {
  static const std::unordered_map<std::string, Kernel> table = [] {
    std::unordered_map<std::string, Kernel> t;
    for (auto group : {&kernels::conv_kernels, &kernels::elementwise_kernels, &kernels::layout_kernels,
                       &kernels::resize_kernels, &kernels::tensor_kernels})
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
  int global = -1;           // index among the GlobalPool nodes
  // A 3x3 convolution on the Winograd path, with the activation after it fused; `valid`:
  // unpadded, run padded by 1 and the outer ring of the result dropped.
  std::shared_ptr<arch::Conv3x3> conv3;
  arch::Epilogue epilogue;
  bool valid = false;
};

namespace {

// A Conv the Winograd kernels take: 3x3, stride 1, no dilation or groups, zero pads of 1
// on every side, or none (valid: Real-CUGAN's and waifu2x's U-Nets). Returns 1, 0 or -1 (no).
int winograd_pad(const Node& n) {
  using V = std::vector<std::int64_t>;
  if (!(n.op == "Conv" && n.ints("kernel", {1, 1}) == V{3, 3} && n.ints("stride", {1, 1}) == V{1, 1} &&
        n.ints("dilation", {1, 1}) == V{1, 1} && n.s("auto_pad", "none") == "none" && n.i("group", 1) == 1 &&
        n.f("pad_value", 0) == 0 && n.has_weight("bias")))
    return -1;
  const V pads = n.ints("pads", {0, 0, 0, 0});
  return pads == V{1, 1, 1, 1} ? 1 : pads == V{0, 0, 0, 0} ? 0 : -1;
}

}  // namespace

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
  std::unordered_map<std::string, int> readers;
  for (const Node& n : graph_->nodes)
    for (const auto& b : n.inputs) ++readers[b];
  for (const auto& o : graph_->outputs) ++readers[o];
  const auto& nodes = graph_->nodes;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const Node& n = nodes[i];
    Step s{&n, find_kernel(n.op), {}, {}, {}, {}, -1, nullptr, {}, false};
    if (!s.run) fail(*graph_, &n, "no kernel for op " + n.op);
    for (const auto& [key, w] : n.weights) s.weights[key] = arch::to_device(w, options);
    if (!options.plain && n.op == "ConvTranspose" && n.has_weight("weight"))
      if (at::Tensor c = kernels::subpixel_weight(n, s.weights.at("weight")); c.defined()) s.weights["subpixel"] = std::move(c);
    for (const auto& b : n.inputs) s.in.push_back(slot_of(b));
    const Node* act = nullptr;
    const int pad = options.winograd && !options.plain ? winograd_pad(n) : -1;
    if (pad >= 0) {
      s.conv3 = std::make_shared<arch::Conv3x3>(s.weights.at("weight"), s.weights.at("bias"), true);
      s.valid = pad == 0;
      // A valid convolution pays for the ring it drops only where Winograd makes up for it.
      if (s.valid && !s.conv3->uses_winograd()) s.conv3.reset();
    }
    if (s.conv3) {
      // The next node, when it is an activation that alone reads the result, runs as the epilogue.
      const Node* next = i + 1 < nodes.size() ? &nodes[i + 1] : nullptr;
      if (next && next->inputs.size() == 1 && next->inputs[0] == n.outputs.at(0) && readers[n.outputs[0]] == 1) {
        if (next->op == "Relu") act = next, s.epilogue.leaky_slope = static_cast<float>(next->f("alpha", 0));
        const std::int64_t cout = n.weight("weight").shape.at(0);
        if (next->op == "PRelu" && next->weight("slope").numel() == cout)
          act = next, s.epilogue.prelu = arch::to_device(next->weight("slope"), options);
      }
    }
    for (const auto& b : (act ? act->outputs : n.outputs)) s.out.push_back(slot_of(b));
    if (act) ++i;
    if (n.op == "GlobalPool") {
      s.global = static_cast<int>(global_nodes_.size());
      global_nodes_.push_back(&n);
    }
    steps_.push_back(std::move(s));
  }
  for (const auto& o : graph_->outputs) outputs_.push_back(slot_of(o));
  slots_ = static_cast<int>(slot.size());
  folding_ = has_folding(*graph_);
  slot_names_.resize(static_cast<std::size_t>(slots_));
  for (const auto& [name, k] : slot) slot_names_[static_cast<std::size_t>(k)] = name;
  // Free each blob after its last reader, so peak memory follows the graph's width.
  std::vector<int> last(slots_, -1);
  for (std::size_t i = 0; i < steps_.size(); ++i)
    for (int k : steps_[i].in) last[k] = static_cast<int>(i);
  for (int k = 0; k < slots_; ++k)
    if (last[k] >= 0 && std::find(outputs_.begin(), outputs_.end(), k) == outputs_.end()) steps_[last[k]].release.push_back(k);
}

GraphRunner::~GraphRunner() = default;

// The folded blobs of one input shape (CPU float64) and the steps they make unnecessary.
struct GraphRunner::Folded {
  std::vector<at::Tensor> blobs;  // by slot; undefined where the blob does not fold
  std::vector<char> skip;         // by step
};

std::shared_ptr<const GraphRunner::Folded> GraphRunner::folded(const at::Tensor& x) const {
  const std::vector<std::int64_t> key = x.sizes().vec();
  std::lock_guard<std::mutex> lock(fold_mutex_);
  const auto it = fold_cache_.find(key);
  if (it != fold_cache_.end()) return it->second;
  const Inferred inf = infer(*graph_, {key});
  auto f = std::make_shared<Folded>();
  f->blobs.resize(static_cast<std::size_t>(slots_));
  for (int k = 0; k < slots_; ++k) {
    const auto v = inf.values.find(slot_names_[static_cast<std::size_t>(k)]);
    if (v == inf.values.end() || k == input_) continue;
    const Shape& shape = inf.shapes.at(v->first);
    f->blobs[k] = at::tensor(v->second, at::TensorOptions().dtype(at::kDouble)).reshape(shape);
  }
  for (const Step& s : steps_) {
    bool all = !s.out.empty() && !s.conv3;
    for (int k : s.out) all = all && f->blobs[k].defined();
    f->skip.push_back(all);
  }
  if (fold_cache_.size() >= 64) fold_cache_.clear();
  fold_cache_.emplace(key, f);
  return f;
}

std::vector<at::Tensor> GraphRunner::run(const at::Tensor& x, const Globals* globals) const {
  std::vector<at::Tensor> blobs(static_cast<std::size_t>(slots_));
  blobs[input_] = x;
  std::vector<at::Tensor> in;
  const std::shared_ptr<const Folded> fold = folding_ ? folded(x) : nullptr;
  for (std::size_t si = 0; si < steps_.size(); ++si) {
    const Step& s = steps_[si];
    if (fold && fold->skip[si]) {
      for (int k : s.out) blobs[k] = fold->blobs[k];
      for (int k : s.release) blobs[k] = at::Tensor();
      continue;
    }
    in.clear();
    for (int k : s.in) in.push_back(blobs[k]);
    std::vector<at::Tensor> out;
    if (globals && s.global >= 0 && s.global == globals->stop_at) return {in.at(0)};
    if (globals && s.global >= 0 && s.global < static_cast<int>(globals->fixed.size()) && globals->fixed[s.global].defined()) {
      const at::Tensor& f = globals->fixed[s.global];
      std::vector<std::int64_t> shape = f.sizes().vec();
      shape[0] = in.at(0).size(0);
      out = {f.expand(shape)};
    } else if (s.conv3) {
      const at::Tensor& src = in.at(0);
      if (s.valid && (src.dim() != 4 || src.size(2) < 3 || src.size(3) < 3))
        fail(*graph_, s.node, "the input is smaller than the 3x3 kernel");
      out = {(*s.conv3)(src, s.epilogue)};
      if (s.valid) out[0] = out[0].narrow(2, 1, src.size(2) - 2).narrow(3, 1, src.size(3) - 2);
    } else {
      out = s.run(*s.node, in, s.weights);
    }
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
  GraphNetwork(const ArchInfo& info, const arch::NetOptions& options)
      : info_(info), runner_(info.graph, options), runner_dtype_(options.dtype) {
    geometry();
  }

  at::Tensor forward(const at::Tensor& x) override {
    const std::int64_t h = x.size(2), w = x.size(3), s = info_.scale;
    const bool exact = !means_.empty() && static_cast<int>(means_.size()) == global_layers();
    Globals g;
    if (exact) g.fixed = means_;
    const at::Tensor y = runner_.run(pad_input(x), exact ? &g : nullptr).at(0);
    at::Tensor out = y.narrow(2, 0, h * s).narrow(3, 0, w * s);
    if (info_.add_nearest_input) out = out + at::upsample_nearest2d(x, {h * s, w * s}, c10::nullopt, c10::nullopt);
    return out;
  }

  int global_layers() const override { return static_cast<int>(geo_.size()); }

  // Sums GlobalPool k's input over the feature positions this tile owns: those whose
  // centre falls in the core (up to the image edge where the core touches it), with the
  // statistics of the layers before k fixed to the whole image's.
  void gather_global(int k, const at::Tensor& x, const arch::CoreSpan& core) override {
    const Geometry& geo = geo_.at(k);
    Globals g;
    g.fixed = means_;
    g.fixed.resize(static_cast<std::size_t>(k));
    g.stop_at = k;
    const at::Tensor f = runner_.run(pad_input(x), &g).at(0).to(at::kFloat);
    auto span = [&](int start, int len, bool first, bool last, std::int64_t n) {
      const double a = info_.shrink + start, b = a + len;  // the core in graph-input coordinates
      std::int64_t j0 = 0, j1 = n;
      while (!first && j0 < n && geo.offset + (j0 + 0.5) * geo.step < a) ++j0;
      while (!last && j1 > j0 && geo.offset + (j1 - 0.5) * geo.step >= b) --j1;
      return std::make_pair(j0, j1 - j0);
    };
    const auto [y0, ny] = span(core.y, core.h, core.top, core.bottom, f.size(2));
    const auto [x0, nx] = span(core.x, core.w, core.left, core.right, f.size(3));
    if (ny <= 0 || nx <= 0) return;
    const at::Tensor part = f.narrow(2, y0, ny).narrow(3, x0, nx);
    if (sums_.size() <= static_cast<std::size_t>(k)) sums_.resize(static_cast<std::size_t>(k) + 1), counts_.resize(sums_.size(), 0);
    const at::Tensor v = geo.max ? at::amax(part, {0, 2, 3}) : part.sum({0, 2, 3}).to(at::kDouble);
    sums_[k] = !sums_[k].defined() ? v : (geo.max ? at::maximum(sums_[k], v) : sums_[k] + v);
    counts_[k] += static_cast<double>(ny * nx * f.size(0));
  }

  void finish_global(int k) override {
    const Geometry& geo = geo_.at(k);
    if (static_cast<int>(sums_.size()) <= k || !sums_[k].defined()) throw Error(ErrorKind::Model, "no tile covered a global layer");
    at::Tensor m = geo.max ? sums_[k] : sums_[k] / counts_[k];
    m = m.to(runner_dtype_).unsqueeze(0);
    if (geo.keep) m = m.unsqueeze(2).unsqueeze(3);
    if (means_.size() <= static_cast<std::size_t>(k)) means_.resize(static_cast<std::size_t>(k) + 1);
    means_[k] = m;
  }

  void reset_global() override {
    means_.clear();
    sums_.clear();
    counts_.clear();
  }

 private:
  using Globals = GraphRunner::Globals;
  // Feature j of GlobalPool k's input covers graph-input coordinates
  // [offset + j*step, offset + (j+1)*step): from its size at two input sizes.
  struct Geometry {
    double step = 1, offset = 0;
    bool max = false, keep = false;
  };

  void geometry() {
    const Graph& g = *info_.graph;
    const int n0 = valid_input_side(info_, 96), n1 = valid_input_side(info_, 96 + 16 * info_.tile_multiple);
    const auto a = infer_shapes(g, {{1, g.input_channels.at(0), n0, n0}});
    const auto b = infer_shapes(g, {{1, g.input_channels.at(0), n1, n1}});
    for (const Node* n : runner_.global_nodes()) {
      const std::int64_t fa = a.at(n->inputs.at(0)).at(3), fb = b.at(n->inputs.at(0)).at(3);
      Geometry geo;
      geo.step = static_cast<double>(n1 - n0) / static_cast<double>(fb - fa);
      geo.offset = (n0 - geo.step * static_cast<double>(fa)) / 2;  // valid convolutions cut both sides alike
      geo.max = n->s("mode", "avg") == "max";
      geo.keep = n->i("keepdims", 0) != 0;
      geo_.push_back(geo);
    }
  }

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
  at::ScalarType runner_dtype_ = at::kFloat;
  std::vector<Geometry> geo_;
  std::vector<at::Tensor> means_, sums_;
  std::vector<double> counts_;
};

}  // namespace
}  // namespace yamiro::graph

namespace yamiro::arch {

std::unique_ptr<Network> make_graph(const ArchInfo& info, const StateDict&, const NetOptions& options) {
  return std::make_unique<graph::GraphNetwork>(info, options);
}

}  // namespace yamiro::arch
