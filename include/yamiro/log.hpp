#pragma once

namespace yamiro {
// Sets up the stderr logger: verbosity -1 = quiet (errors only), 0 = normal, 1 = verbose.
// Call once, before other threads log.
void init_logging(int verbosity);
}  // namespace yamiro
