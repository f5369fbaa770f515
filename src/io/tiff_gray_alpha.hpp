// Gray+alpha (2-channel) TIFF read and written with libtiff directly: OpenCV's TIFF
// decoder drops such a file's alpha and its encoders take no 2-channel image.
// Private to src/io (image_io.cpp routes 2-channel TIFFs here).
// Thread-safety: every call uses its own libtiff handle and error sink; thread-safe.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "yamiro/image.hpp"

namespace yamiro {

// Decodes a one-page TIFF of two samples a pixel (gray, then alpha; 8 or 16 bits, unsigned,
// chunky or planar, stripped or tiled, any compression this libtiff was built with) into a
// 2-channel Image of that depth. Alpha that the file marks as associated (premultiplied) is
// converted to unassociated, as PNG holds it; MinIsWhite gray is inverted. The pixel count
// is checked against `max_pixels` from the directory before anything is decoded. Throws
// Error(Input) "NAME: reason" (one line) for a damaged, truncated or unsupported file.
Image decode_tiff_gray_alpha(const std::vector<unsigned char>& bytes, const std::string& name, std::int64_t max_pixels);

// Encodes a 2-channel Image as a one-page gray+alpha TIFF (unassociated alpha, LZW with a
// horizontal predictor). Throws Error(Io) "what: reason" when libtiff fails.
std::vector<unsigned char> encode_tiff_gray_alpha(const Image& image, const std::string& what);

// The same, written to the file `path` (a new temporary file: it is created or truncated).
// Throws Error(Io) naming `what` and, where the system said it, the reason (no space...).
void write_tiff_gray_alpha(const Image& image, const std::string& path, const std::string& what);

}  // namespace yamiro
