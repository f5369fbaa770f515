// The HTTP side of `yamiro serve`: the page and the JSON API over a JobStore.
// cpp-httplib stays in server.cpp.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>

#include "serve/job_store.hpp"

namespace yamiro::serve {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                             // 0 = any free port
  std::string token;                           // "" = no token needed
  std::uint64_t max_upload_bytes = 64ULL << 20;
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
