// Architecture detection internals shared by the per-architecture detectors.
#pragma once
#include <string>

#include "yamiro/model.hpp"

namespace yamiro {

// Throws Error(Model): "unknown model layout (why); found N tensors: key[shape] ...".
[[noreturn]] void unknown_layout(const StateDict& sd, const std::string& why);

// SwinIR (classical 'pixelshuffle', lightweight 'pixelshuffledirect', real-SR
// 'nearest+conv'): every hyper-parameter from key names and shapes. Throws through
// unknown_layout for anything inconsistent, missing or left over.
ArchInfo detect_swinir(const StateDict& sd);

// HAT (pixelshuffle upsampler; resi_connection 1conv or identity): every hyper-parameter
// from key names and shapes (conv_scale, not stored, is the published 0.01); stored
// relative-position index buffers must match the published formulas. Also fills the cost
// fields (flops_per_px, live_values_per_px, fp16_unsafe, global_reduction). Throws through
// unknown_layout for anything inconsistent, missing or left over.
ArchInfo detect_hat(const StateDict& sd);

}  // namespace yamiro
