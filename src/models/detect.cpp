// Architecture detection from basicsr key names and tensor shapes, never file names.
#include <numeric>
#include <sstream>

#include "models/detect.hpp"
#include "yamiro/error.hpp"
#include "yamiro/model.hpp"

namespace yamiro {

void unknown_layout(const StateDict& sd, const std::string& why) {
  std::ostringstream msg;
  msg << "unknown model layout (" << why << "); found " << sd.size() << " tensors:";
  int shown = 0;
  for (const auto& [key, t] : sd) {
    if (shown++ == 8) { msg << " ..."; break; }
    msg << " " << key << "[";
    for (std::size_t i = 0; i < t.shape.size(); ++i) msg << (i ? "," : "") << t.shape[i];
    msg << "]";
  }
  throw Error(ErrorKind::Model, msg.str());
}

std::int64_t HostTensor::numel() const {
  return std::accumulate(shape.begin(), shape.end(), std::int64_t{1}, std::multiplies<>());
}

std::string ArchInfo::summary() const {
  std::ostringstream s;
  s << arch << " x" << scale;
  if (in_channels != 3 || out_channels != 3) s << ", " << in_channels << "->" << out_channels << " channels";
  if (hyper.empty()) return s.str();
  s << " (";
  bool first = true;
  for (const auto& [k, v] : hyper) {
    s << (first ? "" : ", ") << k << "=" << v;
    first = false;
  }
  for (const auto& [k, v] : options) s << ", " << k << "=" << v;
  s << ")";
  return s.str();
}

ArchInfo detect_architecture(const StateDict& sd) {
  // HAT's keys contain SwinIR's (layers.N.residual_group.blocks...): its CAB and OCAB go first.
  if (sd.count("layers.0.residual_group.blocks.0.conv_block.cab.0.weight") || sd.count("layers.0.residual_group.overlap_attn.qkv.weight")) return detect_hat(sd);
  // DAT before RRDBNet: it has conv_first too. Its adaptive interaction convolutions
  // (attn.dwconv) tell it from other before_RG networks.
  if (sd.count("before_RG.1.weight") && sd.count("layers.0.blocks.0.attn.dwconv.0.weight")) return detect_dat(sd);
  if (sd.count("layers.0.residual_group.blocks.0.attn.qkv.weight")) return detect_swinir(sd);
  if (sd.count("conv_1.sk.weight") && sd.count("block_1.c1_r.sk.weight")) return detect_span(sd);
  if (sd.count("feats.0.weight") && sd.count("feats.1.refine.weight")) return detect_plksr(sd);
  if (sd.count("input.weight") && sd.count("residual_layer.0.residual_layer.0.layer.0.fn.0.weight")) return detect_omnisr(sd);
  if (sd.count("conv_first.weight")) return detect_rrdbnet(sd);
  if (sd.count("body.0.weight") && sd.count("body.1.weight")) return detect_compact(sd);
  unknown_layout(sd, "neither RRDBNet (conv_first.*), SRVGGNetCompact (body.N.*), SwinIR/HAT (layers.N.residual_group.*), DAT "
                     "(before_RG.*), SPAN (conv_1.sk.*, block_N.*), PLKSR/RealPLKSR (feats.N.refine.*) nor OmniSR (residual_layer.N.*, input.*) keys");
}

}  // namespace yamiro
