// Input discovery and output naming for `yamiro upscale` (no image library needed).
// Thread-safety: every function here is thread-safe (no shared state; collect_inputs only
// reads the file system).
#pragma once
#include <string>
#include <vector>

#include "yamiro/paths.hpp"  // lower_extension

namespace yamiro {

// One image to process. `relative` is its path below the directory it was found in
// ("" for a file given directly), used to mirror sub-folders under -o DIR.
struct InputItem {
  std::string path;
  std::string relative_dir;
};


// True for the extensions yamiro reads (png, jpg, jpeg, webp, tif, tiff, bmp; any case).
bool is_image_path(const std::string& path);
// True for the image extensions yamiro writes (png, jpg, jpeg, webp, tif, tiff; any case).
bool is_writable_image_path(const std::string& path);

// Expands files and directories (recursively with `recursive`) into a sorted list of
// images. Files named directly are kept whatever their extension (they will fail
// clearly if they are not images); inside directories only image files are taken and
// everything else (Thumbs.db, .DS_Store, hidden files) is skipped quietly.
// A path that does not exist is kept, so that it is reported as a failed input.
std::vector<InputItem> collect_inputs(const std::vector<std::string>& args, bool recursive);

struct NamingOptions {
  std::string output;        // -o: "" (beside the input), a file, or a directory
  bool output_is_dir = false;
  std::string suffix;        // "" = "_x<scale>"
  std::string format;        // --format: "" = from -o's extension, else the input's
  double scale = 4;          // the final scale (model scale x outscale), for the suffix
};

// The output extension for an input: -o's extension (file mode), else --format, else the
// input's own (BMP, which yamiro does not write, becomes PNG). Lower case with a dot.
std::string output_extension(const std::string& input, const NamingOptions& options);

// photo.png -> photo_x4.png beside it; under -o DIR: DIR/<relative_dir>/photo_x4.png;
// -o FILE: FILE. Throws Error(Usage) for an unknown --format.
std::string output_path(const InputItem& item, const NamingOptions& options);

// "_x4", "_x2.5": the default suffix for a scale.
std::string default_suffix(double scale);

// Deterministic shard membership: item `index`-th of a sorted list belongs to shard
// i of n when (stable hash of its path) % n == i. Throws Error(Usage) for bad I/N.
bool in_shard(const std::string& path, int shard, int shards);

}  // namespace yamiro
