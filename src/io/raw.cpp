#include <cstring>

#include "yamiro/io.hpp"

namespace yamiro {

std::vector<unsigned char> encode_planar_f32(const PlanarImage& image) {
  static_assert(sizeof(float) == 4, "float32 expected");
  std::vector<unsigned char> bytes(image.data.size() * 4);
  std::memcpy(bytes.data(), image.data.data(), bytes.size());  // x86/ARM are little-endian
  return bytes;
}

std::pair<Image, Image> split_alpha(const Image& rgba) {
  Image rgb(rgba.width, rgba.height, 3, rgba.depth_bytes), alpha(rgba.width, rgba.height, 1, rgba.depth_bytes);
  const std::size_t n = static_cast<std::size_t>(rgba.width) * rgba.height, d = rgba.depth_bytes;
  for (std::size_t i = 0; i < n; ++i) {
    std::memcpy(&rgb.data[i * 3 * d], &rgba.data[i * 4 * d], 3 * d);
    std::memcpy(&alpha.data[i * d], &rgba.data[(i * 4 + 3) * d], d);
  }
  return {std::move(rgb), std::move(alpha)};
}

Image merge_alpha(const Image& rgb, const Image& alpha) {
  Image out(rgb.width, rgb.height, 4, rgb.depth_bytes);
  const std::size_t n = static_cast<std::size_t>(rgb.width) * rgb.height, d = rgb.depth_bytes;
  for (std::size_t i = 0; i < n; ++i) {
    std::memcpy(&out.data[i * 4 * d], &rgb.data[i * 3 * d], 3 * d);
    std::memcpy(&out.data[(i * 4 + 3) * d], &alpha.data[i * d], d);
  }
  return out;
}

}  // namespace yamiro
