#include "cli/interrupt.hpp"

#include <csignal>

namespace yamiro::cli {
namespace {

std::atomic<std::atomic<bool>*> g_flag{nullptr};

extern "C" void on_signal(int) {
  if (auto* f = g_flag.load()) f->store(true);
}

}  // namespace

void watch_interrupts(std::atomic<bool>& flag) {
  g_flag.store(&flag);
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

}  // namespace yamiro::cli
