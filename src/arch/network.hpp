// Networks in LibTorch (internal; only engine code includes this).
#pragma once
#include <ATen/ATen.h>

#include <memory>

#include "yamiro/model.hpp"

namespace yamiro::arch {

struct NetOptions {
  at::Device device = at::kCPU;
  at::ScalarType dtype = at::kFloat;
  bool channels_last = false;
  // Plain mode: textbook forward (out-of-place ops, concatenations), as the Python
  // reference runs it. Used as the speed baseline; numerically the same network.
  bool plain = false;
  // fp32 on the CPU: 3x3 convolutions as Winograd F(4x4,3x3) where the CPU has AVX-512
  // (arch/winograd.hpp). Never with `plain`.
  bool winograd = false;
};

// A network ready to run: weights already on the device, in the chosen dtype and layout.
// forward() takes [N,C,H,W] in [0,1] with C = info.in_channels (dtype/device/layout of
// the options) and returns [N,info.out_channels,H*scale,W*scale]. Not thread-safe.
// Where a tile's core lies inside the tile given to the network, and which image edges it
// touches (for exact global layers, below).
struct CoreSpan {
  int x = 0, y = 0, w = 0, h = 0;
  bool left = false, top = false, right = false, bottom = false;
};

class Network {
 public:
  virtual ~Network() = default;
  virtual at::Tensor forward(const at::Tensor& x) = 0;

  // Image-global layers (the means of SE blocks) see only their tile. A network with
  // global_layers() = K > 0 makes a tiled run exact: for k = 0..K-1 the engine passes
  // every tile ([1,C,h,w], as for forward) to gather_global(k, ...), then calls
  // finish_global(k); forward() then uses the gathered statistics instead of its tile's,
  // until reset_global(). Defaults: no such layers. Not thread-safe.
  virtual int global_layers() const { return 0; }
  virtual void gather_global(int /*k*/, const at::Tensor& /*tile*/, const CoreSpan& /*core*/) {}
  virtual void finish_global(int /*k*/) {}
  virtual void reset_global() {}
};

// Builds the network for `info.arch`. Throws Error(Model) for an unknown architecture.
std::unique_ptr<Network> make_network(const ArchInfo& info, const StateDict& weights, const NetOptions& options);

// Shared helper: one host tensor as a device tensor in the options' dtype (and
// channels-last for 4-D weights when asked).
at::Tensor to_device(const HostTensor& t, const NetOptions& options);

// Architecture factories, one per file; registered in registry.cpp.
std::unique_ptr<Network> make_rrdbnet(const ArchInfo&, const StateDict&, const NetOptions&);
std::unique_ptr<Network> make_srvgg_compact(const ArchInfo&, const StateDict&, const NetOptions&);
std::unique_ptr<Network> make_swinir(const ArchInfo&, const StateDict&, const NetOptions&);
std::unique_ptr<Network> make_span(const ArchInfo&, const StateDict&, const NetOptions&);
// PLKSR and RealPLKSR (info.arch tells them apart).
std::unique_ptr<Network> make_plksr(const ArchInfo&, const StateDict&, const NetOptions&);
std::unique_ptr<Network> make_hat(const ArchInfo&, const StateDict&, const NetOptions&);
std::unique_ptr<Network> make_dat(const ArchInfo&, const StateDict&, const NetOptions&);
std::unique_ptr<Network> make_omnisr(const ArchInfo&, const StateDict&, const NetOptions&);
std::unique_ptr<Network> make_torchscript(const ArchInfo&, const StateDict&, const NetOptions&);
// Any graph IR (info.graph), run op by op (graph/executor.cpp). Throws Error(Model) for a
// graph that does not validate or has an op without a kernel.
std::unique_ptr<Network> make_graph(const ArchInfo&, const StateDict&, const NetOptions&);

}  // namespace yamiro::arch
