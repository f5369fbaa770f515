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

// RRDBNet (basicsr names; keymap.cpp renames the 2018/2019 ESRGAN layouts): any number
// of x2 upsamplers (conv_up1..N: x1 to x16), pixel_unshuffle(2/4) inputs, 1/3/4 channels
// in and out. SRVGGNetCompact: 1/3/4 channels (the output has the input's). Both set the
// ArchInfo cost fields. Throw through unknown_layout for anything inconsistent, missing
// or left over (detect_esrgan.cpp).
ArchInfo detect_rrdbnet(const StateDict& sd);
ArchInfo detect_compact(const StateDict& sd);

// SPAN (feature channels, block count, scale, norm): every Conv3XC's branches and the
// upsampler checked by shape. Throws through unknown_layout.
ArchInfo detect_span(const StateDict& sd);

// PLKSR (channe_mixer keys) and RealPLKSR (channel_mixer; GroupNorm or LayerNorm, pixel
// shuffle or DySample): width, blocks, kernel, partial channels, scale. Throws through
// unknown_layout.
ArchInfo detect_plksr(const StateDict& sd);

// HAT (pixelshuffle upsampler; resi_connection 1conv or identity): every hyper-parameter
// from key names and shapes (conv_scale, not stored, is the published 0.01); stored
// relative-position index buffers must match the published formulas. Also fills the cost
// fields (flops_per_px, live_values_per_px, fp16_unsafe, global_reduction). Throws through
// unknown_layout for anything inconsistent, missing or left over.
ArchInfo detect_hat(const StateDict& sd);

// DAT ('pixelshuffle' or 'pixelshuffledirect', 1conv/3conv): every hyper-parameter from
// key names and shapes, and the cost fields of ArchInfo. Throws through unknown_layout
// for anything inconsistent, missing or left over.
ArchInfo detect_dat(const StateDict& sd);

// OmniSR (residual_layer.N.residual_layer.M.layer.K..., esa, input/output/up.0): every
// hyper-parameter from key names and shapes (the window from the position-bias tables; a
// file without them gets the published default 8), the thop counters released files carry
// skipped, and the cost fields of ArchInfo. Throws through unknown_layout for anything
// inconsistent, missing or left over.
ArchInfo detect_omnisr(const StateDict& sd);

}  // namespace yamiro
