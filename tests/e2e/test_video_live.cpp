// End-to-end: `yamiro video` in live mode and with JSON progress, on the real binary, over
// loopback. The streams are made and published (or received) with libav inside the test:
// MPEG-TS over TCP and SRT, RTSP publish to a listening yamiro, RTMP publish by yamiro to a
// listening test. YAMIRO_TEST_FAULT=slow-video-frame=MS makes the network slower than the stream.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "e2e/harness.hpp"
#include "e2e/video_clips.hpp"

extern "C" {
#include <libavutil/opt.h>
}

using namespace e2e;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kLossless = kTiny + " --precision fp32 --tile 0 --codec ffv1 ";

const int kQuietLibav = [] {
  av_log_set_level(AV_LOG_QUIET);
  return 0;
}();

void paint(int index, AVFrame* f) {
  for (int y = 0; y < f->height; ++y)
    for (int x = 0; x < f->width; ++x) f->data[0][y * f->linesize[0] + x] = static_cast<std::uint8_t>(16 + (x * 3 + y * 2 + index * 7) % 220);
  for (int p = 1; p < 3; ++p)
    for (int y = 0; y < f->height / 2; ++y)
      for (int x = 0; x < f->width / 2; ++x) f->data[p][y * f->linesize[p] + x] = static_cast<std::uint8_t>(128 + ((x + index) % 9) - 4);
}

// A constant-rate clip: `frames` frames at 25 fps (timestamps in ms).
ClipSpec clip_25fps(int frames) {
  ClipSpec s;
  for (int i = 0; i < frames; ++i) s.pts.push_back(i * 40);
  return s;
}

std::vector<nlohmann::json> json_lines(const std::string& path) {
  std::ifstream f(path);
  std::vector<nlohmann::json> out;
  for (std::string line; std::getline(f, line);)
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

// A loopback port that was free a moment ago.
int free_port(int type = SOCK_STREAM) {
  const int fd = ::socket(AF_INET, type, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// Waits until something listens on TCP `port` (so that a client does not race the bind).
void wait_listening(int port) {
  char row[40];  // local address, no remote one, state LISTEN
  std::snprintf(row, sizeof row, ":%04X 00000000:0000 0A", port);
  for (int i = 0; i < 400 && read_file("/proc/net/tcp").find(row) == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

// Encodes `frames` 64x48 H.264 frames at 25 fps and muxes them (muxer `format`) into
// `url`, one frame every 40 ms of wall time, retrying the connection for up to 20 s
// while the receiver is not listening yet. Returns the frames sent.
int publish(const std::string& url, const char* format, int frames, const std::vector<std::pair<const char*, const char*>>& options = {}) {
  const auto give_up = Clock::now() + std::chrono::seconds(20);
  for (;;) {
    AVFormatContext* oc = nullptr;
    av_ok(avformat_alloc_output_context2(&oc, nullptr, format, url.c_str()), "output");
    const AVCodec* codec = avcodec_find_encoder_by_name("libx264");
    AVCodecContext* enc = avcodec_alloc_context3(codec);
    enc->width = 64;
    enc->height = 48;
    enc->pix_fmt = AV_PIX_FMT_YUV420P;
    enc->time_base = {1, 25};
    enc->framerate = {25, 1};
    enc->gop_size = 25;
    if (oc->oformat->flags & AVFMT_GLOBALHEADER) enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    av_opt_set(enc->priv_data, "preset", "ultrafast", 0);
    av_opt_set(enc->priv_data, "tune", "zerolatency", 0);
    av_ok(avcodec_open2(enc, codec, nullptr), "open encoder");
    AVStream* st = avformat_new_stream(oc, nullptr);
    av_ok(avcodec_parameters_from_context(st->codecpar, enc), "params");
    st->time_base = enc->time_base;
    AVDictionary* opts = nullptr;
    for (const auto& [k, v] : options) av_dict_set(&opts, k, v, 0);
    int r = 0;
    if (!(oc->oformat->flags & AVFMT_NOFILE)) r = avio_open2(&oc->pb, url.c_str(), AVIO_FLAG_WRITE, nullptr, &opts);
    if (r >= 0) r = avformat_write_header(oc, &opts);
    av_dict_free(&opts);
    if (r < 0) {
      if (oc->pb) avio_closep(&oc->pb);
      avformat_free_context(oc);
      avcodec_free_context(&enc);
      if (Clock::now() > give_up) return 0;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    AVFrame* frame = av_frame_alloc();
    frame->format = enc->pix_fmt;
    frame->width = enc->width;
    frame->height = enc->height;
    av_ok(av_frame_get_buffer(frame, 0), "frame");
    AVPacket* pkt = av_packet_alloc();
    bool ok = true;
    auto drain = [&] {
      while (avcodec_receive_packet(enc, pkt) == 0) {
        av_packet_rescale_ts(pkt, enc->time_base, st->time_base);
        pkt->stream_index = 0;
        ok = ok && av_interleaved_write_frame(oc, pkt) >= 0;
      }
    };
    const auto start = Clock::now();
    int sent = 0;
    for (; sent < frames && ok; ++sent) {
      std::this_thread::sleep_until(start + std::chrono::milliseconds(40 * sent));
      av_frame_make_writable(frame);
      paint(sent, frame);
      frame->pts = sent;
      avcodec_send_frame(enc, frame);
      drain();
      if (oc->pb) avio_flush(oc->pb);
    }
    avcodec_send_frame(enc, nullptr);
    drain();
    av_write_trailer(oc);
    // SRT in live mode drops what is still in flight when the socket closes: let it arrive.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    if (oc->pb) avio_closep(&oc->pb);
    avformat_free_context(oc);
    av_packet_free(&pkt);
    av_frame_free(&frame);
    avcodec_free_context(&enc);
    return sent;
  }
}

// Listens on `url` (demuxer `format`, `options` such as listen=1) for one stream and
// remuxes it into the file `to`. Returns false when nothing came.
bool receive(const std::string& url, const char* format, const std::string& to,
             const std::vector<std::pair<const char*, const char*>>& options) {
  AVFormatContext* ic = nullptr;
  AVDictionary* opts = nullptr;
  for (const auto& [k, v] : options) av_dict_set(&opts, k, v, 0);
  const int r = avformat_open_input(&ic, url.c_str(), av_find_input_format(format), &opts);
  av_dict_free(&opts);
  if (r < 0) return false;
  if (avformat_find_stream_info(ic, nullptr) < 0) {
    avformat_close_input(&ic);
    return false;
  }
  AVFormatContext* oc = nullptr;
  av_ok(avformat_alloc_output_context2(&oc, nullptr, nullptr, to.c_str()), "copy output");
  for (unsigned i = 0; i < ic->nb_streams; ++i) {
    AVStream* st = avformat_new_stream(oc, nullptr);
    avcodec_parameters_copy(st->codecpar, ic->streams[i]->codecpar);
    st->codecpar->codec_tag = 0;
    st->time_base = ic->streams[i]->time_base;
  }
  av_ok(avio_open(&oc->pb, to.c_str(), AVIO_FLAG_WRITE), "copy open");
  av_ok(avformat_write_header(oc, nullptr), "copy header");
  AVPacket* pkt = av_packet_alloc();
  while (av_read_frame(ic, pkt) >= 0) {
    av_packet_rescale_ts(pkt, ic->streams[pkt->stream_index]->time_base, oc->streams[pkt->stream_index]->time_base);
    pkt->pos = -1;
    av_interleaved_write_frame(oc, pkt);
  }
  av_write_trailer(oc);
  avio_closep(&oc->pb);
  avformat_free_context(oc);
  av_packet_free(&pkt);
  avformat_close_input(&ic);
  return true;
}

// Frame times strictly increase, and each is one of the source's (a multiple of 40 ms from
// the first, counting from frame `from`).
void expect_source_times(const std::vector<double>& t, std::size_t from = 0) {
  std::string first;
  for (std::size_t i = 0; i < t.size() && i < 12; ++i) first += std::to_string(t[i]) + " ";
  for (std::size_t i = 1; i < t.size(); ++i) {
    ASSERT_GT(t[i], t[i - 1]) << "frame " << i << "; times " << first;
    if (i <= from) continue;
    const double ticks = (t[i] - t[from]) / 0.04;
    ASSERT_NEAR(ticks, std::round(ticks), 0.03) << "frame " << i << " at " << t[i];
  }
}

// The progress lines (all but the last line), checked for their common fields.
std::vector<nlohmann::json> progress_lines(const std::vector<nlohmann::json>& lines, bool live) {
  std::vector<nlohmann::json> out;
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
    const auto& j = lines[i];
    EXPECT_EQ(j.value("progress", false), true) << j;
    EXPECT_EQ(j.value("status", ""), "running") << j;
    for (const char* key : {"input", "output", "frames", "fps", "seconds"}) EXPECT_TRUE(j.contains(key)) << key << " in " << j;
    EXPECT_EQ(j.contains("latency"), live) << j;
    EXPECT_EQ(j.contains("dropped_frames"), live) << j;
    if (!out.empty()) {
      const double gap = j["seconds"].get<double>() - out.back()["seconds"].get<double>();
      EXPECT_GT(gap, 0.5) << "one line a second";
      EXPECT_LT(gap, 2.0) << "one line a second";
      EXPECT_GE(j["frames"].get<std::int64_t>(), out.back()["frames"].get<std::int64_t>());
    }
    out.push_back(j);
  }
  return out;
}

class VideoLive : public Cli {
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
};

}  // namespace

TEST_F(VideoLive, SlowNetworkDropsOldestFirstAndHoldsTheLatencyBound) {
  // 75 frames at 25 fps over TCP (3 s), a network held to 150 ms a frame (6.7 fps).
  const int port = free_port();
  int sent = 0;
  std::thread sender([&] { sent = publish("tcp://127.0.0.1:" + std::to_string(port), "mpegts", 75); });
  const auto r = yamiro("video tcp://127.0.0.1:" + std::to_string(port) + " --input-opt listen=1 --timeout 20 --max-latency 0.5 -o " +
                            path("live.mkv") + " --json" + kLossless,
                        "YAMIRO_TEST_FAULT=slow-video-frame=150");
  sender.join();
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(sent, 75);
  EXPECT_NE(r.err.find("dropping frames oldest-first"), std::string::npos) << "the drops are logged: " << r.err;
  const auto lines = json_lines(path("stdout.txt"));
  ASSERT_GE(lines.size(), 3u) << "progress lines, then the summary";
  const auto& s = lines.back();
  EXPECT_EQ(s["status"], "done") << s;
  EXPECT_EQ(s["live"], true) << "a TCP input is live unless --no-live";
  EXPECT_EQ(s["ended"], "end of stream");
  const auto frames = s["frames"].get<std::int64_t>(), dropped = s["dropped_frames"].get<std::int64_t>();
  EXPECT_GT(dropped, 20) << "the network keeps up with about a quarter of the frames";
  EXPECT_GT(frames, 5);
  EXPECT_EQ(frames + dropped, 75) << "every frame is written or counted as dropped";
  // The bound (0.5 s) held, with 0.3 s of slack for a loaded machine's scheduling.
  EXPECT_GT(s["latency_max"].get<double>(), 0.1);
  EXPECT_LT(s["latency_max"].get<double>(), 0.8) << s;
  EXPECT_LE(s["latency_mean"].get<double>(), 0.5 + 0.05) << s;
  const auto progress = progress_lines(lines, true);
  ASSERT_GE(progress.size(), 2u);
  EXPECT_FALSE(progress[0].contains("total")) << "a stream's length is unknown";
  EXPECT_GT(progress.back()["dropped_frames"].get<std::int64_t>(), 0);
  EXPECT_LT(progress.back()["latency"].get<double>(), 0.8);
  // The file is complete: every frame written decodes, at one of the source's times, rising.
  const VideoFacts out = read_video(path("live.mkv"));
  EXPECT_EQ(out.frames(), frames);
  EXPECT_EQ(out.width, 256);
  expect_source_times(out.times);
  EXPECT_EQ(hidden_files(), 0);
}

TEST_F(VideoLive, CtrlCFinishesTheFileInsteadOfDeletingIt) {
  // A file in live mode is read at its own pace, as a camera would send it: 150 frames = 6 s.
  // The signal comes once a progress line says frames were written (not during start-up).
  ClipSpec spec = clip_25fps(150);
  spec.audio_seconds = 6;
  make_clip(path("clip.mkv"), spec, paint);
  const int code = sh("$Y video clip.mkv --live -o rec.mp4 " + kTiny +
                      " --preset ultrafast --json > out.json 2> err.txt & pid=$!; for i in $(seq 300); do"
                      " grep -q frames.:[1-9] out.json && break; sleep 0.05; done; kill -INT $pid; wait $pid");
  EXPECT_EQ(code, 0) << read_file(path("err.txt"));
  const auto lines = json_lines(path("out.json"));
  ASSERT_FALSE(lines.empty()) << read_file(path("err.txt"));
  const auto& j = lines.back();
  EXPECT_EQ(j["status"], "done") << j;
  EXPECT_EQ(j["ended"], "interrupted");
  const auto frames = j["frames"].get<std::int64_t>();
  EXPECT_GT(frames, 0);
  EXPECT_LT(frames, 150) << "stopped before the end of the clip";
  // An MP4 is only readable with its trailer (the moov box): the trailer was written.
  ASSERT_TRUE(fs::exists(path("rec.mp4")));
  const VideoFacts out = read_video(path("rec.mp4"));
  EXPECT_EQ(out.frames(), frames);
  EXPECT_EQ(out.missing_timestamps, 0);
  expect_source_times(out.times);
  // The audio (PCM, transcoded to AAC for MP4) ends with the last frame written.
  ASSERT_EQ(out.audio_streams, 1);
  EXPECT_EQ(out.audio_codec, "aac");
  EXPECT_NEAR(out.audio_duration, out.duration(), 0.25) << "video " << out.duration() << " s";
  EXPECT_EQ(hidden_files(), 0);
}

TEST_F(VideoLive, JsonProgressLinesEverySecondWithTotalAndEta) {
  make_clip(path("clip.mkv"), clip_25fps(30), paint);
  const auto r = yamiro("-q video " + path("clip.mkv") + " -o " + path("out.mkv") + " --json" + kLossless,
                        "YAMIRO_TEST_FAULT=slow-video-frame=100");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto lines = json_lines(path("stdout.txt"));
  ASSERT_GE(lines.size(), 3u);
  const auto progress = progress_lines(lines, false);
  ASSERT_GE(progress.size(), 2u);
  for (const auto& p : progress) {
    const auto total = p["total"].get<std::int64_t>(), done = p["frames"].get<std::int64_t>();
    EXPECT_NEAR(total, 30, 1) << "estimated from the container's duration: " << p;
    EXPECT_EQ(p["input"], path("clip.mkv"));
    if (done > 0 && done < total) {
      EXPECT_TRUE(p.contains("eta")) << p;
      EXPECT_GT(p["eta"].get<double>(), 0) << p;
    }
  }
  // The summary line is the same as without progress lines; no live fields on a file.
  EXPECT_EQ(lines.back()["status"], "done");
  EXPECT_EQ(lines.back()["frames"], 30);
  EXPECT_FALSE(lines.back().contains("live"));
  EXPECT_FALSE(lines.back().contains("progress"));
}

TEST_F(VideoLive, RtspPublishToAListeningYamiro) {
  const int port = free_port();
  const std::string url = "rtsp://127.0.0.1:" + std::to_string(port) + "/live";
  int sent = 0;
  std::thread sender([&] { sent = publish(url, "rtsp", 50, {{"rtsp_transport", "tcp"}}); });
  const auto r = yamiro("-q video " + url + " --input-opt rtsp_flags=listen --input-opt rtsp_transport=tcp --timeout 20 -o " +
                        path("rtsp.mkv") + " --json" + kLossless);
  sender.join();
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(sent, 50);
  const auto j = json_lines(path("stdout.txt")).back();
  EXPECT_EQ(j["live"], true);
  EXPECT_EQ(j["frames"].get<int>() + j["dropped_frames"].get<int>(), 50) << j;
  EXPECT_GT(j["frames"].get<int>(), 0) << j;
  const VideoFacts out = read_video(path("rtsp.mkv"));
  EXPECT_EQ(out.frames(), j["frames"].get<int>());
  // RTP gives the first frames times of its own before the first RTCP sender report (here
  // 0 then -11 ms): they are kept rising, one output tick apart, and the rest are the source's.
  expect_source_times(out.times, 2);
}

TEST_F(VideoLive, RtmpBothWays) {
  // yamiro publishes a file to an RTMP listener (the test).
  make_clip(path("clip.mkv"), clip_25fps(30), paint);
  const int port = free_port();
  const std::string url = "rtmp://127.0.0.1:" + std::to_string(port) + "/live/s";
  bool got = false;
  std::thread listener([&] { got = receive(url, "flv", path("got.mkv"), {{"listen", "1"}, {"timeout", "20"}}); });
  wait_listening(port);
  auto r = yamiro("-q video " + path("clip.mkv") + " -o " + url + " --format flv" + kTiny + " --preset ultrafast");
  listener.join();
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_TRUE(got);
  VideoFacts out = read_video(path("got.mkv"));
  EXPECT_EQ(out.frames(), 30);
  EXPECT_EQ(out.width, 256);
  expect_source_times(out.times);
  // A publisher (the test) to yamiro listening for RTMP: live, implied.
  const int port2 = free_port();
  const std::string url2 = "rtmp://127.0.0.1:" + std::to_string(port2) + "/live/s";
  int sent = 0;
  std::thread sender([&] { sent = publish(url2, "flv", 40); });
  r = yamiro("-q video " + url2 + " --input-opt listen=1 --timeout 20 -o " + path("rtmp.mkv") + " --json" + kLossless);
  sender.join();
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(sent, 40);
  const auto j = json_lines(path("stdout.txt")).back();
  EXPECT_EQ(j["live"], true);
  EXPECT_EQ(j["frames"].get<int>() + j["dropped_frames"].get<int>(), 40) << j;
  out = read_video(path("rtmp.mkv"));
  EXPECT_EQ(out.frames(), j["frames"].get<int>());
  expect_source_times(out.times);
}

TEST_F(VideoLive, SrtMpegTsToAListeningYamiro) {
  const int port = free_port(SOCK_DGRAM);
  int sent = 0;
  std::thread sender([&] { sent = publish("srt://127.0.0.1:" + std::to_string(port) + "?mode=caller", "mpegts", 40); });
  const auto r = yamiro("-q video srt://127.0.0.1:" + std::to_string(port) +
                        "?mode=listener --input-format mpegts --timeout 3 -o " + path("srt.mkv") + " --json" + kLossless);
  sender.join();
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(sent, 40);
  const auto j = json_lines(path("stdout.txt")).back();
  EXPECT_EQ(j["live"], true);
  EXPECT_EQ(j["frames"].get<int>() + j["dropped_frames"].get<int>(), 40) << j;
  const VideoFacts out = read_video(path("srt.mkv"));
  EXPECT_EQ(out.frames(), j["frames"].get<int>());
  expect_source_times(out.times);
}

TEST_F(VideoLive, LiveFlagsAreChecked) {
  make_clip(path("clip.mkv"), clip_25fps(4), paint);
  const std::string base = "-q video " + path("clip.mkv") + " -o " + path("x.mkv") + kLossless;
  EXPECT_EQ(yamiro(base + " --live --no-live").code, 2);
  EXPECT_EQ(yamiro(base + " --live --max-latency 0").code, 2);
  EXPECT_EQ(yamiro("-q video " + path("clip.mkv") + " --segment 0/1 --live -o " + path("p.mkv") + kLossless).code, 2);
  EXPECT_FALSE(fs::exists(path("x.mkv")));
  // --live on a file: the live fields, every frame accounted for.
  const auto r = yamiro(base + " --live --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = json_lines(path("stdout.txt")).back();
  EXPECT_EQ(j["live"], true);
  EXPECT_EQ(j["max_latency"], 2.0);
  EXPECT_EQ(j["ended"], "end of stream");
  EXPECT_EQ(j["frames"].get<int>() + j["dropped_frames"].get<int>(), 4) << j;
}
