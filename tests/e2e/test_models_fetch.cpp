// yamiro models fetch against a small HTTP server run by the test on 127.0.0.1.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <thread>

#include "e2e/harness.hpp"

namespace e2e {
namespace {

std::string sha256_of(const std::string& p) {
  FILE* f = popen(("sha256sum '" + p + "'").c_str(), "r");
  char buf[65] = {};
  if (!f || std::fread(buf, 1, 64, f) != 64) ADD_FAILURE() << "sha256sum failed";
  if (f) pclose(f);
  return buf;
}

// One-connection-at-a-time HTTP/1.1 server: GET of a known path returns its bytes;
// paths under /trunc/ promise more bytes than they send; anything else is a 404.
class Server {
 public:
  explicit Server(std::map<std::string, std::string> files) : files_(std::move(files)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    listen(fd_, 8);
    thread_ = std::thread([this] { serve(); });
  }
  ~Server() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  int requests() const { return requests_; }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      const int c = accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      std::string req;
      char buf[4096];
      while (req.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        req.append(buf, static_cast<std::size_t>(n));
      }
      ++requests_;
      const std::size_t sp = req.find(' '), sp2 = req.find(' ', sp + 1);
      const std::string path = sp == std::string::npos ? "" : req.substr(sp + 1, sp2 - sp - 1);
      std::string head, body;
      const bool trunc = path.rfind("/trunc/", 0) == 0;
      const auto it = files_.find(trunc ? "/ok/" + path.substr(7) : path);
      if (it == files_.end()) {
        body = "not here";
        head = "HTTP/1.1 404 Not Found\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
      } else {
        body = trunc ? it->second.substr(0, it->second.size() / 2) : it->second;
        head = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
               std::to_string(it->second.size()) + "\r\nConnection: close\r\n\r\n";
      }
      const std::string out = head + body;
      for (std::size_t sent = 0; sent < out.size();) {
        const ssize_t n = send(c, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) break;
        sent += static_cast<std::size_t>(n);
      }
      close(c);
    }
  }

  std::map<std::string, std::string> files_;
  int fd_ = -1, port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

class Fetch : public Cli {
 protected:
  const std::string param = kFixtures + "/compact-x4-nc4-nf16.param", bin = kFixtures + "/compact-x4-nc4-nf16.bin";
  Server server{{{"/ok/tiny.param", read_file(param)}, {"/ok/tiny.bin", read_file(bin)}}};

  void SetUp() override {
    Cli::SetUp();
    fs::create_directories(dir_ / "models");
    setenv("YAMIRO_MODELS", path("models").c_str(), 1);
    setenv("YAMIRO_MANIFEST", path("manifest.json").c_str(), 1);
  }
  void TearDown() override {
    unsetenv("YAMIRO_MODELS");
    unsetenv("YAMIRO_MANIFEST");
    Cli::TearDown();
  }

  // A manifest with one two-file model "tiny" served from `source`.
  void manifest(const std::string& source, const std::string& param_sha) {
    std::ofstream(path("manifest.json"))
        << R"({"schema": 1, "models": [{"name": "tiny", "arch": "SRVGGNetCompact", "scale": 4, "format": "ncnn", "files": [)"
        << R"({"name": "tiny.param", "sha256": ")" << param_sha << R"("}, {"name": "tiny.bin", "sha256": ")" << sha256_of(bin)
        << R"("}], "sources": [{"url": ")" << source << R"("}]}]})";
  }
  std::size_t files_in_models() const {
    return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir_ / "models"), fs::directory_iterator()));
  }
};

TEST_F(Fetch, DownloadsVerifiesAndStoresThenSkips) {
  manifest(server.url("/ok/"), sha256_of(param));
  const Result r = yamiro("models fetch tiny");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(read_file(path("models/tiny.param")), read_file(param));
  EXPECT_EQ(read_file(path("models/tiny.bin")), read_file(bin));
  EXPECT_NE(read_file(path("stdout.txt")).find("downloaded, checksum ok"), std::string::npos);
  EXPECT_EQ(files_in_models(), 2u);
  // The model is usable by name.
  cv::imwrite(path("in.png"), cv::Mat(8, 10, CV_8UC3, cv::Scalar(10, 120, 240)));
  const Result up = yamiro("upscale " + path("in.png") + " -m tiny -o " + path("out.png"));
  ASSERT_EQ(up.code, 0) << up.err;
  EXPECT_EQ(cv::imread(path("out.png")).cols, 40);
  // A second fetch finds the files in place and downloads nothing.
  const int before = server.requests();
  ASSERT_EQ(yamiro("models fetch tiny").code, 0);
  EXPECT_NE(read_file(path("stdout.txt")).find("already present"), std::string::npos);
  EXPECT_EQ(server.requests(), before);
}

TEST_F(Fetch, ChecksumMismatchSavesNothing) {
  manifest(server.url("/ok/"), std::string(64, '0'));
  const Result r = yamiro("models fetch tiny");
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.err.find("does not match"), std::string::npos) << r.err;
  EXPECT_EQ(files_in_models(), 0u) << "no file and no temporary file may be left";
}

TEST_F(Fetch, TruncatedDownloadSavesNothing) {
  manifest(server.url("/trunc/"), sha256_of(param));
  const Result r = yamiro("models fetch tiny");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_EQ(r.err.find("[http"), std::string::npos) << "no FFmpeg log lines: " << r.err;
  EXPECT_NE(r.err.find("download failed after"), std::string::npos) << r.err;
  EXPECT_EQ(files_in_models(), 0u);
}

TEST_F(Fetch, NotFoundIsAClearError) {
  manifest(server.url("/nothing/"), sha256_of(param));
  const Result r = yamiro("models fetch tiny");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("404"), std::string::npos) << r.err;
  EXPECT_EQ(files_in_models(), 0u);
}

TEST_F(Fetch, UnreachableServerSaysSo) {
  int port = 0;
  {
    Server gone{{}};
    port = std::stoi(gone.url("").substr(std::string("http://127.0.0.1:").size()));
  }  // closed: nothing listens there now
  manifest("http://127.0.0.1:" + std::to_string(port) + "/", sha256_of(param));
  const Result r = yamiro("models fetch tiny --timeout 5");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("network"), std::string::npos) << r.err;
  EXPECT_EQ(files_in_models(), 0u);
}

TEST_F(Fetch, BuiltinModelsPointToTheirPackageAndUnknownNamesAreUsageErrors) {
  unsetenv("YAMIRO_MANIFEST");
  Result r = yamiro("models fetch realesrgan-x4fast");
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.err.find("npm package"), std::string::npos) << r.err;
  r = yamiro("models fetch no-such-model");
  EXPECT_EQ(r.code, 2) << r.err;
}

}  // namespace
}  // namespace e2e
