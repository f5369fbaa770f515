// Ctrl-C: the first SIGINT/SIGTERM asks the running engine to stop at the next tile.
#pragma once
#include <atomic>

namespace yamiro::cli {

// Installs the handler; `flag` is set when a signal arrives. With `first`, the first signal
// sets only *first and the later ones `flag` (live video: finish the output, then abort).
// The flags must outlive the run.
void watch_interrupts(std::atomic<bool>& flag, std::atomic<bool>* first = nullptr);

}  // namespace yamiro::cli
