// One image through the network: the path `upscale`, `serve` and the library share.
#include "yamiro/pipeline.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "yamiro/error.hpp"
#include "yamiro/io.hpp"
#include "yamiro/system.hpp"

namespace yamiro {

void check_image_options(const ImageOptions& o) {
  if (!(o.outscale >= 0) || o.outscale > 64) throw Error(ErrorKind::Usage, "--outscale must be a positive factor up to 64");
  if (o.alpha != "model" && o.alpha != "bicubic") throw Error(ErrorKind::Usage, "--alpha must be model or bicubic");
}

void check_output_fits(const Image& input, const ImageOptions& o, int model_scale, const std::string& name) {
  const double s = o.outscale > 0 ? o.outscale : model_scale;
  const double bytes =
      std::ceil(input.width * s) * std::ceil(input.height * s) * input.channels * input.depth_bytes * (o.outscale > 0 ? 2.0 : 1.0);
  const double avail = static_cast<double>(available_memory_bytes());
  if (avail > 0 && bytes > avail * 0.8)
    throw Error(ErrorKind::Input, name + ": the " + std::to_string(static_cast<long long>(input.width * s)) + "x" +
                                      std::to_string(static_cast<long long>(input.height * s)) + " output needs " +
                                      std::to_string(static_cast<long long>(bytes / 1048576)) + " MiB, more than the " +
                                      std::to_string(static_cast<long long>(avail / 1048576)) + " MiB available");
}

Image upscale_image(Engine& engine, const Image& input, const ImageOptions& o, Progress* progress) {
  Image out;
  if (input.channels == 2) {
    // Gray+alpha stays gray+alpha: the gray plane through the network, the alpha plane as
    // RGBA's is (through the network as gray, or bicubic).
    auto [gray, alpha] = split_alpha(input);
    Image g = engine.upscale(gray, progress);
    Image a = o.alpha == "bicubic" ? resize_cubic(alpha, g.width, g.height) : engine.upscale(alpha, progress);
    out = merge_alpha(g, a);
  } else if (input.channels == 4 && o.alpha == "bicubic") {
    auto [rgb, alpha] = split_alpha(input);
    out = engine.upscale(rgb, progress);
    out = merge_alpha(out, resize_cubic(alpha, out.width, out.height));
  } else {
    out = engine.upscale(input, progress);
  }
  if (o.outscale > 0 && o.outscale != engine.scale()) {
    const int w = std::max(1, static_cast<int>(std::lround(input.width * o.outscale)));
    const int h = std::max(1, static_cast<int>(std::lround(input.height * o.outscale)));
    out = resize_image(out, w, h);
  }
  return out;
}

Image upscale_one(Engine& engine, const Image& input, const ImageOptions& options, Progress* progress,
                  const std::string& name) {
  try {
    return upscale_image(engine, input, options, progress);
  } catch (const Error&) {
    throw;
  } catch (...) {
    // The engine turns LibTorch's errors into Error(Device) naming the tile; what is left
    // here (a host allocation in a resize, an OpenCV error) belongs to this image.
    throw current_error(name + ": upscaling", ErrorKind::Input);
  }
}

}  // namespace yamiro
