#include <map>

#include "arch/network.hpp"
#include "yamiro/error.hpp"

namespace yamiro::arch {
namespace {

using Factory = std::unique_ptr<Network> (*)(const ArchInfo&, const StateDict&, const NetOptions&);

// One line per architecture.
const std::map<std::string, Factory>& factories() {
  static const std::map<std::string, Factory> table = {
      {"RRDBNet", &make_rrdbnet},
      {"SRVGGNetCompact", &make_srvgg_compact},
      {"SwinIR", &make_swinir},
      {"SPAN", &make_span},
      {"PLKSR", &make_plksr},
      {"RealPLKSR", &make_plksr},
      {"HAT", &make_hat},
      {"DAT", &make_dat},
      {"OmniSR", &make_omnisr},
      {"TorchScript", &make_torchscript},
      {"Graph", &make_graph},
  };
  return table;
}

}  // namespace

at::Tensor to_device(const HostTensor& t, const NetOptions& options) {
  auto host = at::from_blob(const_cast<float*>(t.values.data()), t.shape, at::kFloat);
  auto out = host.to(options.device, options.dtype, /*non_blocking=*/false, /*copy=*/true);
  if (options.channels_last && out.dim() == 4) out = out.contiguous(at::MemoryFormat::ChannelsLast);
  return out;
}

std::unique_ptr<Network> make_network(const ArchInfo& info, const StateDict& weights, const NetOptions& options) {
  const auto it = factories().find(info.arch);
  if (it == factories().end()) {
    std::string known;
    for (const auto& [name, f] : factories()) known += (known.empty() ? "" : ", ") + name;
    throw Error(ErrorKind::Model, "no implementation for architecture '" + info.arch + "' (known: " + known + ")");
  }
  return it->second(info, weights, options);
}

}  // namespace yamiro::arch
