// FLOPs per input pixel: the architecture's detector counts them (ArchInfo::flops_per_px).
#include "yamiro/bench.hpp"
#include "yamiro/error.hpp"

namespace yamiro {

double flops_per_input_pixel(const ArchInfo& a) {
  if (a.flops_per_px > 0) return a.flops_per_px;
  throw Error(ErrorKind::Model, "no FLOP count for architecture '" + a.arch + "'");
}

}  // namespace yamiro
