// Host images: interleaved pixels, no OpenCV or LibTorch types.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace yamiro {

// An 8- or 16-bit image with 1 (gray), 2 (gray+alpha), 3 or 4 interleaved channels in RGB(A) order.
struct Image {
  int width = 0;
  int height = 0;
  int channels = 3;
  int depth_bytes = 1;  // 1 = uint8, 2 = uint16
  std::vector<std::uint8_t> data;

  Image() = default;
  Image(int w, int h, int c, int depth)
      : width(w), height(h), channels(c), depth_bytes(depth),
        data(static_cast<std::size_t>(w) * h * c * depth) {}
  std::size_t row_bytes() const { return static_cast<std::size_t>(width) * channels * depth_bytes; }
  double max_value() const { return depth_bytes == 2 ? 65535.0 : 255.0; }
};

// A float image in planar CHW layout (channel-major), values nominally in [0, 1].
// Used by the golden tests and the benchmark; the network's raw output is kept unclamped.
struct PlanarImage {
  int width = 0;
  int height = 0;
  int channels = 3;
  std::vector<float> data;

  PlanarImage() = default;
  PlanarImage(int w, int h, int c)
      : width(w), height(h), channels(c), data(static_cast<std::size_t>(w) * h * c) {}
  float* plane(int c) { return data.data() + static_cast<std::size_t>(c) * width * height; }
  const float* plane(int c) const { return data.data() + static_cast<std::size_t>(c) * width * height; }
};

}  // namespace yamiro
