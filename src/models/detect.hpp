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

// SPAN (feature channels, block count, scale, norm): every Conv3XC's branches and the
// upsampler checked by shape. Throws through unknown_layout.
ArchInfo detect_span(const StateDict& sd);

// PLKSR (channe_mixer keys) and RealPLKSR (channel_mixer; GroupNorm or LayerNorm, pixel
// shuffle or DySample): width, blocks, kernel, partial channels, scale. Throws through
// unknown_layout.
ArchInfo detect_plksr(const StateDict& sd);

}  // namespace yamiro
