// Image files through OpenCV (when built with it); crash-safe writing is in atomic_file.hpp.
// Thread-safety: every function here may run on several threads at once (no shared state;
// serve decodes and encodes on its workers while the batch pipeline runs its own threads).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <utility>
#include <string>
#include <vector>

#include "yamiro/atomic_file.hpp"  // write_file_atomic, same_file (core)
#include "yamiro/image.hpp"

namespace yamiro {

// Limits checked before an image is decoded.
struct ReadLimits {
  std::int64_t max_pixels = 16384LL * 16384LL;  // width * height from the header
};

// Decodes an image file into RGB(A)/gray, 8 or 16 bit (depth from the decoder), with its
// EXIF orientation applied. The header's dimensions are checked against `limits` before
// anything is decoded, so a decompression bomb is refused without allocating it.
// Only regular files are read (opened without blocking, so a FIFO or a device is refused
// at once); a file larger than 8 bytes a pixel of `max_pixels` plus 64 MiB is refused by
// its size before reading, and one far larger than its header's dimensions need after the
// first 256 KiB. Throws Error(Input) naming the file and the reason. Requires YAMIRO_HAVE_OPENCV.
Image read_image(const std::string& path, const ReadLimits& limits = {});

// Same for image bytes already in memory (an upload); `name` only labels the messages.
// Throws Error(Input) "<name>: <reason>". Requires YAMIRO_HAVE_OPENCV.
Image decode_image(const std::vector<unsigned char>& bytes, const std::string& name, const ReadLimits& limits = {});

// High-quality resize: Lanczos-4 when enlarging, pixel-area averaging when shrinking.
Image resize_image(const Image& image, int width, int height);
// Cubic resize of one plane (alpha with --alpha bicubic).
Image resize_cubic(const Image& image, int width, int height);

// RGBA -> (RGB, A) and gray+alpha -> (gray, A): the last channel apart; and back
// (merge_alpha appends `alpha`, same size and depth, as the last channel). Thread-safe.
std::pair<Image, Image> split_alpha(const Image& image);
Image merge_alpha(const Image& colour, const Image& alpha);

// Checks that `path` has an extension we can write (.png .jpg .jpeg .webp .tif .tiff);
// throws Error(Usage) otherwise.
void check_output_format(const std::string& path);

// Writes an image atomically (see write_file_atomic), encoded for the extension of
// `path`; `quality` is used by JPEG and WebP. Takes the image by value: its pixels are
// reordered in place (RGB -> BGR for OpenCV); outputs up to 64 MiB of pixels are encoded
// in memory and then written (every write checked, the reason named), larger ones are
// encoded straight to the file so a large output is never held twice; move it in when
// it is not needed afterwards.
// Throws Error(Usage) for an unknown extension, Error(Io) naming the path and the reason
// (e.g. "No space left on device") when encoding or writing fails; nothing is left
// under `path` or as a temporary file then.
void write_image(Image image, const std::string& path, int quality, bool overwrite);

// Encodes an image in memory for the extension `ext` (".png", ".jpg", ...), with the
// same encoder settings as write_image, so the bytes equal the file write_image makes.
// Throws Error(Usage) for an unknown extension, Error(Io) when encoding fails.
std::vector<unsigned char> encode_image(Image image, const std::string& ext, int quality);

// Raw planar float32 (CHW, RGB, little-endian): the goldens' format, for exact checks.
std::vector<unsigned char> encode_planar_f32(const PlanarImage& image);

bool image_io_available();
// "4.6.0" (OpenCV's version), or "" when built without OpenCV.
std::string image_library_version();

}  // namespace yamiro
