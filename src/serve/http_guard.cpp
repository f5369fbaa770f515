#include "serve/http_guard.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace yamiro::serve {
namespace {

using Clock = std::chrono::steady_clock;

thread_local HeadFailure t_failure = HeadFailure::None;

bool loopback_sockaddr(const sockaddr_storage& a) {
  if (a.ss_family == AF_INET) return (ntohl(reinterpret_cast<const sockaddr_in&>(a).sin_addr.s_addr) >> 24) == 127;
  if (a.ss_family == AF_INET6) {
    const in6_addr& v6 = reinterpret_cast<const sockaddr_in6&>(a).sin6_addr;
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;
}

std::string numeric(const sockaddr_storage& a, socklen_t len, int* port) {
  char host[NI_MAXHOST] = "", serv[NI_MAXSERV] = "";
  if (::getnameinfo(reinterpret_cast<const sockaddr*>(&a), len, host, sizeof host, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
    return "";
  if (port) *port = std::atoi(serv);
  return host;
}

// The connection as httplib reads it, with the limits applied to every byte handed over.
class GuardedStream : public httplib::Stream {
 public:
  GuardedStream(socket_t sock, const ConnectionLimits& limits, const std::atomic<socket_t>& listener, time_t read_timeout_s,
                time_t write_timeout_s)
      : sock_(sock), limits_(limits), listener_(listener), read_timeout_(std::chrono::seconds(read_timeout_s)),
        write_timeout_(std::chrono::seconds(write_timeout_s)) {}

  // A new request starts: its deadlines run from now.
  void start_request() {
    const auto now = Clock::now();
    in_head_ = true;
    head_bytes_ = lines_ = line_len_ = 0;
    prev_ = 0;
    head_deadline_ = now + limits_.head_timeout;
    request_deadline_ = now + limits_.request_timeout;
    failure_ = HeadFailure::None;
  }
  HeadFailure failure() const { return failure_; }
  bool timed_out() const { return timed_out_; }

  // Waits until a byte can be read, the per-read timeout passes, the request's deadline
  // passes or the server stops; false unless readable.
  bool wait_readable(Clock::time_point until) const {
    while (listener_.load() != INVALID_SOCKET) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
      if (left <= 0) return false;
      pollfd p{sock_, POLLIN, 0};
      const int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 100)));
      if (r > 0) return true;
      if (r < 0 && errno != EINTR) return false;
    }
    return false;
  }

  bool has_buffered() const { return pos_ < len_; }
  bool is_readable() const override { return has_buffered() || wait_readable(read_until()); }

  bool is_writable() const override {
    pollfd p{sock_, POLLOUT, 0};
    return ::poll(&p, 1, static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(write_timeout_).count())) > 0 &&
           !(p.revents & (POLLERR | POLLHUP));
  }

  ssize_t read(char* ptr, size_t size) override {
    if (failure_ != HeadFailure::None) return -1;
    if (pos_ >= len_) {
      if (!wait_readable(read_until())) {
        timed_out_ = true;
        if (in_head_) fail(HeadFailure::TimedOut);
        return -1;
      }
      const ssize_t n = ::recv(sock_, buf_, sizeof buf_, 0);
      if (n <= 0) return n;
      pos_ = 0;
      len_ = static_cast<std::size_t>(n);
    }
    std::size_t n = std::min(size, len_ - pos_);
    if (in_head_) {
      // Hand over the head byte by byte as it is counted (httplib reads lines a byte at a
      // time anyway): the blank line ends it.
      for (std::size_t i = 0; i < n; ++i) {
        // httplib ends the head at the first "\r\n" line only (it skips bare "\n" lines).
        const char c = buf_[pos_ + i];
        ++head_bytes_;
        ++line_len_;
        if (c == '\n') {
          ++lines_;
          const bool blank = line_len_ == 2 && prev_ == '\r';
          line_len_ = 0;
          if (blank && lines_ > 1) {
            in_head_ = false;
            prev_ = 0;
            n = i + 1;
            break;
          }
        }
        prev_ = c;
        if (head_bytes_ > limits_.max_head_bytes || lines_ > limits_.max_header_lines + 1) {
          fail(HeadFailure::TooLarge);
          return -1;
        }
      }
    }
    std::memcpy(ptr, buf_ + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable()) return -1;
    return ::send(sock_, ptr, size, MSG_NOSIGNAL);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    if (::getpeername(sock_, reinterpret_cast<sockaddr*>(&a), &len) == 0) ip = numeric(a, len, &port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    if (::getsockname(sock_, reinterpret_cast<sockaddr*>(&a), &len) == 0) ip = numeric(a, len, &port);
  }
  socket_t socket() const override { return sock_; }

 private:
  Clock::time_point read_until() const {
    return std::min(Clock::now() + read_timeout_, in_head_ ? std::min(head_deadline_, request_deadline_) : request_deadline_);
  }
  void fail(HeadFailure f) {
    failure_ = f;
    t_failure = f;
  }

  socket_t sock_;
  const ConnectionLimits& limits_;
  const std::atomic<socket_t>& listener_;
  std::chrono::seconds read_timeout_, write_timeout_;
  char buf_[4096];
  std::size_t pos_ = 0, len_ = 0;
  bool in_head_ = true, timed_out_ = false;
  std::size_t head_bytes_ = 0, lines_ = 0, line_len_ = 0;
  char prev_ = 0;
  Clock::time_point head_deadline_, request_deadline_;
  HeadFailure failure_ = HeadFailure::None;
};

// Closes without losing the answer: after a refused head the client may still be sending,
// and closing with unread bytes would reset the connection before it reads the answer.
void close_gently(socket_t sock) {
  ::shutdown(sock, SHUT_WR);
  const auto until = Clock::now() + std::chrono::milliseconds(300);
  char sink[4096];
  std::size_t drained = 0;
  while (Clock::now() < until && drained < (1u << 20)) {
    pollfd p{sock, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const ssize_t n = ::recv(sock, sink, sizeof sink, 0);
    if (n <= 0) break;
    drained += static_cast<std::size_t>(n);
  }
  ::close(sock);
}

void refuse(socket_t sock, const std::string& why) {
  const std::string body = "{\"error\":\"" + why + "\",\"status\":503}";
  const std::string head = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: " +
                           std::to_string(body.size()) + "\r\nConnection: close\r\nRetry-After: 5\r\n\r\n";
  const std::string all = head + body;
  (void)!::send(sock, all.data(), all.size(), MSG_NOSIGNAL);
  close_gently(sock);
}

}  // namespace

HeadFailure head_failure_on_this_thread() { return t_failure; }

bool is_loopback_host(const std::string& host) {
  if (host == "localhost") return true;
  std::string h = host;
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  in_addr v4{};
  if (::inet_aton(h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  sockaddr_storage a{};
  auto& v6 = reinterpret_cast<sockaddr_in6&>(a);
  if (::inet_pton(AF_INET6, h.c_str(), &v6.sin6_addr) == 1) {
    a.ss_family = AF_INET6;
    return loopback_sockaddr(a);
  }
  return false;
}

GuardedServer::GuardedServer(ConnectionLimits limits) : limits_(limits) {
  // More workers than connections admitted: a connection over the caps is always answered
  // (503) at once instead of waiting in the queue behind the slow ones.
  const std::size_t workers = static_cast<std::size_t>(limits_.max_connections) + 4;
  new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
}

std::string GuardedServer::bound_address() const {
  sockaddr_storage a{};
  socklen_t len = sizeof a;
  if (::getsockname(svr_sock_.load(), reinterpret_cast<sockaddr*>(&a), &len) != 0) return "";
  std::string ip = numeric(a, len, nullptr);
  if (a.ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&reinterpret_cast<sockaddr_in6&>(a).sin6_addr) && ip.rfind("::ffff:", 0) == 0)
    ip = ip.substr(7);
  return ip;
}

bool GuardedServer::bound_to_loopback() const {
  sockaddr_storage a{};
  socklen_t len = sizeof a;
  return ::getsockname(svr_sock_.load(), reinterpret_cast<sockaddr*>(&a), &len) == 0 && loopback_sockaddr(a);
}

bool GuardedServer::admit(const std::string& client) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (open_ >= limits_.max_connections || per_client_[client] >= limits_.max_per_client) return false;
  ++open_;
  ++per_client_[client];
  return true;
}

void GuardedServer::leave(const std::string& client) {
  std::lock_guard<std::mutex> lock(mutex_);
  --open_;
  if (--per_client_[client] <= 0) per_client_.erase(client);
}

bool GuardedServer::process_and_close_socket(socket_t sock) {
  GuardedStream strm(sock, limits_, svr_sock_, read_timeout_sec_ > 0 ? read_timeout_sec_ : 5,
                     write_timeout_sec_ > 0 ? write_timeout_sec_ : 5);
  std::string client;
  int port = 0;
  strm.get_remote_ip_and_port(client, port);
  if (!admit(client)) {
    refuse(sock, "too many connections (from this address or in all); retry later");
    return false;
  }
  bool ok = false;
  // httplib's keep-alive loop, with a fresh deadline per request.
  for (std::size_t count = std::max<std::size_t>(keep_alive_max_count_, 1); count > 0; --count) {
    if (!strm.has_buffered() && !strm.wait_readable(Clock::now() + std::chrono::seconds(keep_alive_timeout_sec_))) break;
    strm.start_request();
    t_failure = HeadFailure::None;
    bool closed = false;
    ok = process_request(strm, count == 1, closed, nullptr);
    t_failure = HeadFailure::None;
    if (!ok || closed || strm.failure() != HeadFailure::None || strm.timed_out()) break;
  }
  leave(client);
  close_gently(sock);
  return ok;
}

}  // namespace yamiro::serve
