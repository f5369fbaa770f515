// cpp-httplib's server with the connection limits Debian's build (0.11) lacks: a deadline
// for each request's head and for its whole body, caps on the head's size and header
// count (431), and on connections in total and per client address (503). httplib's own
// socket loop only has a per-read timeout, so one byte every few seconds kept a worker
// thread forever and a few such connections took every thread (slowloris); it also read
// any number of header lines. Here each connection runs through GuardedServer's loop
// over a Stream that counts and times what it reads.
#pragma once
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>

#include "serve/server.hpp"  // ConnectionLimits

namespace yamiro::serve {

// How the last request on this thread ended early, for the error handler (which runs on
// the connection's thread): it turns httplib's generic 400 into 431 or 408.
enum class HeadFailure { None, TooLarge, TimedOut };
HeadFailure head_failure_on_this_thread();

// True for a Host header's host part that names this machine: "localhost" or a loopback
// address in any IPv4/IPv6 spelling ("127.0.0.1", "127.1", "::1", "[::1]").
bool is_loopback_host(const std::string& host);

class GuardedServer : public httplib::Server {
 public:
  explicit GuardedServer(ConnectionLimits limits);

  // After a bind: the address actually bound, numeric ("127.0.0.1", "::1"), and whether it
  // is a loopback address (decided from the socket, not from how --host was spelled).
  std::string bound_address() const;
  bool bound_to_loopback() const;

 private:
  bool process_and_close_socket(socket_t sock) override;
  bool admit(const std::string& client);
  void leave(const std::string& client);

  ConnectionLimits limits_;
  std::mutex mutex_;
  int open_ = 0;
  std::map<std::string, int> per_client_;
};

}  // namespace yamiro::serve
