// CRC-32 and Adler-32: the checksums of ZIP and PNG (CRC-32) and of zlib streams (Adler-32).
#pragma once
#include <cstddef>
#include <cstdint>

namespace yamiro {

// CRC-32 (ISO-HDLC / IEEE 802.3, as ZIP, PNG and zlib use it) of `size` bytes, continuing
// from `crc` (0 to start). Slicing by 8, ~1.5 GB/s. Thread-safe.
std::uint32_t checksum_crc32(std::uint32_t crc, const unsigned char* data, std::size_t size);

// Adler-32 (RFC 1950) of `size` bytes, continuing from `adler` (1 to start). Thread-safe.
std::uint32_t checksum_adler32(std::uint32_t adler, const unsigned char* data, std::size_t size);

}  // namespace yamiro
