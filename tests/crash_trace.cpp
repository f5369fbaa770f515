// Prints a stack trace to stderr when a test binary dies of SIGSEGV, SIGBUS, SIGILL or
// SIGFPE, then dies of the same signal. For crashes seen only on a machine without a
// debugger at hand (the GPU check machine); under ASan, ASan's own report comes first.
#include <execinfo.h>
#include <signal.h>
#include <unistd.h>

#include <cstring>
#include <initializer_list>

namespace {

void on_fatal_signal(int sig) {
  static const char kHead[] = "\n*** fatal signal; stack (addr2line -e <binary> -f -C the +0x offsets):\n";
  (void)!::write(STDERR_FILENO, kHead, sizeof kHead - 1);
  void* frames[64];
  const int n = ::backtrace(frames, 64);
  ::backtrace_symbols_fd(frames, n, STDERR_FILENO);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

const bool installed = [] {
  void* warm[1];
  ::backtrace(warm, 1);  // loads libgcc now, not inside the handler
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_fatal_signal;
  sa.sa_flags = SA_RESETHAND;
  for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE}) {
    struct sigaction old;
    // Leave a handler someone else installed (a sanitizer runtime) alone.
    if (::sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_DFL) ::sigaction(sig, &sa, nullptr);
  }
  return true;
}();

}  // namespace
