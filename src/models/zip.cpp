#include "models/zip.hpp"

#include <set>
#include <utility>

#include "yamiro/checksum.hpp"
#include "yamiro/error.hpp"

namespace yamiro::zip {
namespace {

constexpr std::uint32_t kLocalSig = 0x04034b50;
constexpr std::uint32_t kCentralSig = 0x02014b50;
constexpr std::uint32_t kEndSig = 0x06054b50;
constexpr std::size_t kLocalSize = 30;
constexpr std::size_t kCentralSize = 46;
constexpr std::size_t kEndSize = 22;
constexpr std::size_t kMaxComment = 0xFFFF;

std::uint16_t u16(const unsigned char* p) { return static_cast<std::uint16_t>(p[0] | (p[1] << 8)); }
std::uint32_t u32(const unsigned char* p) {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

[[noreturn]] void fail(const std::string& origin, const std::string& why) {
  throw Error(ErrorKind::Model, origin + ": " + why);
}

// The end of central directory record: the last signature whose comment length
// reaches exactly to the end of the file.
std::size_t find_end_record(ByteView b, const std::string& origin) {
  if (b.size < kEndSize) fail(origin, "truncated zip archive (no end of central directory)");
  const std::size_t lowest = b.size - kEndSize > kMaxComment ? b.size - kEndSize - kMaxComment : 0;
  for (std::size_t at = b.size - kEndSize + 1; at-- > lowest;) {
    if (u32(b.data + at) == kEndSig && at + kEndSize + u16(b.data + at + 20) == b.size) return at;
  }
  fail(origin, "truncated or corrupt zip archive (no end of central directory)");
}

}  // namespace

bool looks_like_zip(ByteView bytes) noexcept { return bytes.size >= 4 && u32(bytes.data) == kLocalSig; }

Archive::Archive(ByteView bytes, std::string origin) : bytes_(bytes), origin_(std::move(origin)) {
  const std::size_t end = find_end_record(bytes_, origin_);
  const unsigned char* e = bytes_.data + end;
  const std::uint16_t disk = u16(e + 4), cd_disk = u16(e + 6), disk_entries = u16(e + 8), total = u16(e + 10);
  const std::uint32_t cd_size = u32(e + 12), cd_offset = u32(e + 16);
  // torch.save (miniz) also writes a ZIP64 end record; the classic one is used unless
  // a field overflowed into it, which only archives over 4 GiB or 65535 entries need.
  if (total == 0xFFFF || disk_entries == 0xFFFF || cd_size == 0xFFFFFFFFu || cd_offset == 0xFFFFFFFFu)
    fail(origin_, "ZIP64 archive (over 4 GiB or 65535 entries) is not supported");
  if (disk != 0 || cd_disk != 0 || disk_entries != total) fail(origin_, "multi-disk zip archives are not supported");
  if (cd_offset > end || cd_size > end - cd_offset) fail(origin_, "zip central directory lies outside the file");
  if (static_cast<std::uint64_t>(total) * kCentralSize > cd_size)
    fail(origin_, "zip central directory is too small for " + std::to_string(total) + " entries");

  std::set<std::string> names;
  std::size_t at = cd_offset;
  const std::size_t cd_end = static_cast<std::size_t>(cd_offset) + cd_size;
  entries_.reserve(total);
  for (std::uint16_t i = 0; i < total; ++i) {
    if (cd_end - at < kCentralSize || u32(bytes_.data + at) != kCentralSig)
      fail(origin_, "corrupt zip central directory (entry " + std::to_string(i) + ")");
    const unsigned char* c = bytes_.data + at;
    const std::size_t name_len = u16(c + 28), extra_len = u16(c + 30), comment_len = u16(c + 32);
    const std::size_t record = kCentralSize + name_len + extra_len + comment_len;
    if (cd_end - at < record) fail(origin_, "corrupt zip central directory (entry " + std::to_string(i) + " overruns it)");
    Entry entry;
    entry.name.assign(reinterpret_cast<const char*>(c + kCentralSize), name_len);
    const std::uint16_t flags = u16(c + 8);
    entry.method = u16(c + 10);
    entry.crc32 = u32(c + 16);
    entry.compressed_size = u32(c + 20);
    entry.size = u32(c + 24);
    entry.header_offset = u32(c + 42);
    if (entry.compressed_size == 0xFFFFFFFFu || entry.size == 0xFFFFFFFFu || entry.header_offset == 0xFFFFFFFFu)
      fail(origin_, entry.name + ": ZIP64 entry (over 4 GiB) is not supported");
    if (flags & 0x0001) fail(origin_, entry.name + ": encrypted zip entries are not supported");
    if (entry.header_offset > cd_offset || entry.compressed_size > cd_offset - entry.header_offset)
      fail(origin_, entry.name + ": zip entry lies outside the file");
    if (!names.insert(entry.name).second) fail(origin_, entry.name + ": duplicate zip entry");
    entries_.push_back(std::move(entry));
    at += record;
  }
}

const Entry* Archive::find(const std::string& name) const noexcept {
  for (const auto& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

ByteView Archive::read(const Entry& entry) const {
  if (entry.method != 0)
    fail(origin_, entry.name + ": compressed zip entry (method " + std::to_string(entry.method) +
                      "); only stored entries are supported, as torch.save writes them");
  if (entry.compressed_size != entry.size) fail(origin_, entry.name + ": stored zip entry with two different sizes");
  const std::size_t at = static_cast<std::size_t>(entry.header_offset);
  if (bytes_.size - at < kLocalSize || u32(bytes_.data + at) != kLocalSig)
    fail(origin_, entry.name + ": bad zip local header");
  const unsigned char* l = bytes_.data + at;
  const std::size_t name_len = u16(l + 26), extra_len = u16(l + 28);
  const std::size_t start = at + kLocalSize + name_len + extra_len;
  // Sizes come from the central directory: torch.save writes zeros in local headers
  // (bit 3, data descriptor after the data).
  if (start > bytes_.size || entry.size > bytes_.size - start)
    fail(origin_, entry.name + ": zip entry data runs past the end of the file");
  if (std::string(reinterpret_cast<const char*>(l + kLocalSize), name_len) != entry.name)
    fail(origin_, entry.name + ": zip local header names another file");
  const ByteView data{bytes_.data + start, static_cast<std::size_t>(entry.size)};
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION  // lets the fuzzer reach the pickles inside
  if (checksum_crc32(0, data.data, data.size) != entry.crc32) fail(origin_, entry.name + ": CRC-32 mismatch (corrupt file)");
#endif
  return data;
}

}  // namespace yamiro::zip
