// libFuzzer target: the image header checks run before decoding (dimensions for
// --max-pixels, EXIF orientation). They must never read out of bounds and must
// report dimensions the limit check can multiply without overflow.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstdint>
#include <climits>
#include <vector>

#include "yamiro/image_header.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<unsigned char> bytes(data, data + size);
  if (const auto h = yamiro::probe_image_header(bytes)) {
    if (h->width < 0 || h->height < 0 || h->width > (1LL << 32) || h->height > (1LL << 32)) std::abort();
    if (h->format.empty()) std::abort();
    // The --max-pixels check (default and extremes) must hold for any header.
    for (const std::int64_t max : {std::int64_t{16384} * 16384, std::int64_t{1}, INT64_MAX})
      if (!yamiro::exceeds_pixels(*h, max) && (h->width <= 0 || h->height <= 0 || h->width > max / h->height)) std::abort();
  }
  const int o = yamiro::exif_orientation(bytes);
  if (o < 1 || o > 8) std::abort();
  return 0;
}
