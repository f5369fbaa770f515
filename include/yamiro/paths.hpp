// Small path helpers used from several layers. Pure functions, thread-safe.
#pragma once
#include <string>

namespace yamiro {

// The extension of `path` in lower case (ASCII), with its dot ("" when there is none).
std::string lower_extension(const std::string& path);

// What kind of file a stat() mode is, for messages: "a regular file", "a directory", "a
// FIFO", "a character device" ("/dev/zero"), "a block device", "a socket".
std::string file_kind(unsigned mode);

// Why `path` is no file yamiro opens as an input: "" for a regular file (links followed);
// else "no such file", "a directory", "a FIFO", "a character device", ... Never blocks
// (stat only, nothing is opened).
std::string not_a_regular_file(const std::string& path);

}  // namespace yamiro
