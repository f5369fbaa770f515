// yamiro serve against a hostile client (issue 18): slow and huge request heads, too many
// connections, cross-site requests, DNS-rebinding Host names, an overflowing pixel count,
// loosely spelled numbers. Over loopback, each case bounded in connections and seconds.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>

#include "e2e/serve_harness.hpp"

using namespace e2e;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kEngine = "-m " + kFixtures + "/compact-x4-nc4-nf16.param --tile 32";

// A raw TCP connection to the server (closed on destruction).
class Conn {
 public:
  explicit Conn(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~Conn() {
    if (fd_ >= 0) ::close(fd_);
  }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  bool ok() const { return fd_ >= 0; }
  bool send(const std::string& s) { return ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size()); }
  // What arrives within `ms` (until the server closes or `ms` pass); sets `closed` at EOF.
  std::string receive(int ms, bool* closed = nullptr) {
    std::string got;
    const auto until = Clock::now() + std::chrono::milliseconds(ms);
    while (Clock::now() < until) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        if (closed) *closed = true;
        break;
      }
      got.append(buf, static_cast<std::size_t>(n));
      if (got.find("\r\n\r\n") != std::string::npos && !closed) break;
    }
    return got;
  }
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

// "HTTP/1.1 431 ..." -> 431; 0 when nothing came.
int status_of(const std::string& response) {
  if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12) return 0;
  return std::atoi(response.c_str() + 9);
}

std::string tiny_png() {
  cv::Mat m(8, 8, CV_8UC3, cv::Scalar(10, 20, 30));
  std::vector<unsigned char> buf;
  cv::imencode(".png", m, buf);
  return std::string(buf.begin(), buf.end());
}

httplib::MultipartFormDataItems form(const std::string& bytes, const std::vector<std::pair<std::string, std::string>>& fields = {}) {
  httplib::MultipartFormDataItems items = {{"image", bytes, "a.png", "image/png"}};
  for (const auto& [k, v] : fields) items.push_back({k, v, "", ""});
  return items;
}

class ServeHostile : public Cli {
 protected:
  std::unique_ptr<ServeProcess> start(const std::string& args) {
    return std::make_unique<ServeProcess>(kEngine + " " + args, path("serve-stderr.txt"));
  }
};

// 4: eight connections sending one header byte every 500 ms locked every client out (the
// HTTP library's thread pool), for as long as they kept sending.
TEST_F(ServeHostile, SlowHeadsNeitherLockOthersOutNorStayForever) {
  auto server = start("--request-timeout 3");
  constexpr int kSlow = 12;
  std::vector<std::unique_ptr<Conn>> slow;
  for (int i = 0; i < kSlow; ++i) {
    slow.push_back(std::make_unique<Conn>(server->port()));
    ASSERT_TRUE(slow.back()->ok());
    slow.back()->send("GET /api/info HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  }
  std::atomic<bool> stop{false};
  std::thread drip([&] {
    while (!stop.load()) {
      for (auto& c : slow) c->send("X");
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  httplib::Client c("127.0.0.1", server->port());
  c.set_read_timeout(3, 0);
  const auto t0 = Clock::now();
  const auto r = c.Get("/api/info");
  const double waited = std::chrono::duration<double>(Clock::now() - t0).count();
  EXPECT_TRUE(r && r->status == 200) << "a normal client was locked out by " << kSlow << " slow connections";
  EXPECT_LT(waited, 2.0);
  // Each slow head is cut at the request deadline (3 s) with 408, then closed.
  int cut = 0;
  for (auto& s : slow) {
    bool closed = false;
    const std::string got = s->receive(6000, &closed);
    if (closed && (got.empty() || status_of(got) == 408)) ++cut;
  }
  stop = true;
  drip.join();
  EXPECT_EQ(cut, kSlow) << "slow connections left open after their deadline";
  std::printf("normal request answered in %.3f s beside %d slow connections\n", waited, kSlow);
}

// 4: a request with 300,000 header lines (24 MB) was accepted (RSS 191 -> 266 MB).
TEST_F(ServeHostile, TooManyOrTooLargeHeadersGet431) {
  auto server = start("");
  {
    Conn flood(server->port());
    ASSERT_TRUE(flood.ok());
    std::atomic<bool> done{false};
    std::thread sender([&] {
      flood.send("GET /api/info HTTP/1.1\r\nHost: 127.0.0.1\r\n");
      std::string block;
      for (int i = 0; i < 1000; ++i) block += "X-Filler-" + std::to_string(i) + ": abcdefghijklmnop\r\n";
      for (int i = 0; i < 300 && !done.load(); ++i)
        if (!flood.send(block)) break;  // the server closed: stop
    });
    const std::string got = flood.receive(10000);
    done = true;
    ::shutdown(flood.fd(), SHUT_RDWR);
    sender.join();
    EXPECT_EQ(status_of(got), 431) << got.substr(0, 200);
  }
  auto head_with = [&](int lines, std::size_t value_size) {
    Conn c(server->port());
    std::string req = "GET /api/info HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    for (int i = 0; i < lines; ++i) req += "X-H" + std::to_string(i) + ": " + std::string(value_size, 'v') + "\r\n";
    c.send(req + "\r\n");
    return status_of(c.receive(5000));
  };
  EXPECT_EQ(head_with(90, 10), 200);
  EXPECT_EQ(head_with(101, 10), 431);
  EXPECT_EQ(head_with(10, 7000), 431) << "70 KB of headers";
  EXPECT_EQ(parse(server->client().Get("/api/info")).is_object(), true) << "the server still answers";
}

// Connections per client address are capped (16): the ones over it are answered 503 at once.
TEST_F(ServeHostile, ConnectionsOverThePerClientCapGet503) {
  auto server = start("");
  std::vector<std::unique_ptr<Conn>> conns;
  for (int i = 0; i < 20; ++i) {
    conns.push_back(std::make_unique<Conn>(server->port()));
    ASSERT_TRUE(conns.back()->ok());
  }
  int refused = 0;
  for (auto& c : conns)
    if (status_of(c->receive(300)) == 503) ++refused;
  EXPECT_EQ(refused, 4);
  conns.clear();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto r = server->client().Get("/api/info");
  EXPECT_TRUE(r && r->status == 200) << "slots come back when connections close";
}

// 5: a cross-site POST was accepted (202) without a token: any page could queue jobs.
TEST_F(ServeHostile, CrossSitePostAndDeleteAreRefusedUnlessAllowed) {
  auto server = start("--allow-origin http://tool.example:3000");
  auto c = server->client();
  const std::string self = "http://127.0.0.1:" + std::to_string(server->port());
  auto post = [&](const httplib::Headers& h) {
    const auto r = c.Post("/api/jobs", h, form(tiny_png()));
    return r ? r->status : 0;
  };
  EXPECT_EQ(post({{"Origin", "http://evil.example"}, {"Sec-Fetch-Site", "cross-site"}}), 403);
  EXPECT_EQ(post({{"Origin", "http://evil.example"}}), 403);
  EXPECT_EQ(post({{"Sec-Fetch-Site", "cross-site"}}), 403);
  EXPECT_EQ(post({{"Sec-Fetch-Site", "same-site"}}), 403);
  EXPECT_EQ(post({{"Origin", "null"}}), 403);
  EXPECT_EQ(post({{"Origin", self}, {"Sec-Fetch-Site", "same-origin"}}), 202) << "the server's own page";
  EXPECT_EQ(post({}), 202) << "curl and scripts send neither header";
  EXPECT_EQ(post({{"Origin", "http://tool.example:3000"}, {"Sec-Fetch-Site", "cross-site"}}), 202) << "--allow-origin";
  const auto del = c.Delete("/api/jobs/0123456789abcdef0123456789abcdef", {{"Origin", "http://evil.example"}});
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 403);
  const auto get = c.Get("/api/jobs", {{"Origin", "http://evil.example"}});
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 200) << "reads stay (the browser does not show them to the other site)";
}

// 6: bound as 127.1, 127.000.000.001 or 0:0:0:0:0:0:0:1 (all loopback), `Host: evil.example`
// got 200: the guard compared --host's spelling with three literals.
TEST_F(ServeHostile, HostGuardFollowsTheBoundAddressNotItsSpelling) {
  for (const std::string host : {"127.1", "127.000.000.001", "0:0:0:0:0:0:0:1"}) {
    std::unique_ptr<ServeProcess> server;
    try {
      server = start("--host " + host);
    } catch (const std::exception& e) {
      if (host.find(':') != std::string::npos) {
        std::printf("no IPv6 loopback here, %s skipped: %s\n", host.c_str(), e.what());
        continue;
      }
      FAIL() << e.what();
    }
    auto c = server->client();
    const std::string own = (server->host().find(':') != std::string::npos ? "[" + server->host() + "]" : server->host()) + ":" +
                            std::to_string(server->port());
    const auto evil = c.Get("/api/info", {{"Host", "evil.example"}});
    ASSERT_TRUE(evil) << host;
    EXPECT_EQ(evil->status, 403) << host;
    const auto rebound = c.Get("/api/info", {{"Host", "evil.example:" + std::to_string(server->port())}});
    ASSERT_TRUE(rebound);
    EXPECT_EQ(rebound->status, 403) << host;
    const auto good = c.Get("/api/info", {{"Host", own}});
    ASSERT_TRUE(good);
    EXPECT_EQ(good->status, 200) << host << " " << own;
    const auto name = c.Get("/api/info", {{"Host", "localhost:" + std::to_string(server->port())}});
    ASSERT_TRUE(name);
    EXPECT_EQ(name->status, 200) << host;
  }
}

// 7: a header claiming 4294967295 x 4294967295 overflowed width*height and got 202.
// 11: outscale accepted "0x10" and " 2" (strtod).
TEST_F(ServeHostile, PixelCapCannotOverflowAndFormNumbersAreStrict) {
  auto server = start("");
  auto c = server->client();
  std::string bomb = tiny_png();
  for (int i = 0; i < 8; ++i) bomb[16 + i] = static_cast<char>(0xFF);
  const auto r = c.Post("/api/jobs", form(bomb));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 422) << r->body;
  EXPECT_NE(r->body.find("4294967295x4294967295 exceeds the limit"), std::string::npos) << r->body;
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"outscale", "0x10"}, {"outscale", " 2"}, {"outscale", "2 "}, {"outscale", "inf"}, {"outscale", "nan"},
           {"outscale", "1e999"}, {"quality", "0x10"}, {"quality", " 90"}, {"quality", "+90"}, {"quality", "010"},
           {"quality", "90.0"}}) {
    const auto bad = c.Post("/api/jobs", form(tiny_png(), {{key, value}}));
    ASSERT_TRUE(bad);
    EXPECT_EQ(bad->status, 400) << key << "='" << value << "': " << bad->body;
  }
  const auto good = c.Post("/api/jobs", form(tiny_png(), {{"outscale", "2.5"}, {"quality", "90"}}));
  ASSERT_TRUE(good);
  EXPECT_EQ(good->status, 202) << good->body;
}

}  // namespace
