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

// Parses a manifest. Throws Error(Model) naming the file for malformed JSON or entries.
std::vector<ManifestEntry> read_manifest(const std::string& path);

// The first model directory holding every file of `entry`, or "" when it is not installed.
std::string installed_dir(const ManifestEntry& entry);

}  // namespace yamiro
