// End-to-end: what a hostile probe of the real binary found (issue 18), each case run the
// way an attacker or a careless user would, every run bounded in time (a hang is killed
// and reported, never waited for).
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include <tiffio.h>

#include "e2e/harness.hpp"

using namespace e2e;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kModel = kFixtures + "/compact-x4-nc4-nf16.param";

struct Outcome {
  int status = 0;
  bool killed = false;     // still running at the deadline (then SIGKILLed)
  double seconds = 0;
  long max_rss_kb = 0;     // the child's peak resident memory
  std::string err;
  bool exited() const { return !killed && WIFEXITED(status); }
  int code() const { return exited() ? WEXITSTATUS(status) : -1; }
  int lines() const { return static_cast<int>(std::count(err.begin(), err.end(), '\n')); }
};

// Runs yamiro with `args` (no shell), stderr to a file; kills it after `limit` seconds.
// `env` is set in the child; `sig` is sent once stderr shows `signal_at` (when not empty).
Outcome run(const std::vector<std::string>& args, const std::string& err_path, double limit = 60,
            const std::vector<std::pair<std::string, std::string>>& env = {}, const std::string& signal_at = "",
            int sig = SIGINT) {
  std::vector<std::string> argv = {kBin};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto t0 = Clock::now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int out = ::open("/dev/null", O_WRONLY);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0 || err < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) ::_exit(125);
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> a;
    for (auto& s : argv) a.push_back(s.data());
    a.push_back(nullptr);
    ::execv(a[0], a.data());
    ::_exit(127);
  }
  Outcome r;
  bool signalled = false;
  rusage ru{};
  for (;;) {
    const double t = std::chrono::duration<double>(Clock::now() - t0).count();
    if (!signal_at.empty() && !signalled && read_file(err_path).find(signal_at) != std::string::npos) {
      ::kill(pid, sig);
      signalled = true;
    }
    const pid_t done = ::wait4(pid, &r.status, WNOHANG, &ru);
    if (done == pid) break;
    if (t > limit) {
      ::kill(pid, SIGKILL);
      ::wait4(pid, &r.status, 0, &ru);
      r.killed = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  r.max_rss_kb = ru.ru_maxrss;
  r.err = read_file(err_path);
  return r;
}

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

class Hostile : public Cli {
 protected:
  void SetUp() override {
    Cli::SetUp();
    cv::Mat img(20, 24, CV_8UC3);
    cv::randu(img, cv::Scalar::all(0), cv::Scalar::all(255));
    ASSERT_TRUE(cv::imwrite(path("a.png"), img));
  }
  Outcome upscale(std::vector<std::string> args, double limit = 60) {
    std::vector<std::string> all = {"upscale"};
    all.insert(all.end(), args.begin(), args.end());
    all.insert(all.end(), {"-m", kModel, "-q"});  // errors only: one line per failure
    return run(all, path("stderr.txt"), limit);
  }
};

// 1 and 11: tile + pad overflowed int (SIGABRT, a vector over max_size, a negative length);
// negative tiles were taken silently; numbers are parsed whole and in range everywhere.
TEST_F(Hostile, AbsurdTilesAndPadsAreUsageErrorsAndNumbersAreParsedStrictly) {
  const std::string in = path("a.png"), out = path("o.png");
  const std::vector<std::vector<std::string>> refused = {
      {"--tile", "16", "--tile-pad", "2147483647"}, {"--tile", "16", "--tile-pad", "1073741824"},
      {"--tile", "16", "--tile-pad", "2147483600"}, {"--tile", "-1"}, {"--tile-pad", "-1"}, {"--tile", "0x10"},
      {"--tile", " 16"}, {"--tile", "16x"}, {"--tile", "010"}, {"--tile", "65537"}, {"--shard", "1/2x"},
      {"--shard", "0x1/2"}, {"--shard", "2/2"}, {"--shard", "-1/2"}, {"--shard", "1/"}, {"--quality", "0x10"},
      {"--quality", "9e1"}, {"--outscale", "0x1p1"}, {"--outscale", "nan"}, {"--outscale", "inf"},
      {"--outscale", " 2"}, {"--max-pixels", "99999999999999999999"}, {"--threads", "+2"}, {"--batch", "1.0"}};
  for (const auto& extra : refused) {
    std::vector<std::string> args = {in, "-o", out};
    args.insert(args.end(), extra.begin(), extra.end());
    const Outcome r = upscale(args, 30);
    std::string shown;
    for (const auto& e : extra) shown += e + " ";
    EXPECT_EQ(r.code(), 2) << shown << "\n" << r.err;
    EXPECT_FALSE(fs::exists(out)) << shown;
  }
  // video --frames 0 was "every frame" while -1 was refused: both refused now.
  for (const char* frames : {"0", "-1", "0x2", "1e3"}) {
    const Outcome r = run({"video", in, "-o", path("v.mkv"), "--frames", frames, "-m", kModel}, path("stderr.txt"), 30);
    EXPECT_EQ(r.code(), 2) << "--frames " << frames << ": " << r.err;
  }
  // A pad larger than the image is clamped to it: with the zero border every tile then
  // sees the whole image, so the result is the untiled one, byte for byte.
  ASSERT_EQ(upscale({in, "-o", path("whole.png"), "--tile", "0"}).code(), 0);
  const Outcome big = upscale({in, "-o", path("padded.png"), "--tile", "16", "--tile-pad", "65536"});
  ASSERT_EQ(big.code(), 0) << big.err;
  EXPECT_EQ(read_file(path("whole.png")), read_file(path("padded.png")));
}

// 2: a FIFO among the inputs blocked in open(), deaf to SIGINT/SIGTERM.
TEST_F(Hostile, FifoAmongInputsFailsAtOnceAndTheOthersAreWritten) {
  ASSERT_EQ(::mkfifo(path("f.png").c_str(), 0644), 0);
  const Outcome r = upscale({path("a.png"), path("f.png"), "-o", path("out/")}, 30);
  ASSERT_FALSE(r.killed) << "blocked on the FIFO";
  EXPECT_EQ(r.code(), 1) << r.err;
  EXPECT_TRUE(has(r.err, path("f.png") + ": not a regular file (a FIFO)")) << r.err;
  EXPECT_EQ(r.lines(), 1) << r.err;
  EXPECT_TRUE(fs::exists(path("out/a_x4.png")));
  EXPECT_FALSE(fs::exists(path("out/f_x4.png")));
}

// 3: /dev/zero was read without end (1.7 GB in 6 s); a sparse 8 GiB file with a 16x16 PNG
// header was read whole before any check.
TEST_F(Hostile, DevicesAndHugeFilesAreRefusedBeforeReading) {
  const Outcome zero = upscale({"/dev/zero", "-o", path("z.png")}, 30);
  ASSERT_FALSE(zero.killed);
  EXPECT_EQ(zero.code(), 1) << zero.err;
  EXPECT_TRUE(has(zero.err, "/dev/zero: not a regular file (a character device)")) << zero.err;
  EXPECT_EQ(zero.lines(), 1) << zero.err;
  const Outcome video = run({"video", "/dev/zero", "-o", path("z.mkv"), "-m", kModel}, path("stderr.txt"), 30);
  EXPECT_EQ(video.code(), 1) << video.err;
  EXPECT_TRUE(has(video.err, "/dev/zero: cannot open: not a regular file (a character device)")) << video.err;

  // A real 16x16 PNG's first bytes, then a hole: 8 GiB (over any --max-pixels file size)
  // and 100 MiB (more than a 16x16 image needs).
  cv::Mat small(16, 16, CV_8UC3, cv::Scalar(1, 2, 3));
  std::vector<unsigned char> png;
  cv::imencode(".png", small, png);
  for (const auto& [name, size] : std::vector<std::pair<std::string, off_t>>{{"huge.png", 8LL << 30}, {"padded.png", 100LL << 20}}) {
    {
      std::ofstream f(path(name), std::ios::binary);
      f.write(reinterpret_cast<const char*>(png.data()), static_cast<std::streamsize>(png.size()));
    }
    ASSERT_EQ(::truncate(path(name).c_str(), size), 0);
    const Outcome r = upscale({path(name), "-o", path("h.png")}, 30);
    ASSERT_FALSE(r.killed);
    EXPECT_EQ(r.code(), 1) << r.err;
    EXPECT_TRUE(has(r.err, path(name) + ": " + std::to_string(size) + " bytes")) << r.err;
    EXPECT_TRUE(has(r.err, "not read")) << r.err;
    EXPECT_LT(r.max_rss_kb, 600 * 1024) << name << ": the file was read";
    std::printf("%s (%lld bytes): refused in %.2f s, peak RSS %ld MiB\n", name.c_str(), static_cast<long long>(size), r.seconds,
                r.max_rss_kb / 1024);
  }
}

// 8: a suffix with a folder in it wrote outside the output folder.
TEST_F(Hostile, SuffixThatLeavesTheOutputFolderIsAUsageError) {
  fs::create_directories(path("x/deep"));
  fs::copy_file(path("a.png"), path("x/deep/a.png"));
  for (const char* suffix : {"/../../escaped", "_x4/../../e", "..\\e", "/"}) {
    const Outcome r = upscale({path("x/deep/a.png"), "-o", path("o/"), "--suffix", suffix}, 30);
    EXPECT_EQ(r.code(), 2) << suffix << ": " << r.err;
    EXPECT_EQ(r.lines(), 1) << r.err;
  }
  for (const auto& e : fs::recursive_directory_iterator(dir_))
    EXPECT_FALSE(has(e.path().filename().string(), "e.png") || has(e.path().filename().string(), "escaped")) << e.path();
}

// 9: `upscale a.png a_x4.png --overwrite` replaced the input a_x4.png with a.png's result.
TEST_F(Hostile, NoOutputReplacesAnyInputOfTheRun) {
  fs::copy_file(path("a.png"), path("a_x4.png"));
  const std::string before = read_file(path("a_x4.png"));
  Outcome r = upscale({path("a.png"), path("a_x4.png"), "--overwrite"}, 30);
  EXPECT_EQ(r.code(), 2) << r.err;
  EXPECT_TRUE(has(r.err, "would replace the input " + path("a_x4.png"))) << r.err;
  EXPECT_EQ(read_file(path("a_x4.png")), before);
  EXPECT_FALSE(fs::exists(path("a_x4_x4.png"))) << "nothing is written when the run is refused";

  // The same through another name: b_x4.png is a hard link, c_x4.png a symbolic link to the
  // input i.png.
  fs::create_directories(path("d"));
  fs::copy_file(path("a.png"), path("d/i.png"));
  fs::copy_file(path("a.png"), path("d/b.png"));
  fs::copy_file(path("a.png"), path("d/c.png"));
  fs::create_hard_link(path("d/i.png"), path("d/b_x4.png"));
  const std::string input = read_file(path("d/i.png"));
  r = upscale({path("d/b.png"), path("d/i.png"), "--overwrite"}, 30);
  EXPECT_EQ(r.code(), 2) << r.err;
  fs::remove(path("d/b_x4.png"));
  fs::create_symlink(path("d/i.png"), path("d/c_x4.png"));
  r = upscale({path("d/c.png"), path("d/i.png"), "--overwrite"}, 30);
  EXPECT_EQ(r.code(), 2) << r.err;
  EXPECT_EQ(read_file(path("d/i.png")), input);
  EXPECT_FALSE(fs::exists(path("d/i_x4.png")));
}

// 11: temporary files of a process that died (SIGKILL) stayed forever. The next run in the
// folder removes those nobody holds and that are older than 10 s, and says so.
TEST_F(Hostile, StaleTemporaryFilesOfDeadProcessesAreRemoved) {
  fs::create_directories(path("out"));
  const std::string stale = path("out/.v_x4.yamiro-Ab12Cd.mkv"), held = path("out/.w_x4.yamiro-Xy34Zw.png"),
                    fresh = path("out/.f_x4.yamiro-Qr56St.png"), other = path("out/.notes.yamiro-xx.txt");
  for (const auto& p : {stale, held, fresh, other}) std::ofstream(p) << "partial";
  const timespec old[2] = {{::time(nullptr) - 60, 0}, {::time(nullptr) - 60, 0}};
  for (const auto& p : {stale, held, other}) ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), old, 0), 0);
  const int lock = ::open(held.c_str(), O_RDONLY);  // a live writer holds its file
  ASSERT_EQ(::flock(lock, LOCK_EX | LOCK_NB), 0);
  const Outcome r = run({"upscale", path("a.png"), "-o", path("out/"), "-m", kModel}, path("stderr.txt"), 60);
  ::close(lock);
  EXPECT_EQ(r.code(), 0) << r.err;
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(has(r.err, stale + ": removed a temporary file left by a process that died")) << r.err;
  EXPECT_TRUE(fs::exists(held)) << "a file a live process holds stays";
  EXPECT_TRUE(fs::exists(fresh)) << "a file younger than 10 s stays";
  EXPECT_TRUE(fs::exists(other)) << "not a yamiro temporary name";
  EXPECT_TRUE(fs::exists(path("out/a_x4.png")));
}

// 11, as found: a SIGKILLed `video` left its .NAME.yamiro-XXXXXX.mkv; the next run in that
// folder (once the file is 10 s old: backdated here) removes it.
TEST_F(Hostile, TemporaryFileOfAKilledVideoIsRemovedByTheNextRun) {
  const std::string clip = "/usr/share/doc/opencv-doc/examples/data/Megamind.avi";
  if (!fs::exists(clip)) GTEST_SKIP() << clip << " is missing (Debian's opencv-doc)";
  fs::create_directories(path("v"));
  std::vector<std::string> argv = {kBin, "-q", "video", clip, "-o", path("v/m.mkv"), "-m", kModel, "--preset", "ultrafast"};
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    std::vector<char*> a;
    for (auto& x : argv) a.push_back(x.data());
    a.push_back(nullptr);
    ::execv(a[0], a.data());
    ::_exit(127);
  }
  std::string tmp;
  for (int i = 0; i < 600 && tmp.empty(); ++i) {  // up to 60 s for LibTorch and the first frames
    for (const auto& e : fs::directory_iterator(path("v")))
      if (e.path().filename().string().rfind(".m.yamiro-", 0) == 0) tmp = e.path().string();
    if (tmp.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_FALSE(tmp.empty()) << "video never started its temporary file";
  ASSERT_TRUE(fs::exists(tmp)) << "SIGKILL leaves it: nothing runs after it";
  const timespec old[2] = {{::time(nullptr) - 60, 0}, {::time(nullptr) - 60, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, tmp.c_str(), old, 0), 0);
  const Outcome r = run({"upscale", path("a.png"), "-o", path("v/"), "-m", kModel}, path("stderr.txt"), 60);
  EXPECT_EQ(r.code(), 0) << r.err;
  EXPECT_FALSE(fs::exists(tmp));
  EXPECT_TRUE(has(r.err, tmp + ": removed a temporary file left by a process that died")) << r.err;
  EXPECT_FALSE(fs::exists(path("v/m.mkv")));
}

// 11: a signal during model loading killed the process by the signal instead of exit 130.
// YAMIRO_TEST_FAULT=slow-model-load holds the load for 3 s (saying so at debug level) so
// that the signal lands in it.
TEST_F(Hostile, SignalDuringModelLoadingExits130) {
  const Outcome r = run({"-v", "upscale", path("a.png"), "-o", path("o.png"), "-m", kModel}, path("stderr.txt"), 30,
                        {{"YAMIRO_TEST_FAULT", "slow-model-load"}}, "the model load is held");
  ASSERT_FALSE(r.killed);
  EXPECT_TRUE(WIFEXITED(r.status)) << "ended by signal " << (WIFSIGNALED(r.status) ? WTERMSIG(r.status) : 0);
  EXPECT_EQ(r.code(), 130) << r.err;
  EXPECT_TRUE(has(r.err, "interrupted while loading the model")) << r.err;
  EXPECT_FALSE(fs::exists(path("o.png")));
}

// 11, for `video` too: SIGINT or SIGTERM while its model loads is exit 130, nothing written.
TEST_F(Hostile, SignalDuringVideoModelLoadingExits130) {
  const std::string clip = "/usr/share/doc/opencv-doc/examples/data/Megamind.avi";
  if (!fs::exists(clip)) GTEST_SKIP() << clip << " is missing (Debian's opencv-doc)";
  fs::create_directories(path("v"));
  for (const int sig : {SIGINT, SIGTERM}) {
    // A stderr file of its own per run: the previous run's text must not trigger the signal.
    const Outcome r = run({"-v", "video", clip, "-o", path("v/m.mkv"), "-m", kModel}, path("stderr" + std::to_string(sig) + ".txt"),
                          30, {{"YAMIRO_TEST_FAULT", "slow-model-load"}}, "the model load is held", sig);
    ASSERT_FALSE(r.killed) << strsignal(sig);
    EXPECT_TRUE(WIFEXITED(r.status)) << strsignal(sig) << ": ended by signal " << (WIFSIGNALED(r.status) ? WTERMSIG(r.status) : 0);
    EXPECT_EQ(r.code(), 130) << strsignal(sig) << ": " << r.err;
    EXPECT_TRUE(has(r.err, "interrupted while loading the model")) << r.err;
    EXPECT_TRUE(fs::is_empty(path("v"))) << "nothing written, no temporary file";
  }
}

// --- 10: channels and pages ---

std::uint32_t crc32(const std::string& s) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : s) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

// A gray+alpha PNG (colour type 4) of `w` x `h`, 8 or 16 bits, written by hand (OpenCV
// cannot write one): zlib stored blocks, no compression.
// The gray of pixel (x, y) in the channel tests, and a varying alpha (`bits` 8 or 16).
std::uint16_t ga_gray(int x, int y, int bits) { return static_cast<std::uint16_t>((x * 37 + y * 11) % 256 * (bits == 16 ? 257 : 1)); }
std::uint16_t ga_alpha(int x, int y, int bits) { return static_cast<std::uint16_t>((40 + (x * 13 + y * 29) % 200) * (bits == 16 ? 257 : 1)); }

// `varying`: ga_alpha instead of the constant `alpha`.
std::string gray_alpha_png(int w, int h, int bits, std::uint16_t alpha, bool varying = false) {
  const int d = bits / 8;
  std::string raw;
  for (int y = 0; y < h; ++y) {
    raw += '\0';
    for (int x = 0; x < w; ++x) {
      const std::uint16_t g = ga_gray(x, y, bits);
      for (const std::uint16_t v : {g, varying ? ga_alpha(x, y, bits) : alpha}) {
        if (d == 2) raw += static_cast<char>(v >> 8);
        raw += static_cast<char>(v & 0xFF);
      }
    }
  }
  std::string z = "\x78\x01";
  for (std::size_t at = 0; at < raw.size() || at == 0; at += 65535) {
    const std::size_t n = std::min<std::size_t>(65535, raw.size() - at);
    z += static_cast<char>(at + n >= raw.size() ? 1 : 0);
    z += static_cast<char>(n & 0xFF);
    z += static_cast<char>(n >> 8);
    z += static_cast<char>(~n & 0xFF);
    z += static_cast<char>((~n >> 8) & 0xFF);
    z += raw.substr(at, n);
    if (at + n >= raw.size()) break;
  }
  std::uint32_t a = 1, b = 0;
  for (unsigned char c : raw) {
    a = (a + c) % 65521;
    b = (b + a) % 65521;
  }
  z += be32((b << 16) | a);
  auto chunk = [](const std::string& type, const std::string& data) {
    return be32(static_cast<std::uint32_t>(data.size())) + type + data + be32(crc32(type + data));
  };
  const std::string ihdr = be32(w) + be32(h) + std::string{static_cast<char>(bits), 4, 0, 0, 0};
  return std::string("\x89PNG\r\n\x1a\n", 8) + chunk("IHDR", ihdr) + chunk("IDAT", z) + chunk("IEND", "");
}

// An uncompressed little-endian 8-bit TIFF with `samples` channels (2: gray + alpha).
std::string tiff_with_samples(int w, int h, int samples) {
  auto le16 = [](std::uint16_t v) { return std::string{static_cast<char>(v & 0xFF), static_cast<char>(v >> 8)}; };
  auto le32 = [](std::uint32_t v) {
    return std::string{static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16), static_cast<char>(v >> 24)};
  };
  const std::uint32_t pixels_at = 8, bytes = static_cast<std::uint32_t>(w * h * samples);
  std::string t = "II*" + std::string(1, '\0') + le32(pixels_at + bytes);
  t += std::string(bytes, '\x80');
  struct Tag {
    std::uint16_t tag, type;
    std::uint32_t count, value;
  };
  const std::vector<Tag> tags = {{256, 3, 1, static_cast<std::uint32_t>(w)}, {257, 3, 1, static_cast<std::uint32_t>(h)},
                                 {258, 3, 1, 8}, {259, 3, 1, 1}, {262, 3, 1, 1}, {273, 4, 1, pixels_at},
                                 {277, 3, 1, static_cast<std::uint32_t>(samples)}, {278, 3, 1, static_cast<std::uint32_t>(h)},
                                 {279, 4, 1, bytes}, {284, 3, 1, 1}, {338, 3, 1, 2}};
  t += le16(static_cast<std::uint16_t>(tags.size()));
  for (const auto& g : tags) t += le16(g.tag) + le16(g.type) + le32(g.count) + (g.type == 3 ? le16(static_cast<std::uint16_t>(g.value)) + le16(0) : le32(g.value));
  return t + le32(0);
}

TEST_F(Hostile, GrayAlphaPngStaysGrayAlphaAt8And16Bits) {
  for (const int bits : {8, 16}) {
    const std::string in = path("ga" + std::to_string(bits) + ".png"), out = path("ga" + std::to_string(bits) + "_x4.png");
    const std::uint16_t alpha = bits == 8 ? 128 : 40000;
    { std::ofstream(in, std::ios::binary) << gray_alpha_png(13, 9, bits, alpha); }
    const cv::Mat src = cv::imread(in, cv::IMREAD_UNCHANGED);
    ASSERT_FALSE(src.empty()) << "the hand-made PNG must be valid";
    const Outcome r = upscale({in, "-o", out}, 60);
    ASSERT_EQ(r.code(), 0) << r.err;
    const std::string bytes = read_file(out);
    ASSERT_GT(bytes.size(), 26u);
    EXPECT_EQ(static_cast<int>(static_cast<unsigned char>(bytes[25])), 4) << bits << "-bit: colour type (4 = gray+alpha)";
    EXPECT_EQ(static_cast<int>(static_cast<unsigned char>(bytes[24])), bits) << "bit depth";
    const cv::Mat m = cv::imread(out, cv::IMREAD_UNCHANGED);  // OpenCV shows gray+alpha as BGRA
    ASSERT_EQ(m.cols, 52);
    ASSERT_EQ(m.rows, 36);
    std::vector<cv::Mat> ch;
    cv::split(m, ch);
    ASSERT_EQ(ch.size(), 4u);
    // The fixture network is no identity, so the references are yamiro's own paths: the
    // alpha plane is what the same pixels as RGBA (gray in R, G and B) give ...
    std::vector<cv::Mat> planes;
    cv::split(src, planes);  // OpenCV reads gray+alpha as BGRA
    cv::Mat rgba;
    cv::merge(std::vector<cv::Mat>{planes[0], planes[0], planes[0], planes[3]}, rgba);
    const std::string ref_in = path("rgba" + std::to_string(bits) + ".png"), ref_out = path("rgba" + std::to_string(bits) + "_x4.png");
    ASSERT_TRUE(cv::imwrite(ref_in, rgba));
    ASSERT_EQ(upscale({ref_in, "-o", ref_out}, 60).code(), 0);
    const cv::Mat ref = cv::imread(ref_out, cv::IMREAD_UNCHANGED);
    ASSERT_EQ(ref.channels(), 4);
    std::vector<cv::Mat> rch;
    cv::split(ref, rch);
    EXPECT_EQ(cv::norm(ch[3], rch[3], cv::NORM_INF), 0) << bits << "-bit: alpha as RGBA's";
    // ... and the gray plane is what the gray image alone gives.
    const std::string gray_in = path("g" + std::to_string(bits) + ".png"), gray_out = path("g" + std::to_string(bits) + "_x4.png");
    ASSERT_TRUE(cv::imwrite(gray_in, planes[0]));
    ASSERT_EQ(upscale({gray_in, "-o", gray_out}, 60).code(), 0);
    const cv::Mat gray = cv::imread(gray_out, cv::IMREAD_UNCHANGED);
    ASSERT_EQ(gray.channels(), 1);
    EXPECT_EQ(cv::norm(ch[0], gray, cv::NORM_INF), 0) << bits << "-bit: gray as the gray image's";
    EXPECT_EQ(cv::norm(ch[0], ch[1], cv::NORM_INF), 0) << "one gray plane";
    double lo = 0, hi = 0;
    // The same through --alpha bicubic: a constant plane stays exactly constant.
    const std::string bicubic = path("gab" + std::to_string(bits) + ".png");
    const Outcome b = upscale({in, "-o", bicubic, "--alpha", "bicubic"}, 60);
    ASSERT_EQ(b.code(), 0) << b.err;
    const cv::Mat mb = cv::imread(bicubic, cv::IMREAD_UNCHANGED);
    cv::split(mb, ch);
    cv::minMaxLoc(ch[3], &lo, &hi);
    EXPECT_EQ(lo, alpha);
    EXPECT_EQ(hi, alpha);
  }
}

// The pixels of gray_alpha_png(w, h, bits, 0, true) as a TIFF written by libtiff: 8-bit
// chunky in uncompressed strips of 4 rows, 16-bit in separate planes of LZW-compressed
// (predictor 2) 16x16 tiles, so that both layouts and a partial tile are read.
void gray_alpha_tiff(const std::string& file, int w, int h, int bits) {
  TIFF* t = TIFFOpen(file.c_str(), "w");
  ASSERT_NE(t, nullptr);
  const std::uint16_t extra[1] = {EXTRASAMPLE_UNASSALPHA};
  TIFFSetField(t, TIFFTAG_IMAGEWIDTH, static_cast<std::uint32_t>(w));
  TIFFSetField(t, TIFFTAG_IMAGELENGTH, static_cast<std::uint32_t>(h));
  TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, std::uint16_t{2});
  TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, static_cast<std::uint16_t>(bits));
  TIFFSetField(t, TIFFTAG_PHOTOMETRIC, std::uint16_t{PHOTOMETRIC_MINISBLACK});
  TIFFSetField(t, TIFFTAG_EXTRASAMPLES, std::uint16_t{1}, extra);
  const int d = bits / 8;
  auto put = [&](std::vector<unsigned char>& buf, std::size_t at, std::uint16_t v) {
    if (d == 2) std::memcpy(&buf[at * 2], &v, 2);
    else buf[at] = static_cast<unsigned char>(v);
  };
  if (bits == 8) {
    TIFFSetField(t, TIFFTAG_PLANARCONFIG, std::uint16_t{PLANARCONFIG_CONTIG});
    TIFFSetField(t, TIFFTAG_COMPRESSION, std::uint16_t{COMPRESSION_NONE});
    TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, std::uint32_t{4});
    std::vector<unsigned char> row(static_cast<std::size_t>(w) * 2);
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        put(row, x * 2, ga_gray(x, y, bits));
        put(row, x * 2 + 1, ga_alpha(x, y, bits));
      }
      ASSERT_EQ(TIFFWriteScanline(t, row.data(), static_cast<std::uint32_t>(y), 0), 1);
    }
  } else {
    TIFFSetField(t, TIFFTAG_PLANARCONFIG, std::uint16_t{PLANARCONFIG_SEPARATE});
    TIFFSetField(t, TIFFTAG_COMPRESSION, std::uint16_t{COMPRESSION_LZW});
    TIFFSetField(t, TIFFTAG_PREDICTOR, std::uint16_t{PREDICTOR_HORIZONTAL});
    TIFFSetField(t, TIFFTAG_TILEWIDTH, std::uint32_t{16});
    TIFFSetField(t, TIFFTAG_TILELENGTH, std::uint32_t{16});
    std::vector<unsigned char> tile(16 * 16 * 2);
    for (int plane = 0; plane < 2; ++plane)
      for (int ty = 0; ty < h; ty += 16)
        for (int tx = 0; tx < w; tx += 16) {
          std::fill(tile.begin(), tile.end(), 0);
          for (int y = ty; y < std::min(h, ty + 16); ++y)
            for (int x = tx; x < std::min(w, tx + 16); ++x)
              put(tile, (y - ty) * 16 + (x - tx), plane == 0 ? ga_gray(x, y, bits) : ga_alpha(x, y, bits));
          ASSERT_GE(TIFFWriteTile(t, tile.data(), tx, ty, 0, static_cast<std::uint16_t>(plane)), 0);
        }
  }
  TIFFClose(t);
}

// A TIFF read back with libtiff, as written by yamiro (chunky strips): samples per pixel,
// bits, the extra-sample kind, and the gray and alpha planes.
struct TiffPlanes {
  int samples = 0, bits = 0, extra = -1;
  cv::Mat gray, alpha;
};

TiffPlanes read_tiff_planes(const std::string& file) {
  TiffPlanes r;
  TIFF* t = TIFFOpen(file.c_str(), "r");
  if (!t) return r;
  std::uint32_t w = 0, h = 0;
  std::uint16_t spp = 0, bits = 0, planar = 0, n_extra = 0, *extra = nullptr;
  TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w);
  TIFFGetField(t, TIFFTAG_IMAGELENGTH, &h);
  TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLESPERPIXEL, &spp);
  TIFFGetFieldDefaulted(t, TIFFTAG_BITSPERSAMPLE, &bits);
  TIFFGetFieldDefaulted(t, TIFFTAG_PLANARCONFIG, &planar);
  if (TIFFGetField(t, TIFFTAG_EXTRASAMPLES, &n_extra, &extra) == 1 && n_extra == 1) r.extra = extra[0];
  r.samples = spp;
  r.bits = bits;
  if (spp == 2 && planar == PLANARCONFIG_CONTIG && !TIFFIsTiled(t) && (bits == 8 || bits == 16)) {
    const int type = bits == 16 ? CV_16UC2 : CV_8UC2;
    cv::Mat both(static_cast<int>(h), static_cast<int>(w), type);
    for (std::uint32_t y = 0; y < h; ++y)
      if (TIFFReadScanline(t, both.ptr(static_cast<int>(y)), y, 0) != 1) both.release();
    if (!both.empty()) {
      std::vector<cv::Mat> ch;
      cv::split(both, ch);
      r.gray = ch[0];
      r.alpha = ch[1];
    }
  }
  TIFFClose(t);
  return r;
}

// 10: a 2-channel TIFF was refused (OpenCV's decoder drops its alpha); it is read with
// libtiff now and upscaled as gray+alpha PNG is: the same pixels give the same result
// whether they come as PNG or TIFF, and a TIFF output keeps the two channels.
TEST_F(Hostile, TwoChannelTiffKeepsItsAlphaAt8And16Bits) {
  const int w = 13, h = 9;
  for (const int bits : {8, 16}) {
    const std::string b = std::to_string(bits);
    gray_alpha_tiff(path("ga" + b + ".tif"), w, h, bits);
    { std::ofstream(path("ga" + b + ".png"), std::ios::binary) << gray_alpha_png(w, h, bits, 0, true); }
    // The PNG path is the reference (gray through the network, alpha as RGBA's).
    ASSERT_EQ(upscale({path("ga" + b + ".png"), "-o", path("ref" + b + ".png")}).code(), 0);
    const cv::Mat ref = cv::imread(path("ref" + b + ".png"), cv::IMREAD_UNCHANGED);  // BGRA: gray, gray, gray, alpha
    ASSERT_EQ(ref.channels(), 4);
    std::vector<cv::Mat> rch;
    cv::split(ref, rch);
    double lo = 0, hi = 0;
    cv::minMaxLoc(rch[3], &lo, &hi);
    ASSERT_LT(lo, hi) << "the reference alpha varies";

    Outcome r = upscale({path("ga" + b + ".tif"), "-o", path("out" + b + ".png")});
    ASSERT_EQ(r.code(), 0) << r.err;
    const std::string png = read_file(path("out" + b + ".png"));
    ASSERT_GT(png.size(), 26u);
    EXPECT_EQ(static_cast<int>(static_cast<unsigned char>(png[25])), 4) << bits << "-bit TIFF -> PNG: colour type 4 (gray+alpha)";
    EXPECT_EQ(static_cast<int>(static_cast<unsigned char>(png[24])), bits) << "bit depth";
    const cv::Mat out = cv::imread(path("out" + b + ".png"), cv::IMREAD_UNCHANGED);
    ASSERT_EQ(out.size(), ref.size());
    ASSERT_EQ(out.type(), ref.type());
    EXPECT_EQ(cv::norm(out, ref, cv::NORM_INF), 0) << bits << "-bit TIFF -> PNG: the PNG path's pixels, alpha included";

    r = upscale({path("ga" + b + ".tif"), "-o", path("out" + b + ".tif")});
    ASSERT_EQ(r.code(), 0) << r.err;
    const TiffPlanes tp = read_tiff_planes(path("out" + b + ".tif"));
    EXPECT_EQ(tp.samples, 2) << bits << "-bit TIFF -> TIFF: still gray+alpha, not RGBA";
    EXPECT_EQ(tp.bits, bits);
    EXPECT_EQ(tp.extra, EXTRASAMPLE_UNASSALPHA);
    ASSERT_FALSE(tp.gray.empty()) << "readable two-channel TIFF";
    EXPECT_EQ(cv::norm(tp.gray, rch[0], cv::NORM_INF), 0) << bits << "-bit TIFF -> TIFF: gray as the PNG path's";
    EXPECT_EQ(cv::norm(tp.alpha, rch[3], cv::NORM_INF), 0) << bits << "-bit TIFF -> TIFF: alpha as the PNG path's";
  }
}

// A damaged 2-channel TIFF: exit 1, one line naming the file, nothing written.
TEST_F(Hostile, DamagedTwoChannelTiffFailsWithOneLine) {
  gray_alpha_tiff(path("whole.tif"), 40, 30, 16);
  const std::string whole = read_file(path("whole.tif"));
  { std::ofstream(path("cut.tif"), std::ios::binary) << whole.substr(0, whole.size() / 2); }
  // Pixel data cut short under an intact directory: the strip claims more than is left.
  std::string t = tiff_with_samples(64, 48, 2);
  const std::size_t data = 64 * 48 * 2, cut = data / 2;
  t.erase(8 + data / 4, cut);
  const std::uint32_t ifd = static_cast<std::uint32_t>(8 + data - cut);
  for (int i = 0; i < 4; ++i) t[4 + i] = static_cast<char>(ifd >> (8 * i));
  { std::ofstream(path("short.tif"), std::ios::binary) << t; }
  for (const std::string name : {"cut.tif", "short.tif"}) {
    const Outcome r = upscale({path(name), "-o", path("o.png")});
    EXPECT_EQ(r.code(), 1) << name << ": " << r.err;
    EXPECT_EQ(r.lines(), 1) << r.err;
    EXPECT_TRUE(has(r.err, path(name) + ": ")) << r.err;
    EXPECT_FALSE(fs::exists(path("o.png")));
  }
  // The pixel cap holds for it as for any image (checked from the header, not decoded).
  const Outcome big = upscale({path("whole.tif"), "-o", path("o.png"), "--max-pixels", "1000"});
  EXPECT_EQ(big.code(), 1) << big.err;
  EXPECT_TRUE(has(big.err, path("whole.tif") + ": 40x30 exceeds the limit of 1000 pixels")) << big.err;
  EXPECT_FALSE(fs::exists(path("o.png")));
  // The same file whole is read.
  EXPECT_EQ(upscale({path("whole.tif"), "-o", path("o.png")}).code(), 0);
}

TEST_F(Hostile, MultiPageTiffsAreRefusedNamingThePageCount) {
  cv::Mat page(10, 12, CV_8UC3, cv::Scalar(1, 2, 3));
  ASSERT_TRUE(cv::imwritemulti(path("pages.tif"), std::vector<cv::Mat>{page, page, page}));
  const Outcome r = upscale({path("pages.tif"), "-o", path("pages_out.png")}, 60);
  EXPECT_EQ(r.code(), 1) << r.err;
  EXPECT_TRUE(has(r.err, path("pages.tif") + ": a TIFF of 3 pages")) << r.err;
  EXPECT_FALSE(fs::exists(path("pages_out.png")));
  // One page is read as before.
  ASSERT_TRUE(cv::imwrite(path("one.tif"), page));
  EXPECT_EQ(upscale({path("one.tif"), "-o", path("one_out.png")}, 60).code(), 0);
}

}  // namespace
