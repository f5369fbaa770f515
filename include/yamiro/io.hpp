// Files: images through OpenCV (when built with it) and crash-safe output.
#pragma once
#include <string>
#include <vector>

#include "yamiro/image.hpp"

namespace yamiro {

// Writes `bytes` to `path` through a temporary file in the same folder, then renames it
// into place, so a crash never leaves a truncated file under `path`. Without
// `overwrite`, an existing `path` is an Error(Io) and is left untouched (checked
// atomically at the rename). Throws Error(Io) naming the path and the reason.
void write_file_atomic(const std::string& path, const std::vector<unsigned char>& bytes, bool overwrite);

// True when the two paths name the same file (same path, symlink or hard link).
bool same_file(const std::string& a, const std::string& b);

// Decodes an image file into RGB(A)/gray, 8 or 16 bit. Throws Error(Input) naming the
// file and the reason. Requires YAMIRO_HAVE_OPENCV.
Image read_image(const std::string& path);

// Encodes an image for the extension of `path` (.png .jpg .jpeg .webp .tif .tiff).
// `quality` is used by JPEG and WebP. Throws Error(Usage) for an unknown extension.
std::vector<unsigned char> encode_image(const Image& image, const std::string& path, int quality);

// Raw planar float32 (CHW, RGB, little-endian): the goldens' format, for exact checks.
std::vector<unsigned char> encode_planar_f32(const PlanarImage& image);

bool image_io_available();

}  // namespace yamiro
