// Small path helpers used from several layers. Pure functions, thread-safe.
#pragma once
#include <string>

namespace yamiro {

// The extension of `path` in lower case (ASCII), with its dot ("" when there is none).
std::string lower_extension(const std::string& path);

}  // namespace yamiro
