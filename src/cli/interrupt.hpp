// Ctrl-C: the first SIGINT/SIGTERM asks the running engine to stop at the next tile.
#pragma once
#include <atomic>

namespace yamiro::cli {

// Installs the handler; `flag` is set when a signal arrives. The flag must outlive the run.
void watch_interrupts(std::atomic<bool>& flag);

}  // namespace yamiro::cli
