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

// True for a PNG whose IHDR says gray + alpha (colour type 4).
bool is_gray_alpha_png(const std::vector<unsigned char>& bytes);

// The number of pages (IFDs) of TIFF bytes, following the chain of IFD offsets (an offset
// seen before ends it); 0 when the bytes are not TIFF.
int tiff_page_count(const std::vector<unsigned char>& bytes);

// SamplesPerPixel of a TIFF's first page (1 when the tag is absent); 0 when not TIFF.
int tiff_samples_per_pixel(const std::vector<unsigned char>& bytes);

// EXIF orientation (1-8) of JPEG bytes (APP1 "Exif"); 1 when absent or unreadable.
int exif_orientation(const std::vector<unsigned char>& bytes);

}  // namespace yamiro
