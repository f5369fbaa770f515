#include <cstring>

#include "yamiro/io.hpp"

namespace yamiro {

std::vector<unsigned char> encode_planar_f32(const PlanarImage& image) {
  static_assert(sizeof(float) == 4, "float32 expected");
  std::vector<unsigned char> bytes(image.data.size() * 4);
  std::memcpy(bytes.data(), image.data.data(), bytes.size());  // x86/ARM are little-endian
  return bytes;
}

std::pair<Image, Image> split_alpha(const Image& image) {
  const int k = image.channels - 1;  // colour channels before the alpha
  Image colour(image.width, image.height, k, image.depth_bytes), alpha(image.width, image.height, 1, image.depth_bytes);
  const std::size_t n = static_cast<std::size_t>(image.width) * image.height, d = image.depth_bytes;
  for (std::size_t i = 0; i < n; ++i) {
    std::memcpy(&colour.data[i * k * d], &image.data[i * (k + 1) * d], k * d);
    std::memcpy(&alpha.data[i * d], &image.data[(i * (k + 1) + k) * d], d);
  }
  return {std::move(colour), std::move(alpha)};
}

Image merge_alpha(const Image& colour, const Image& alpha) {
  const int k = colour.channels;
  Image out(colour.width, colour.height, k + 1, colour.depth_bytes);
  const std::size_t n = static_cast<std::size_t>(colour.width) * colour.height, d = colour.depth_bytes;
  for (std::size_t i = 0; i < n; ++i) {
    std::memcpy(&out.data[i * (k + 1) * d], &colour.data[i * k * d], k * d);
    std::memcpy(&out.data[(i * (k + 1) + k) * d], &alpha.data[i * d], d);
  }
  return out;
}

}  // namespace yamiro
