#include "cli/interrupt.hpp"

#include <csignal>

namespace yamiro::cli {
namespace {

std::atomic<std::atomic<bool>*> g_flag{nullptr};
std::atomic<std::atomic<bool>*> g_first{nullptr};  // taken by the first signal only

extern "C" void on_signal(int) {
  if (auto* first = g_first.exchange(nullptr)) first->store(true);
  else if (auto* f = g_flag.load()) f->store(true);
}

}  // namespace

void watch_interrupts(std::atomic<bool>& flag, std::atomic<bool>* first) {
  g_flag.store(&flag);
  g_first.store(first);
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

}  // namespace yamiro::cli
