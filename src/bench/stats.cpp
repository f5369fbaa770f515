#include <algorithm>
#include <numeric>

#include "yamiro/bench.hpp"

namespace yamiro {
namespace {

double quantile(const std::vector<double>& sorted, double q) {
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const std::size_t lo = static_cast<std::size_t>(pos);
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - static_cast<double>(lo));
}

}  // namespace

Stats summarize(std::vector<double> samples) {
  Stats s;
  if (samples.empty()) return s;
  std::sort(samples.begin(), samples.end());
  s.count = static_cast<int>(samples.size());
  s.min = samples.front();
  s.max = samples.back();
  s.mean = std::accumulate(samples.begin(), samples.end(), 0.0) / s.count;
  s.median = quantile(samples, 0.5);
  s.p90 = quantile(samples, 0.9);
  return s;
}

Image synthetic_image(int width, int height, unsigned seed) {
  Image img(width, height, 3, 1);
  std::uint32_t state = seed * 2654435761u + 1;
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < 3; ++c) {
        state = state * 1664525u + 1013904223u;
        const int noise = static_cast<int>(state >> 27) - 16;
        const int base = (c == 0 ? x * 255 / width : c == 1 ? y * 255 / height : (x + y) * 255 / (width + height));
        img.data[(static_cast<std::size_t>(y) * width + x) * 3 + c] = static_cast<std::uint8_t>(std::clamp(base + noise, 0, 255));
      }
  return img;
}

}  // namespace yamiro
