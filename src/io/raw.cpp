#include <cstring>

#include "yamiro/io.hpp"

namespace yamiro {

std::vector<unsigned char> encode_planar_f32(const PlanarImage& image) {
  static_assert(sizeof(float) == 4, "float32 expected");
  std::vector<unsigned char> bytes(image.data.size() * 4);
  std::memcpy(bytes.data(), image.data.data(), bytes.size());  // x86/ARM are little-endian
  return bytes;
}

}  // namespace yamiro
