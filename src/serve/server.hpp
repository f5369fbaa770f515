// The HTTP side of `yamiro serve`: the page and the JSON API over a JobStore.
// cpp-httplib stays in server.cpp.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "serve/job_store.hpp"

namespace yamiro::serve {

// Deadlines and caps per connection (http_guard.hpp applies them).
struct ConnectionLimits {
  std::chrono::milliseconds head_timeout{10000};     // request line + headers, from their first byte
  std::chrono::milliseconds request_timeout{60000};  // head + body of one request
  std::size_t max_head_bytes = 64 * 1024;
  std::size_t max_header_lines = 100;
  int max_connections = 64;  // open at once, all clients together
  int max_per_client = 16;   // open at once from one address (on loopback every client is 127.0.0.1)
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                             // 0 = any free port
  std::string token;                           // "" = no token needed
  std::uint64_t max_upload_bytes = 64ULL << 20;
  std::vector<std::string> allowed_origins;    // --allow-origin: pages that may POST/DELETE
  ConnectionLimits connection;                 // deadlines and caps per connection
};

class Server {
 public:
  // `info` is what GET /api/info answers (the `yamiro info` profile plus the server's setup).
  Server(ServerOptions options, JobStore& jobs, nlohmann::json info);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the socket; returns the port (the chosen one for port 0).
  // Throws Error(Usage) when the address cannot be bound.
  int bind();
  // After bind(): the numeric address bound ("127.0.0.1" for --host 127.1), and whether it
  // is a loopback address (then only loopback Host names are answered).
  std::string bound_address() const;
  bool bound_to_loopback() const;
  // Serves until stop(); blocks the calling thread.
  void run();
  // Thread-safe; makes run() return.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The HTTP status a yamiro::Error of this kind answers with (docs/serve.md, "Errors"):
// usage 400, input 422, model 500, device 503, io 500, interrupted 503. Thread-safe.
int http_status(ErrorKind kind);

// "photo.png" from whatever a client sent as a file name: the last path component, only
// letters, digits, '.', '-', '_' and spaces kept (others become '_'), at most 100 chars,
// never starting with '.'; "image" when nothing is left. For display and download names only.
std::string display_name(const std::string& client_name);

}  // namespace yamiro::serve
