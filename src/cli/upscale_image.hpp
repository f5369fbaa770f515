// One image through the network the way `yamiro upscale` does it: alpha handling,
// --outscale and the memory check. Shared by `upscale` and `serve`, so both give the
// same pixels for the same options.
#pragma once
#include <string>

#include "yamiro/engine.hpp"
#include "yamiro/image.hpp"

namespace yamiro::cli {

struct ImageOptions {
  std::string alpha = "model";  // model | bicubic
  double outscale = 0;          // 0 = the model's scale
};

// Throws Error(Usage) for an alpha mode or outscale out of range (the CLI's messages).
void check_image_options(const ImageOptions& options);

// Throws Error(Input) "<name>: the WxH output needs N MiB, more than the M MiB available"
// when the output of `input` could not be held in memory, before anything is allocated.
void check_output_fits(const Image& input, const ImageOptions& options, int model_scale, const std::string& name);

// Upscales `input` with `engine` (alpha plane through the network or bicubic), then
// resizes to --outscale when it differs from the model's scale. Throws what
// Engine::upscale throws. Not thread-safe for one engine (see Engine).
Image upscale_image(Engine& engine, const Image& input, const ImageOptions& options, Progress* progress);

}  // namespace yamiro::cli
