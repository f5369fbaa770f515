// Image headers read without decoding: dimensions for limits, EXIF orientation.
// Thread-safety: pure functions of their arguments, thread-safe.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace yamiro {

struct ImageHeader {
  std::string format;  // "png", "jpeg", "webp", "bmp", "tiff"
  std::int64_t width = 0;
  std::int64_t height = 0;
};

// Dimensions from the header of PNG, JPEG, WebP, BMP or TIFF bytes; nullopt when the
// format is not recognised or the header is cut short. Never reads out of bounds.
std::optional<ImageHeader> probe_image_header(const std::vector<unsigned char>& bytes);

// True when the header's width x height is over `max_pixels` (or either side is not
// positive), computed without overflow: PNG and TIFF sides go up to 2^32 - 1.
bool exceeds_pixels(const ImageHeader& header, std::int64_t max_pixels);

// EXIF orientation (1-8) of JPEG bytes (APP1 "Exif"); 1 when absent or unreadable.
int exif_orientation(const std::vector<unsigned char>& bytes);

}  // namespace yamiro
