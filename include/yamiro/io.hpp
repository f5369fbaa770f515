// Files: images through OpenCV (when built with it) and crash-safe output.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "yamiro/image.hpp"

namespace yamiro {

// Writes `bytes` to `path` through a temporary file in the same folder, then renames it
// into place, so a crash never leaves a truncated file under `path`. Without
// `overwrite`, an existing `path` is an Error(Io) and is left untouched (checked
// atomically at the rename). Throws Error(Io) naming the path and the reason.
void write_file_atomic(const std::string& path, const std::vector<unsigned char>& bytes, bool overwrite);

// Same, where `write` fills the temporary file itself (given its path, which keeps the
// final extension so encoders that go by extension work). Whatever `write` throws
// propagates after the temporary file is removed.
void write_file_atomic(const std::string& path, const std::function<void(const std::string& tmp_path)>& write,
                       bool overwrite);

// True when the two paths name the same file (same path, symlink or hard link).
bool same_file(const std::string& a, const std::string& b);

// Decodes an image file into RGB(A)/gray, 8 or 16 bit. Throws Error(Input) naming the
// file and the reason. Requires YAMIRO_HAVE_OPENCV.
Image read_image(const std::string& path);

// Checks that `path` has an extension we can write (.png .jpg .jpeg .webp .tif .tiff);
// throws Error(Usage) otherwise.
void check_output_format(const std::string& path);

// Writes an image atomically (see write_file_atomic), encoded for the extension of
// `path`; `quality` is used by JPEG and WebP. Takes the image by value: its pixels are
// reordered in place (RGB -> BGR for OpenCV) and encoded straight to the file, so a large
// output is never held twice; move it in when it is not needed afterwards.
// Throws Error(Usage) for an unknown extension, Error(Io) when writing fails.
void write_image(Image image, const std::string& path, int quality, bool overwrite);

// Raw planar float32 (CHW, RGB, little-endian): the goldens' format, for exact checks.
std::vector<unsigned char> encode_planar_f32(const PlanarImage& image);

bool image_io_available();

}  // namespace yamiro
