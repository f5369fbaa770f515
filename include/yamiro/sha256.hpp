// SHA-256 of files (FIPS 180-4), for model checksums.
// Thread-safety: the functions are thread-safe; one Sha256 object is used by one thread.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace yamiro {

// Incremental SHA-256, for data that arrives in pieces (downloads).
class Sha256 {
 public:
  void update(const void* data, std::size_t size);
  // The lower-case hex digest; finishes the hash (call once).
  std::string hex();

 private:
  void compress();
  std::array<std::uint32_t, 8> h_ = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                     0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  std::array<unsigned char, 64> block_{};
  std::size_t used_ = 0;
  std::uint64_t total_ = 0;
};

// Lower-case hex digest of `size` bytes at `data`.
std::string sha256_hex(const void* data, std::size_t size);
// Digest of a file, read in chunks. Throws Error(Io) when it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace yamiro
