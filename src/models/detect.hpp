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

// DAT ('pixelshuffle' or 'pixelshuffledirect', 1conv/3conv): every hyper-parameter from
// key names and shapes, and the cost fields of ArchInfo. Throws through unknown_layout
// for anything inconsistent, missing or left over.
ArchInfo detect_dat(const StateDict& sd);

}  // namespace yamiro
