// yamiro's single error type. Thrown inside the library, caught once in main and
// mapped to the exit codes documented in the README (SPEC §8).
#pragma once
#include <stdexcept>
#include <string>

namespace yamiro {

enum class ErrorKind {
  Usage,        // bad command line or option value            -> exit 2
  Input,        // an input file is missing, corrupt or refused -> exit 1
  Model,        // a model cannot be found, read or understood  -> exit 3
  Device,       // a device is missing or failed                -> exit 4
  Io,           // an output cannot be written                  -> exit 1
  Interrupted,  // cancelled by the user                        -> exit 130
};

// `text` as one line of at most 2000 bytes: line breaks and other control characters
// become \n, \r, \xHH escapes, and a longer text is cut with "...". Thread-safe.
std::string one_line(const std::string& text);

class Error : public std::runtime_error {
 public:
  // The message is made one printable line (see one_line): it may quote file contents.
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(one_line(message)), kind_(kind) {}
  ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

// The exception being handled as a one-line Error, for carrying it out of a worker thread
// or across a library boundary: an Error keeps its kind and message; any other exception
// becomes Error(`fallback`) with its message (std::bad_alloc: "out of memory"), prefixed
// by `context` (e.g. "a.png: encoding") unless empty. Call it only inside a catch block.
// Thread-safe.
Error current_error(const std::string& context, ErrorKind fallback);

// Process exit codes (SPEC §8).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitModel = 3;
inline constexpr int kExitDevice = 4;
inline constexpr int kExitInterrupted = 130;

// The exit code a run that ends with an error of this kind returns.
int exit_code(ErrorKind kind) noexcept;
const char* to_string(ErrorKind kind) noexcept;

}  // namespace yamiro
