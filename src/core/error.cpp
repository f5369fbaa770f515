#include "yamiro/error.hpp"

namespace yamiro {

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
