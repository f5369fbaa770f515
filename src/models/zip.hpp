// A minimal, bounds-checked ZIP reader (internal), enough for torch.save archives:
// end of central directory, central directory, local headers, stored (uncompressed)
// entries with a CRC-32 check. Compressed, encrypted, multi-disk and ZIP64-sized
// archives are refused with a clear error. The archive never owns the bytes.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace yamiro::zip {

// A read-only view of bytes owned by someone else.
struct ByteView {
  const unsigned char* data = nullptr;
  std::size_t size = 0;
};

struct Entry {
  std::string name;
  std::uint16_t method = 0;         // 0 = stored
  std::uint32_t crc32 = 0;          // from the central directory
  std::uint64_t compressed_size = 0;
  std::uint64_t size = 0;           // uncompressed
  std::uint64_t header_offset = 0;  // of the local file header
};

// True when `bytes` starts with a local file header signature ("PK\3\4").
bool looks_like_zip(ByteView bytes) noexcept;

class Archive {
 public:
  // Parses the central directory of `bytes`, which must outlive the archive. `origin`
  // names the file in error messages. Throws Error(Model) for a missing or
  // inconsistent end record or central directory, ZIP64-sized fields, multi-disk or
  // encrypted archives, entries that point outside the file, or duplicate names.
  Archive(ByteView bytes, std::string origin);

  const std::vector<Entry>& entries() const noexcept { return entries_; }

  // The entry called `name`, or nullptr.
  const Entry* find(const std::string& name) const noexcept;

  // The bytes of a stored entry, checked against its CRC-32. Throws Error(Model) for a
  // compressed entry, a bad local header, data past the end of the file or a CRC mismatch.
  ByteView read(const Entry& entry) const;

 private:
  ByteView bytes_;
  std::string origin_;
  std::vector<Entry> entries_;
};


}  // namespace yamiro::zip
