// Ctrl-C: the first SIGINT/SIGTERM asks the running engine to stop at the next tile.
#pragma once
#include <atomic>
#include <string>

#include "yamiro/model.hpp"

namespace yamiro::cli {

// Installs the handler; `flag` is set when a signal arrives. With `first`, the first signal
// sets only *first and the later ones `flag` (live video: finish the output, then abort).
// The flags must outlive the run.
void watch_interrupts(std::atomic<bool>& flag, std::atomic<bool>* first = nullptr);

// load_model() under a handler already installed with watch_interrupts(cancel): a signal
// during the load (seconds for a big model) throws Error(Interrupted) "interrupted while
// loading the model" instead of a model, or instead of the read error a signal caused
// (EINTR); other errors pass through. YAMIRO_TEST_FAULT=slow-model-load holds the load for
// 3 s first (logged at debug level) so that tests can signal inside it.
Model load_model_interruptible(const std::string& name_or_path, bool trust_code, const std::atomic<bool>& cancel);

}  // namespace yamiro::cli
