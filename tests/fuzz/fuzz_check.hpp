// What every fuzz target checks (internal to tests/fuzz): a rejected input must end in
// a yamiro::Error with a one-line message that names the input; anything else (another
// exception, a crash, a sanitizer report) is a finding.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <string>

#include "yamiro/error.hpp"

namespace fuzz {

inline void check_error(const yamiro::Error& e, const std::string& origin) {
  const std::string what = e.what();
  if (what.empty() || what.find('\n') != std::string::npos || what.size() > 2100 ||
      what.compare(0, origin.size(), origin) != 0) {
    std::fprintf(stderr, "bad error message (%zu bytes): %.300s\n", what.size(), what.c_str());
    std::abort();
  }
}

}  // namespace fuzz
