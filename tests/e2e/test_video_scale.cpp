// End-to-end: `yamiro video` at scale and beyond files: keyframe pieces (--segment) run
// concurrently and joined (--join) equal one run frame for frame; stdin, FIFOs, TCP and
// HTTP inputs over loopback; stdout and TCP outputs; the errors of bad pieces and URLs.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "e2e/harness.hpp"
#include "e2e/video_clips.hpp"

extern "C" {
#include <libavutil/pixdesc.h>
}

using namespace e2e;

namespace {

// Lossless output, so that pixels can be compared between runs.
const std::string kLossless = kTiny + " --precision fp32 --tile 0 --codec ffv1 ";

// TCP and UDP inputs are live: these tests send a clip in one burst and want every frame
// back, so the latency bound is made too wide to drop any on a loaded machine.
const std::string kLive = " --max-latency 60 ";

const int kQuietLibav = [] {
  av_log_set_level(AV_LOG_ERROR);
  return 0;
}();

// A moving gradient: every frame differs from its neighbours.
void paint(int index, AVFrame* f) {
  for (int y = 0; y < f->height; ++y)
    for (int x = 0; x < f->width; ++x) f->data[0][y * f->linesize[0] + x] = static_cast<std::uint8_t>(16 + (x * 3 + y * 2 + index * 7) % 220);
  for (int p = 1; p < 3; ++p)
    for (int y = 0; y < f->height / 2; ++y)
      for (int x = 0; x < f->width / 2; ++x) f->data[p][y * f->linesize[p] + x] = static_cast<std::uint8_t>(128 + ((x + index) % 9) - 4);
}

// Variable frame rate with a gap, in ms: 0, 40, 80, ... then +100 once.
ClipSpec vfr_clip(int frames, int w = 32, int h = 24) {
  ClipSpec s;
  s.width = w;
  s.height = h;
  std::int64_t t = 0;
  for (int i = 0; i < frames; ++i) {
    s.pts.push_back(t);
    t += i == frames / 2 ? 100 : 40;
  }
  s.subtitle = true;
  return s;
}

// Timestamps and an FNV hash of every decoded frame's pixels.
struct Frames {
  std::vector<double> times;
  std::vector<std::uint64_t> hashes;
  VideoFacts facts;
};

Frames frames_of(const std::string& path) {
  Frames out;
  out.facts = read_video(path, [&](const AVFrame* f) {
    std::uint64_t h = 1469598103934665603ULL;
    const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(f->format));
    for (int p = 0; p < 4 && f->data[p]; ++p) {
      const int rows = p == 0 || p == 3 ? f->height : AV_CEIL_RSHIFT(f->height, d->log2_chroma_h);
      const int bytes = av_image_get_linesize(static_cast<AVPixelFormat>(f->format), f->width, p);
      for (int y = 0; y < rows; ++y)
        for (int x = 0; x < bytes; ++x) h = (h ^ f->data[p][y * f->linesize[p] + x]) * 1099511628211ULL;
    }
    out.hashes.push_back(h);
  });
  out.times = out.facts.times;
  return out;
}

std::vector<nlohmann::json> json_lines(const std::string& path) {
  std::ifstream f(path);
  std::vector<nlohmann::json> out;
  for (std::string line; std::getline(f, line);)
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

// A loopback TCP listener on an ephemeral port.
struct Listener {
  int fd = -1;
  int port = 0;
  Listener() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd, 4);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~Listener() { ::close(fd); }
};

void send_all(int fd, const std::string& bytes) {
  std::size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<std::size_t>(n);
  }
}

std::string receive_all(int fd) {
  std::string out;
  char buf[65536];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  return out;
}

// A free loopback port (bound, then released) for yamiro to listen on.
int free_port() {
  Listener l;
  return l.port;
}

// Connects to 127.0.0.1:port, retrying while the peer is not listening yet.
int connect_retry(int port, double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) return fd;
    ::close(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return -1;
}

class VideoScale : public Cli {
 protected:
  int hidden_files() const {
    int n = 0;
    for (const auto& e : fs::directory_iterator(dir_)) n += e.path().filename().string()[0] == '.';
    return n;
  }
  // Runs shell `command` (yamiro as $Y) in the test folder; returns the exit code.
  int sh(const std::string& command) const {
    const std::string full = "cd " + dir_.string() + " || exit 99; Y=" + kBin + "; " + command;
    const int status = std::system(("bash -c '" + full + "'").c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  // Pieces of `in` as p0.mkv..p{n-1}.mkv, run concurrently; their --json lines.
  std::vector<nlohmann::json> pieces(const std::string& in, int n, const std::string& flags, const std::string& prefix = "p") {
    std::string cmd;
    for (int i = 0; i < n; ++i)
      cmd += "$Y -q video " + in + " --segment " + std::to_string(i) + "/" + std::to_string(n) + " -o " + prefix +
             std::to_string(i) + ".mkv " + flags + " --json > " + prefix + std::to_string(i) + ".json 2> " + prefix +
             std::to_string(i) + ".err & ";
    EXPECT_EQ(sh(cmd + "wait"), 0);
    std::vector<nlohmann::json> out;
    for (int i = 0; i < n; ++i) {
      const auto lines = json_lines(path(prefix + std::to_string(i) + ".json"));
      EXPECT_FALSE(lines.empty()) << read_file(path(prefix + std::to_string(i) + ".err"));
      for (std::size_t k = 0; k + 1 < lines.size(); ++k) EXPECT_EQ(lines[k].value("progress", false), true) << lines[k];
      out.push_back(lines.empty() ? nlohmann::json::object() : lines.back());
      EXPECT_NE(out.back().value("status", ""), "failed") << out.back();
    }
    return out;
  }
};

}  // namespace

TEST_F(VideoScale, PiecesRunConcurrentlyAndJoinedEqualOneRun) {
  ClipSpec spec = vfr_clip(30);
  spec.audio_seconds = 1.3;
  make_clip(path("clip.mkv"), spec, paint);
  ASSERT_EQ(yamiro("-q video " + path("clip.mkv") + " -o " + path("single.mkv") + kLossless).code, 0);
  const auto parts = pieces(path("clip.mkv"), 3, kLossless);
  std::int64_t sum = 0;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(parts[i]["status"], "done") << parts[i];
    EXPECT_EQ(parts[i]["segment"], std::to_string(i) + "/3");
    sum += parts[i]["frames"].get<std::int64_t>();
    EXPECT_GT(parts[i]["frames"].get<std::int64_t>(), 5) << "pieces split the 30 frames about evenly";
    if (i > 0) EXPECT_GT(parts[i]["first_timestamp"].get<double>(), parts[i - 1]["last_timestamp"].get<double>());
  }
  EXPECT_EQ(sum, 30);
  EXPECT_EQ(read_video(path("p1.mkv")).audio_streams, 0) << "a piece holds only the video";
  EXPECT_DOUBLE_EQ(parts[0]["first_timestamp"].get<double>(), 0.0);
  const auto r = yamiro("-q video " + path("clip.mkv") + " --join " + path("p0.mkv") + " " + path("p1.mkv") + " " +
                        path("p2.mkv") + " -o " + path("joined.mkv") + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = json_lines(path("stdout.txt"));
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["frames"], 30);
  const Frames single = frames_of(path("single.mkv")), joined = frames_of(path("joined.mkv"));
  ASSERT_EQ(single.times.size(), 30u);
  EXPECT_EQ(joined.times, single.times) << "same timestamps, gap included";
  EXPECT_EQ(joined.hashes, single.hashes) << "same pixels (FFV1)";
  EXPECT_EQ(joined.facts.width, 128);
  EXPECT_EQ(joined.facts.subtitle_streams, 1) << "the subtitles come once, from the source";
  EXPECT_EQ(joined.facts.audio_streams, 1) << "the audio comes once, from the source";
  EXPECT_EQ(joined.facts.audio_codec, "pcm_s16le");
  EXPECT_NEAR(single.facts.audio_duration, 1.3, 1e-3);
  EXPECT_NEAR(joined.facts.audio_duration, single.facts.audio_duration, 1e-3);
  EXPECT_EQ(hidden_files(), 0);
}

// Copies the video packets of the AVI `in` with first <= dts <= last, and its audio of that
// span, into the AVI `out` (no re-encoding: the bitstream stays as it is), the span moved
// to start at 0.
void cut_avi(const std::string& in, const std::string& out, std::int64_t first, std::int64_t last) {
  AVFormatContext* ic = nullptr;
  av_ok(avformat_open_input(&ic, in.c_str(), nullptr, nullptr), "open input");
  av_ok(avformat_find_stream_info(ic, nullptr), "stream info");
  const int vi = av_find_best_stream(ic, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  av_ok(vi, "video stream");
  AVFormatContext* oc = nullptr;
  av_ok(avformat_alloc_output_context2(&oc, nullptr, "avi", out.c_str()), "output");
  for (unsigned i = 0; i < ic->nb_streams; ++i) {
    AVStream* st = avformat_new_stream(oc, nullptr);
    av_ok(avcodec_parameters_copy(st->codecpar, ic->streams[i]->codecpar), "parameters");
    st->time_base = ic->streams[i]->time_base;
    st->avg_frame_rate = ic->streams[i]->avg_frame_rate;
    // AVI reads a non-zero block align as constant-size audio samples: the AC-3 packets
    // (one frame each, smaller than its block align) would come back with wrong times.
    if (st->codecpar->codec_type == AVMEDIA_TYPE_AUDIO) st->codecpar->block_align = 0;
  }
  av_ok(avio_open(&oc->pb, out.c_str(), AVIO_FLAG_WRITE), "open output");
  av_ok(avformat_write_header(oc, nullptr), "header");
  const AVRational vtb = ic->streams[vi]->time_base;
  const double t0 = first * av_q2d(vtb), t1 = (last + 1) * av_q2d(vtb);
  AVPacket* p = av_packet_alloc();
  while (av_read_frame(ic, p) >= 0) {
    const AVRational tb = ic->streams[p->stream_index]->time_base;
    const std::int64_t t = p->dts != AV_NOPTS_VALUE ? p->dts : p->pts;
    const bool keep = t != AV_NOPTS_VALUE && (p->stream_index == vi ? t >= first && t <= last
                                                                     : t * av_q2d(tb) >= t0 && t * av_q2d(tb) < t1);
    if (keep) {
      const std::int64_t shift = av_rescale_q(first, vtb, tb);
      if (p->dts != AV_NOPTS_VALUE) p->dts -= shift;
      p->pts = p->pts != AV_NOPTS_VALUE ? p->pts - shift : p->dts;  // AVI stores neither: this only quiets the muxer
      p->pos = -1;
      av_packet_rescale_ts(p, tb, oc->streams[p->stream_index]->time_base);
      av_ok(av_interleaved_write_frame(oc, p), "write");
    }
    av_packet_unref(p);
  }
  av_ok(av_write_trailer(oc), "trailer");
  avio_closep(&oc->pb);
  avformat_free_context(oc);
  av_packet_free(&p);
  avformat_close_input(&ic);
}

// Megamind.avi (opencv-doc): MPEG-4 with DivX packed B-frames in AVI, whose packets carry
// decode times only; it used to be refused as a source of pieces (piece 0 of 3 decoded 97
// frames where its packets promised 98: the frame at the cut belonged to neither piece).
// The whole clip (270 frames at 720x528) takes minutes through even the smallest fixture
// here, so the test cuts it without re-encoding: its packets 98..206 (109 frames, 4.5 s,
// its keyframes 98, 154 and 200 and its AC-3 audio of that span), which makes 3 pieces of
// 56, 46 and 7 frames. They run concurrently and, joined, equal one run in frame count,
// timestamps, FFV1 pixels and audio.
TEST_F(VideoScale, PackedBFrameAviPiecesJoinedEqualOneRun) {
  const std::string megamind = "/usr/share/doc/opencv-doc/examples/data/Megamind.avi";
  if (!fs::exists(megamind)) GTEST_SKIP() << megamind << " is missing (Debian's opencv-doc)";
  const std::string in = path("mm.avi");
  cut_avi(megamind, in, 98, 206);
  const std::string flags = " -m " + kFixtures + "/compact-x2-nc2-nf8.safetensors --precision fp32 --tile 0 --outscale 1 --codec ffv1 ";
  ASSERT_EQ(yamiro("-q video " + in + " -o " + path("single.mkv") + flags).code, 0);
  const auto parts = pieces(in, 3, flags);
  const std::int64_t expected[3] = {56, 46, 7};
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(parts[i]["status"], "done") << parts[i];
    EXPECT_EQ(parts[i].value("frames", std::int64_t{0}), expected[i]) << "piece " << i << " cut at the keyframes";
    if (i > 0) EXPECT_GT(parts[i].value("first_timestamp", 0.0), parts[i - 1].value("last_timestamp", 0.0));
  }
  const auto r = yamiro("-q video " + in + " --join " + path("p0.mkv") + " " + path("p1.mkv") + " " + path("p2.mkv") + " -o " +
                        path("joined.mkv") + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const Frames single = frames_of(path("single.mkv")), joined = frames_of(path("joined.mkv"));
  ASSERT_EQ(single.times.size(), 109u);
  EXPECT_DOUBLE_EQ(single.times.front(), 0.0) << "the first frame at the first packet's time, as the AVI says";
  EXPECT_EQ(joined.times, single.times);
  EXPECT_EQ(joined.hashes, single.hashes) << "same pixels (FFV1)";
  EXPECT_EQ(joined.facts.width, 720);
  EXPECT_EQ(joined.facts.audio_streams, 1) << "the audio comes once, from the source";
  EXPECT_EQ(joined.facts.audio_codec, "ac3");
  EXPECT_GT(single.facts.audio_duration, 4.0);
  EXPECT_NEAR(joined.facts.audio_duration, single.facts.audio_duration, 0.05);
  EXPECT_EQ(hidden_files(), 0);
}

TEST_F(VideoScale, JoinNamesAMissingForeignMisplacedOrCutPieceAndWritesNothing) {
  // FFV1 makes a keyframe every 12 frames: 36 frames give 3 pieces.
  make_clip(path("clip.mkv"), vfr_clip(36), paint);
  make_clip(path("other.mkv"), vfr_clip(36, 48, 32), paint);
  pieces(path("clip.mkv"), 3, kLossless);
  pieces(path("other.mkv"), 3, kLossless, "q");
  const std::string join = "-q video " + path("clip.mkv") + " -o " + path("out.mkv") + " --join ";
  auto r = yamiro(join + path("p0.mkv") + " " + path("p1.mkv"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("piece 2/3 is missing"), std::string::npos) << r.err;
  r = yamiro(join + path("p1.mkv") + " " + path("p0.mkv") + " " + path("p2.mkv"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("p1.mkv: is piece 1/3 but was given as piece 0"), std::string::npos) << r.err;
  r = yamiro(join + path("p0.mkv") + " " + path("q1.mkv") + " " + path("p2.mkv"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("q1.mkv: a piece of another video"), std::string::npos) << r.err;
  r = yamiro(join + path("p0.mkv") + " " + path("nothere.mkv") + " " + path("p2.mkv"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("nothere.mkv: cannot open"), std::string::npos) << r.err;
  // A piece cut short (a copy that stopped half-way).
  const std::string whole = read_file(path("p1.mkv"));
  std::ofstream(path("p1.mkv"), std::ios::binary) << whole.substr(0, whole.size() / 2);
  r = yamiro(join + path("p0.mkv") + " " + path("p1.mkv") + " " + path("p2.mkv"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("p1.mkv"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_FALSE(fs::exists(path("out.mkv")));
  EXPECT_EQ(hidden_files(), 0);
  // A piece that is not one at all, and bad --segment values.
  r = yamiro(join + path("clip.mkv") + " " + path("p1.mkv") + " " + path("p2.mkv"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("clip.mkv: not a piece"), std::string::npos) << r.err;
  EXPECT_EQ(yamiro("-q video " + path("clip.mkv") + " --segment 3/3 -o " + path("x.mkv") + kLossless).code, 2);
  EXPECT_EQ(yamiro("-q video " + path("clip.mkv") + " --segment 0/3 -o " + path("x.mp4") + kLossless).code, 2);
  r = yamiro("-q video " + path("clip.mkv") + " --segment 0/40 -o " + path("x.mkv") + kLossless);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("too few for 40 pieces"), std::string::npos) << r.err;
}

TEST_F(VideoScale, SkipExistingResumesAKilledArrayJob) {
  make_clip(path("clip.mkv"), vfr_clip(60, 64, 48), paint);
  pieces(path("clip.mkv"), 3, kLossless);
  // Piece 1 is "killed": SIGKILL shortly after it starts, and its file is then gone;
  // a half-written copy stands for a piece lost otherwise.
  fs::remove(path("p1.mkv"));
  sh("$Y -q video clip.mkv --segment 1/3 -o p1.mkv " + kLossless + " & sleep 0.3; kill -KILL $! ; wait");
  if (!fs::exists(path("p1.mkv"))) {
    const std::string p2 = read_file(path("p2.mkv"));
    std::ofstream(path("p1.mkv"), std::ios::binary) << p2.substr(0, p2.size() / 3);
  }
  const auto again = pieces(path("clip.mkv"), 3, kLossless + " --skip-existing");
  EXPECT_EQ(again[0]["status"], "skipped");
  EXPECT_EQ(again[2]["status"], "skipped");
  EXPECT_EQ(again[0]["frames"], 24) << "keyframes every 12 frames: the first at or after frame 20";
  const std::string p1 = read_file(path("p1.mkv"));
  const auto r = yamiro("-q video " + path("clip.mkv") + " --join " + path("p0.mkv") + " " + path("p1.mkv") + " " +
                        path("p2.mkv") + " -o " + path("joined.mkv"));
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(yamiro("-q video " + path("clip.mkv") + " -o " + path("single.mkv") + kLossless).code, 0);
  EXPECT_EQ(frames_of(path("joined.mkv")).hashes, frames_of(path("single.mkv")).hashes);
}

TEST_F(VideoScale, StdinAndAFifoAreRead) {
  make_clip(path("clip.mkv"), vfr_clip(12), paint);
  const Frames src = frames_of(path("clip.mkv"));
  ASSERT_EQ(sh("$Y -q video - -o a.mkv " + kLossless + " < clip.mkv"), 0);
  EXPECT_EQ(frames_of(path("a.mkv")).times, src.times);
  ASSERT_EQ(sh("cat clip.mkv | $Y -q video pipe:0 --input-format matroska -o b.mkv " + kLossless), 0);
  EXPECT_EQ(frames_of(path("b.mkv")).times, src.times);
  ASSERT_EQ(::mkfifo(path("fifo").c_str(), 0600), 0);
  std::thread writer([&] { std::ofstream(path("fifo"), std::ios::binary) << read_file(path("clip.mkv")); });
  const auto r = yamiro("-q video " + path("fifo") + " -o " + path("c.mkv") + kLossless);
  writer.join();
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(frames_of(path("c.mkv")).times, src.times);
  // A stream has no name to derive an output from; pieces need a seekable file.
  EXPECT_EQ(sh("$Y -q video - " + kLossless + " < clip.mkv"), 2);
  EXPECT_EQ(sh("$Y -q video - --segment 0/2 -o s.mkv " + kLossless + " < clip.mkv 2> seg.err"), 2);
  EXPECT_NE(read_file(path("seg.err")).find("pipe:0: --segment and --join need a seekable file"), std::string::npos);
}

TEST_F(VideoScale, StdoutAndTcpOutputsAreWrittenDirectly) {
  make_clip(path("clip.mkv"), vfr_clip(12), paint);
  const Frames src = frames_of(path("clip.mkv"));
  ASSERT_EQ(sh("$Y -q video clip.mkv -o - --format matroska " + kLossless + " > out.mkv"), 0);
  EXPECT_EQ(frames_of(path("out.mkv")).times, src.times);
  ASSERT_EQ(sh("$Y -q video clip.mkv -o - --format mp4 --muxer-opt movflags=+frag_keyframe+empty_moov " + kTiny +
               " --preset ultrafast | cat > frag.mp4"), 0);
  EXPECT_EQ(frames_of(path("frag.mp4")).facts.frames(), 12);
  // Into a TCP peer listening on loopback.
  Listener l;
  std::string got;
  std::thread peer([&] {
    const int c = ::accept(l.fd, nullptr, nullptr);
    got = receive_all(c);
    ::close(c);
  });
  const auto r = yamiro("-q video " + path("clip.mkv") + " -o tcp://127.0.0.1:" + std::to_string(l.port) + " --format matroska" + kLossless);
  peer.join();
  ASSERT_EQ(r.code, 0) << r.err;
  std::ofstream(path("tcp.mkv"), std::ios::binary) << got;
  EXPECT_EQ(frames_of(path("tcp.mkv")).times, src.times);
  EXPECT_EQ(hidden_files(), 0);
  // A URL without --format, an unknown muxer, an unknown option.
  EXPECT_EQ(yamiro("-q video " + path("clip.mkv") + " -o tcp://127.0.0.1:1" + kLossless).code, 2);
  EXPECT_EQ(yamiro("-q video " + path("clip.mkv") + " -o - --format nosuchmuxer" + kLossless).code, 2);
  EXPECT_EQ(yamiro("-q video " + path("clip.mkv") + " -o " + path("o.mkv") + " --muxer-opt nosuchopt=1" + kLossless).code, 2);
  EXPECT_FALSE(fs::exists(path("o.mkv")));
}

TEST_F(VideoScale, TcpAndHttpInputsOverLoopback) {
  make_clip(path("clip.mkv"), vfr_clip(12), paint);
  const std::string bytes = read_file(path("clip.mkv"));
  const Frames src = frames_of(path("clip.mkv"));
  // yamiro connects to a listening peer.
  {
    Listener l;
    std::thread peer([&] {
      const int c = ::accept(l.fd, nullptr, nullptr);
      send_all(c, bytes);
      ::close(c);
    });
    const auto r = yamiro("-q video tcp://127.0.0.1:" + std::to_string(l.port) + " -o " + path("a.mkv") + kLive + kLossless);
    peer.join();
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(frames_of(path("a.mkv")).times, src.times);
  }
  // yamiro listens; the peer connects and sends.
  {
    const int port = free_port();
    std::thread peer([&] {
      const int c = connect_retry(port, 20);
      if (c >= 0) {
        send_all(c, bytes);
        ::close(c);
      }
    });
    const auto r = yamiro("-q video tcp://127.0.0.1:" + std::to_string(port) + " --input-opt listen=1 -o " + path("b.mkv") + kLive + kLossless);
    peer.join();
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(frames_of(path("b.mkv")).times, src.times);
  }
  // HTTP from a one-request server.
  {
    Listener l;
    std::thread server([&] {
      const int c = ::accept(l.fd, nullptr, nullptr);
      char buf[4096];
      (void)::recv(c, buf, sizeof buf, 0);
      send_all(c, "HTTP/1.1 200 OK\r\nContent-Type: video/x-matroska\r\nContent-Length: " + std::to_string(bytes.size()) +
                      "\r\nConnection: close\r\n\r\n" + bytes);
      ::close(c);
    });
    const auto r = yamiro("-q video http://127.0.0.1:" + std::to_string(l.port) + "/clip.mkv -o " + path("c.mkv") + kLossless);
    server.join();
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(frames_of(path("c.mkv")).times, src.times);
  }
}

TEST_F(VideoScale, UdpMpegTsStreamEndsAfterTheTimeoutOfSilence) {
  ClipSpec spec = vfr_clip(20);
  spec.subtitle = false;
  spec.codec = "libx264";
  make_clip(path("clip.ts"), spec, paint);
  const std::string bytes = read_file(path("clip.ts"));
  const int port = free_port();
  std::thread sender([&] {
    // Datagrams sent before yamiro binds are lost: wait for its socket in /proc/net/udp.
    char hex[8];
    std::snprintf(hex, sizeof hex, ":%04X ", port);
    for (int i = 0; i < 400 && read_file("/proc/net/udp").find(hex) == std::string::npos; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    for (std::size_t off = 0; off < bytes.size(); off += 1316) {
      ::sendto(fd, bytes.data() + off, std::min<std::size_t>(1316, bytes.size() - off), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
      std::this_thread::sleep_for(std::chrono::microseconds(300));
    }
    ::close(fd);
  });
  const auto r = yamiro("video udp://127.0.0.1:" + std::to_string(port) + " --input-format mpegts --timeout 2 -o " +
                        path("u.mkv") + kLive + kLossless);
  sender.join();
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("taken as the end of the stream"), std::string::npos) << r.err;
  EXPECT_EQ(frames_of(path("u.mkv")).facts.frames(), frames_of(path("clip.ts")).facts.frames());
}

TEST_F(VideoScale, UnreachableOrStalledUrlsFailWithinTheTimeout) {
  // Refused: nothing listens on a port just released.
  const int port = free_port();
  auto t0 = std::chrono::steady_clock::now();
  auto r = yamiro("-q video tcp://127.0.0.1:" + std::to_string(port) + " -o " + path("a.mkv") + kLossless);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("tcp://127.0.0.1:" + std::to_string(port) + ": cannot open"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  // Stalled: a peer that accepts and sends nothing.
  Listener l;
  std::atomic<bool> done{false};
  std::thread peer([&] {
    const int c = ::accept(l.fd, nullptr, nullptr);
    while (!done) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ::close(c);
  });
  t0 = std::chrono::steady_clock::now();
  r = yamiro("-q video tcp://127.0.0.1:" + std::to_string(l.port) + " --timeout 2 -o " + path("b.mkv") + kLossless);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  done = true;
  peer.join();
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("no data for 2 s"), std::string::npos) << r.err;
  EXPECT_LT(s, 8.0);
  EXPECT_FALSE(fs::exists(path("b.mkv")));
  // Options nobody takes are usage errors.
  make_clip(path("clip.mkv"), vfr_clip(4), paint);
  EXPECT_EQ(yamiro("-q video " + path("clip.mkv") + " --input-opt nosuchopt=1 -o " + path("c.mkv") + kLossless).code, 2);
  EXPECT_EQ(yamiro("-q video " + path("clip.mkv") + " --input-format nosuchdemuxer -o " + path("c.mkv") + kLossless).code, 2);
}
