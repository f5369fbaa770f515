// Zero-filled state dicts of the basicsr layouts, for tests that need a detected ArchInfo
// (with the detector's cost figures) of a given size without a file.
#pragma once
#include <string>

#include "yamiro/model.hpp"

namespace yamiro::test {

inline void zero_conv(StateDict& sd, const std::string& name, std::int64_t out, std::int64_t in) {
  sd[name + ".weight"] = {{out, in, 3, 3}, std::vector<float>(static_cast<std::size_t>(out * in * 9), 0.0f)};
  sd[name + ".bias"] = {{out}, std::vector<float>(static_cast<std::size_t>(out), 0.0f)};
}

// RRDBNet: `ups` x2 upsamplers (conv_up1..ups), conv_first taking `in` channels (3, or 12/48
// for the pixel-unshuffle x2/x1 variants).
inline StateDict zero_rrdb(int nf, int nb, int gc, int ups, int in = 3) {
  StateDict sd;
  zero_conv(sd, "conv_first", nf, in);
  for (int b = 0; b < nb; ++b)
    for (int r = 1; r <= 3; ++r)
      for (int k = 1; k <= 5; ++k)
        zero_conv(sd, "body." + std::to_string(b) + ".rdb" + std::to_string(r) + ".conv" + std::to_string(k),
                  k == 5 ? nf : gc, nf + (k - 1) * gc);
  zero_conv(sd, "conv_body", nf, nf);
  for (int u = 1; u <= ups; ++u) zero_conv(sd, "conv_up" + std::to_string(u), nf, nf);
  zero_conv(sd, "conv_hr", nf, nf);
  zero_conv(sd, "conv_last", 3, nf);
  return sd;
}

// SRVGGNetCompact: body.0 conv, then num_conv (PReLU, conv) pairs, PReLU, last conv.
inline StateDict zero_compact(int nf, int num_conv, int scale) {
  StateDict sd;
  int i = 0;
  zero_conv(sd, "body." + std::to_string(i++), nf, 3);
  for (int c = 0; c <= num_conv; ++c) {
    sd["body." + std::to_string(i++) + ".weight"] = {{nf}, std::vector<float>(static_cast<std::size_t>(nf), 0.25f)};
    if (c < num_conv) zero_conv(sd, "body." + std::to_string(i++), nf, nf);
  }
  zero_conv(sd, "body." + std::to_string(i), 3LL * scale * scale, nf);
  return sd;
}

}  // namespace yamiro::test
