#include "cli/interrupt.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <thread>

#include "yamiro/error.hpp"

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

Model load_model_interruptible(const std::string& name_or_path, bool trust_code, const std::atomic<bool>& cancel) {
  const auto interrupted = [] { return Error(ErrorKind::Interrupted, "interrupted while loading the model"); };
  if (const char* fault = std::getenv("YAMIRO_TEST_FAULT"); fault && std::string(fault) == "slow-model-load") {
    spdlog::debug("YAMIRO_TEST_FAULT: the model load is held for 3 s");  // the test signals then
    std::this_thread::sleep_for(std::chrono::seconds(3));
  }
  Model model;
  try {
    model = load_model(name_or_path, trust_code);
  } catch (const Error&) {
    if (cancel.load()) throw interrupted();  // a read cut short by the signal (EINTR)
    throw;
  }
  if (cancel.load()) throw interrupted();
  return model;
}

}  // namespace yamiro::cli
