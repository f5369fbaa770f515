#pragma once

namespace yamiro {
// Sets up the stderr logger: verbosity -1 = quiet (errors only), 0 = normal, 1 = verbose.
// What other libraries print to stderr (C stdio and std::cerr) is logged at debug level
// from then on. Call once, before other threads log.
void init_logging(int verbosity);
}  // namespace yamiro
