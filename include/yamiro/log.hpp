#pragma once

namespace yamiro {
// Sets up the stderr logger: verbosity -1 = quiet (errors only), 0 = normal, 1 = verbose.
// What other libraries print to std::cerr is logged at debug level from then on (yamiro's
// own code writes to stderr through spdlog or C stdio, never std::cerr).
// Call once, before other threads log.
void init_logging(int verbosity);

// While one of these exists, what C code prints to stdio's `stderr` (libpng, libjpeg and
// libtiff about a corrupt file) is logged at debug level too: an input that fails gives
// one error line, -v still shows the detail. Put it around codec calls only: yamiro's
// progress line, written to `stderr` from other threads meanwhile, would be logged too
// (a lost redraw). Nestable and thread-safe; a no-op before init_logging.
class LibraryOutputToLog {
 public:
  LibraryOutputToLog();
  ~LibraryOutputToLog();
  LibraryOutputToLog(const LibraryOutputToLog&) = delete;
  LibraryOutputToLog& operator=(const LibraryOutputToLog&) = delete;
};
}  // namespace yamiro
