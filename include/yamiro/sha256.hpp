// SHA-256 of files (FIPS 180-4), for model checksums.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace yamiro {

// Lower-case hex digest of `size` bytes at `data`.
std::string sha256_hex(const void* data, std::size_t size);
// Digest of a file, read in chunks. Throws Error(Io) when it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace yamiro
