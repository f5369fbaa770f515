#include "yamiro/error.hpp"

#include <algorithm>
#include <exception>
#include <new>

namespace yamiro {

std::string one_line(const std::string& text) {
  constexpr std::size_t kMax = 2000;
  std::string out;
  out.reserve(std::min(text.size(), kMax + 8));
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (out.size() >= kMax) {
      out += "...";
      break;
    }
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
      static const char hex[] = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += ch;
    }
  }
  return out;
}

Error current_error(const std::string& context, ErrorKind fallback) {
  const std::string prefix = context.empty() ? "" : context + ": ";
  try {
    throw;
  } catch (const Error& e) {
    return e;  // already names what failed
  } catch (const std::bad_alloc&) {
    return Error(fallback, prefix + "out of memory");
  } catch (const std::exception& e) {
    return Error(fallback, prefix + e.what());
  } catch (...) {
    return Error(fallback, prefix + "unknown error");
  }
}

int exit_code(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::Usage: return kExitUsage;
    case ErrorKind::Input: return kExitFailed;
    case ErrorKind::Model: return kExitModel;
    case ErrorKind::Device: return kExitDevice;
    case ErrorKind::Io: return kExitFailed;
    case ErrorKind::Interrupted: return kExitInterrupted;
  }
  return kExitFailed;
}

const char* to_string(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::Usage: return "usage";
    case ErrorKind::Input: return "input";
    case ErrorKind::Model: return "model";
    case ErrorKind::Device: return "device";
    case ErrorKind::Io: return "io";
    case ErrorKind::Interrupted: return "interrupted";
  }
  return "unknown";
}

}  // namespace yamiro
