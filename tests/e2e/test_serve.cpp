// yamiro serve: the real binary as a server, driven by a real HTTP client (httplib).
#include <atomic>
#include <cstdio>
#include <random>

#include "e2e/serve_harness.hpp"

using namespace e2e;
using nlohmann::json;

namespace {

const std::string kTinyModel = kFixtures + "/compact-x4-nc4-nf16.param";
// Tiles of 32 px: the fixture runs as several tiles, so progress moves in steps.
const std::string kEngine = "-m " + kTinyModel + " --tile 32";

httplib::MultipartFormDataItems form(const std::string& bytes, const std::string& filename,
                                     const std::vector<std::pair<std::string, std::string>>& fields = {}) {
  httplib::MultipartFormDataItems items = {{"image", bytes, filename, "application/octet-stream"}};
  for (const auto& [k, v] : fields) items.push_back({k, v, "", ""});
  return items;
}

// Polls a job until it leaves queued/running; returns its last JSON.
json wait_for(httplib::Client& c, const std::string& id, int seconds = 60) {
  json j;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    j = parse(c.Get("/api/jobs/" + id));
    if (j.is_object() && j.value("state", "") != "queued" && j.value("state", "") != "running") return j;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return j;
}

std::string encode_png(const cv::Mat& m) {
  std::vector<unsigned char> buf;
  cv::imencode(".png", m, buf);
  return std::string(buf.begin(), buf.end());
}

cv::Mat noise(int w, int h, int type, unsigned seed) {
  cv::Mat m(h, w, type);
  cv::theRNG().state = seed;
  cv::randu(m, cv::Scalar::all(0), cv::Scalar::all(CV_MAT_DEPTH(type) == CV_16U ? 65535 : 255));
  return m;
}

// A PNG whose header claims `w` x `h` (a decompression bomb as far as the header goes).
std::string png_claiming(std::uint32_t w, std::uint32_t h) {
  std::string s = encode_png(noise(8, 8, CV_8UC3, 1));
  for (int i = 0; i < 4; ++i) {
    s[16 + i] = static_cast<char>((w >> (24 - 8 * i)) & 0xFF);
    s[20 + i] = static_cast<char>((h >> (24 - 8 * i)) & 0xFF);
  }
  return s;
}

class Serve : public Cli {
 protected:
  std::unique_ptr<ServeProcess> start(const std::string& args) {
    return std::make_unique<ServeProcess>(args, path("serve-stderr.txt"));
  }
  // `yamiro upscale` of the same file with the same options: the reference bytes.
  std::string upscaled_by_cli(const std::string& input, const std::string& options, const std::string& ext = ".png") {
    const std::string out = path("cli-" + fs::path(input).stem().string() + ext);
    const auto r = yamiro("-q upscale " + input + " -o " + out + " --overwrite " + kEngine + " " + options);
    EXPECT_EQ(r.code, 0) << r.err;
    return file_bytes(out);
  }
};

TEST_F(Serve, UploadPollDownloadGivesTheSameBytesAsUpscale) {
  auto server = start(kEngine);
  auto c = server->client();
  // An RGB fixture with defaults, and an RGBA 16-bit image with alpha, outscale and format.
  cv::imwrite(path("rgba16.png"), noise(37, 29, CV_16UC4, 7));
  struct Case {
    std::string input;
    std::vector<std::pair<std::string, std::string>> fields;
    std::string cli_options, ext;
    int width, height;
  };
  const std::vector<Case> cases = {
      {kFixtures + "/rgb48x60.png", {}, "", ".png", 240, 192},
      {path("rgba16.png"), {{"alpha", "bicubic"}, {"outscale", "2.5"}, {"format", "tif"}}, "--alpha bicubic --outscale 2.5", ".tif", 93, 73},
  };
  for (const auto& k : cases) {
    const auto posted = c.Post("/api/jobs", form(file_bytes(k.input), "../../evil/" + fs::path(k.input).filename().string(), k.fields));
    ASSERT_TRUE(posted);
    ASSERT_EQ(posted->status, 202) << posted->body;
    const json job = parse(posted);
    const std::string id = job["id"];
    EXPECT_EQ(id.size(), 32u);
    EXPECT_EQ(posted->get_header_value("Location"), "/api/jobs/" + id);
    EXPECT_EQ(job["name"], fs::path(k.input).filename().string()) << "the client's folders are dropped";

    const json done = wait_for(c, id);
    ASSERT_EQ(done["state"], "done") << done.dump();
    EXPECT_EQ(done["progress"], 1.0);
    EXPECT_GT(done["tiles_total"].get<int>(), 1);
    EXPECT_EQ(done["tiles_done"], done["tiles_total"]);
    EXPECT_EQ(done["output_width"], k.width);
    EXPECT_EQ(done["output_height"], k.height);

    const auto result = c.Get("/api/jobs/" + id + "/result");
    ASSERT_TRUE(result);
    ASSERT_EQ(result->status, 200) << result->body;
    EXPECT_EQ(result->get_header_value("Content-Type"), k.ext == ".png" ? "image/png" : "image/tiff");
    EXPECT_NE(result->get_header_value("Content-Disposition").find("_x"), std::string::npos);
    EXPECT_EQ(result->get_header_value("Content-Disposition").find(".."), std::string::npos);
    const std::string want = upscaled_by_cli(k.input, k.cli_options, k.ext);
    ASSERT_FALSE(want.empty());
    EXPECT_TRUE(result->body == want) << k.input << ": serve and upscale differ (" << result->body.size() << " vs " << want.size()
                                      << " bytes)";
    const cv::Mat img = cv::imdecode(std::vector<unsigned char>(result->body.begin(), result->body.end()), cv::IMREAD_UNCHANGED);
    EXPECT_EQ(img.cols, k.width);
    EXPECT_EQ(img.rows, k.height);
  }
  // The job list has both; the server stops cleanly on SIGINT (Ctrl-C).
  EXPECT_EQ(parse(c.Get("/api/jobs")).size(), 2u);
  EXPECT_EQ(server->stop(SIGINT), 0) << server->err();
}

// One per-image path: for every kind of input (gray, RGB, RGBA; 8 and 16 bit; JPEG and
// PNG; fp32 and bf16) the server's result has the bytes `yamiro upscale` writes.
TEST_F(Serve, EveryKindOfInputGivesTheBytesOfUpscale) {
  auto server = start(kEngine);
  auto c = server->client();
  const cv::Mat photo = cv::imread(kButterfly, cv::IMREAD_COLOR);
  ASSERT_FALSE(photo.empty());
  cv::Mat small, gray, gray16, rgba;
  cv::resize(photo(cv::Rect(60, 40, 120, 100)), small, cv::Size(40, 33), 0, 0, cv::INTER_AREA);
  cv::cvtColor(small, gray, cv::COLOR_BGR2GRAY);
  gray.convertTo(gray16, CV_16U, 257.0);
  cv::cvtColor(small, rgba, cv::COLOR_BGR2BGRA);
  rgba.forEach<cv::Vec4b>([](cv::Vec4b& p, const int* pos) { p[3] = static_cast<uchar>(pos[1] * 6); });
  cv::imwrite(path("gray.jpg"), gray);
  cv::imwrite(path("rgb.jpg"), small);
  cv::imwrite(path("gray16.png"), gray16);
  cv::imwrite(path("rgba.png"), rgba);
  cv::imwrite(path("rgb.png"), small);
  struct Case {
    std::string input, precision, ext;
  };
  for (const Case& k : std::vector<Case>{{"gray.jpg", "", ".jpg"},
                                         {"rgb.jpg", "", ".jpg"},
                                         {"gray16.png", "", ".png"},
                                         {"rgba.png", "", ".png"},
                                         {"rgb.png", "bf16", ".png"},
                                         {"gray.jpg", "bf16", ".jpg"}}) {
    std::vector<std::pair<std::string, std::string>> fields;
    if (!k.precision.empty()) fields.push_back({"precision", k.precision});
    const auto posted = c.Post("/api/jobs", form(file_bytes(path(k.input)), k.input, fields));
    ASSERT_TRUE(posted);
    ASSERT_EQ(posted->status, 202) << posted->body;
    const std::string id = parse(posted)["id"];
    const json done = wait_for(c, id);
    ASSERT_EQ(done["state"], "done") << done.dump();
    const auto result = c.Get("/api/jobs/" + id + "/result");
    ASSERT_TRUE(result);
    ASSERT_EQ(result->status, 200);
    const std::string want = upscaled_by_cli(path(k.input), k.precision.empty() ? "" : "--precision " + k.precision, k.ext);
    ASSERT_FALSE(want.empty());
    EXPECT_TRUE(result->body == want) << k.input << " " << k.precision << ": serve and upscale differ";
  }
  EXPECT_EQ(server->stop(SIGINT), 0) << server->err();
}

TEST_F(Serve, InfoAndModels) {
  auto server = start(kEngine);
  auto c = server->client();
  const json info = parse(c.Get("/api/info"));
  ASSERT_TRUE(info.is_object());
  EXPECT_EQ(info["serve"]["device"], "cpu");
  EXPECT_EQ(info["serve"]["default_model"], "compact-x4-nc4-nf16");
  EXPECT_FALSE(info["serve"]["token_required"].get<bool>());
  EXPECT_TRUE(info.contains("cpu") && info.contains("libraries"));
  const json models = parse(c.Get("/api/models"));
  EXPECT_EQ(models["default"], "compact-x4-nc4-nf16");
  ASSERT_GE(models["models"].size(), 1u);
  EXPECT_EQ(models["models"][0]["id"], "compact-x4-nc4-nf16");
  const auto page = c.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("<title>yamiro</title>"), std::string::npos);
  EXPECT_EQ(page->body.find("http://"), std::string::npos) << "the page loads nothing from elsewhere";
  EXPECT_EQ(page->body.find("https://"), std::string::npos) << "the page loads nothing from elsewhere";
}

TEST_F(Serve, BadUploadsGetAClear4xxAndTheServerCarriesOn) {
  auto server = start(kEngine + " --max-upload-mb 1");
  auto c = server->client();
  const std::string png = file_bytes(kFixtures + "/rgb48x60.png");
  auto expect = [&](const httplib::Result& r, int status, const std::string& words) {
    ASSERT_TRUE(r) << words;
    EXPECT_EQ(r->status, status) << r->body;
    const json j = parse(r);
    ASSERT_TRUE(j.is_object()) << r->body;
    EXPECT_NE(j.value("error", "").find(words), std::string::npos) << j.dump();
  };
  expect(c.Post("/api/jobs", form("this is text, not a picture", "notes.png")), 415, "notes.png: not an image");
  expect(c.Post("/api/jobs", form(std::string(2 << 20, 'x'), "big.png")), 413, "larger than the server accepts");
  expect(c.Post("/api/jobs", form(png_claiming(100000, 100000), "bomb.png")), 422, "bomb.png: 100000x100000 exceeds the limit");
  expect(c.Post("/api/jobs", form(png_claiming(0, 10), "empty.png")), 422, "empty image");
  expect(c.Post("/api/jobs", form("", "zero.png")), 400, "empty");
  expect(c.Post("/api/jobs", httplib::MultipartFormDataItems{{"file", png, "a.png", ""}}), 400, "field named 'image'");
  expect(c.Post("/api/jobs", png, "image/png"), 400, "multipart/form-data");
  expect(c.Post("/api/jobs", form(png, "a.png", {{"model", "../../etc/passwd"}})), 400, "unknown model '../../etc/passwd'");
  expect(c.Post("/api/jobs", form(png, "a.png", {{"model", kTinyModel}})), 400, "unknown model");
  expect(c.Post("/api/jobs", form(png, "a.png", {{"outscale", "abc"}})), 400, "outscale must be");
  expect(c.Post("/api/jobs", form(png, "a.png", {{"outscale", "1e9"}})), 400, "outscale must be");
  expect(c.Post("/api/jobs", form(png, "a.png", {{"precision", "fp8"}})), 400, "unknown precision");
  expect(c.Post("/api/jobs", form(png, "a.png", {{"alpha", "magic"}})), 400, "unknown alpha mode");
  expect(c.Post("/api/jobs", form(png, "a.png", {{"format", "gif"}})), 400, "unknown output format");
  expect(c.Post("/api/jobs", form(png, "a.png", {{"quality", "101"}})), 400, "quality must be");
  expect(c.Get("/api/jobs/0123456789abcdef0123456789abcdef"), 404, "no job");
  expect(c.Get("/api/jobs/nope/result"), 404, "no job");
  expect(c.Delete("/api/jobs/nope"), 404, "no job");
  expect(c.Get("/api/nothing"), 404, "not found");

  // A header that passes and data that does not: the job fails with the decoder's words.
  const auto cut = c.Post("/api/jobs", form(png.substr(0, 60), "cut.png"));
  ASSERT_TRUE(cut);
  ASSERT_EQ(cut->status, 202) << cut->body;
  const json failed = wait_for(c, parse(cut)["id"]);
  EXPECT_EQ(failed["state"], "failed");
  EXPECT_NE(failed.value("error", "").find("cut.png: not a readable image"), std::string::npos) << failed.dump();
  expect(c.Get("/api/jobs/" + failed["id"].get<std::string>() + "/result"), 409, "it is failed");

  // Still serving, and a good upload still works.
  const auto ok = c.Post("/api/jobs", form(png, "good.png"));
  ASSERT_TRUE(ok);
  ASSERT_EQ(ok->status, 202);
  EXPECT_EQ(wait_for(c, parse(ok)["id"])["state"], "done");
  EXPECT_EQ(server->stop(SIGINT), 0) << server->err();
}

TEST_F(Serve, WrongOrMissingTokenIs401) {
  auto server = start(kEngine + " --token s3cret-Token");
  auto c = server->client();
  for (const auto& h : {httplib::Headers{}, httplib::Headers{{"Authorization", "Bearer wrong"}},
                        httplib::Headers{{"X-Yamiro-Token", "s3cret-Toke"}}}) {
    const auto r = c.Get("/api/info", h);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401);
    EXPECT_NE(parse(r).value("error", "").find("token"), std::string::npos) << r->body;
  }
  const auto post = c.Post("/api/jobs", form(file_bytes(kFixtures + "/rgb48x60.png"), "a.png"));
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 401);
  EXPECT_EQ(parse(c.Get("/api/jobs?token=s3cret-Token")).size(), 0u) << "the refused upload made no job";
  EXPECT_EQ(c.Get("/api/info", {{"Authorization", "Bearer s3cret-Token"}})->status, 200);
  EXPECT_EQ(c.Get("/api/info", {{"X-Yamiro-Token", "s3cret-Token"}})->status, 200);
  EXPECT_EQ(c.Get("/api/models?token=s3cret-Token")->status, 200);
  EXPECT_EQ(c.Get("/")->status, 200) << "the page itself holds no secret; it asks for the token";
  // Requests addressed to another host name are refused (DNS rebinding).
  const auto other = c.Get("/api/info?token=s3cret-Token", {{"Host", "attacker.example:80"}});
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 403);
}

TEST_F(Serve, CancelQueuedAndRunningJobs) {
  auto server = start(kEngine);
  auto c = server->client();
  const std::string big = encode_png(noise(1024, 768, CV_8UC3, 3));  // 768 tiles of 32 px
  const auto first = c.Post("/api/jobs", form(big, "big.png"));
  const auto second = c.Post("/api/jobs", form(file_bytes(kFixtures + "/rgb48x60.png"), "small.png"));
  ASSERT_TRUE(first && second);
  ASSERT_EQ(first->status, 202);
  ASSERT_EQ(second->status, 202);
  const std::string id1 = parse(first)["id"], id2 = parse(second)["id"];

  // The second waits behind the first: cancelled at once.
  const json queued = parse(c.Get("/api/jobs/" + id2));
  EXPECT_EQ(queued["state"], "queued");
  EXPECT_EQ(queued["queue_position"], 1);
  EXPECT_EQ(parse(c.Delete("/api/jobs/" + id2))["state"], "cancelled");

  // The first is cancelled while its tiles run.
  json running;
  for (int i = 0; i < 600; ++i) {
    running = parse(c.Get("/api/jobs/" + id1));
    if (running["state"] == "running" && running["tiles_done"].get<int>() > 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(running["state"], "running") << running.dump();
  ASSERT_LT(running["tiles_done"].get<int>(), running["tiles_total"].get<int>());
  EXPECT_GT(running["progress"].get<double>(), 0.0);
  const json asked = parse(c.Delete("/api/jobs/" + id1));
  EXPECT_TRUE(asked.value("cancel_requested", false)) << asked.dump();
  const json cancelled = wait_for(c, id1, 30);
  EXPECT_EQ(cancelled["state"], "cancelled") << cancelled.dump();
  EXPECT_LT(cancelled["tiles_done"].get<int>(), cancelled["tiles_total"].get<int>());
  EXPECT_EQ(c.Get("/api/jobs/" + id1 + "/result")->status, 409);
  EXPECT_EQ(wait_for(c, id2)["state"], "cancelled") << "a cancelled queued job never runs";

  // Deleting a finished job forgets it.
  EXPECT_EQ(parse(c.Delete("/api/jobs/" + id1))["state"], "deleted");
  EXPECT_EQ(c.Get("/api/jobs/" + id1)->status, 404);
  EXPECT_EQ(server->stop(SIGINT), 0) << server->err();
}

TEST_F(Serve, CtrlCDuringAJobStopsCleanly) {
  auto server = start(kEngine);
  auto c = server->client();
  const auto r = c.Post("/api/jobs", form(encode_png(noise(1024, 768, CV_8UC3, 4)), "big.png"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 202);
  for (int i = 0; i < 600 && parse(c.Get("/api/jobs/" + parse(r)["id"].get<std::string>()))["state"] != "running"; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(server->stop(SIGINT, std::chrono::seconds(10)), 0) << server->err();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_NE(server->err().find("stopped"), std::string::npos) << server->err();
}

TEST_F(Serve, PortInUseIsAUsageError) {
  auto server = start(kEngine);
  // `timeout`: were the port shared (SO_REUSEPORT), the second server would run forever.
  const int status = std::system(("timeout 30 " + kBin + " serve --port " + std::to_string(server->port()) + " " + kEngine +
                                   " > /dev/null 2> " + path("second.txt")).c_str());
  const std::string err = file_bytes(path("second.txt"));
  EXPECT_EQ(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 2) << err;
  EXPECT_NE(err.find("cannot listen on 127.0.0.1:" + std::to_string(server->port())), std::string::npos) << err;
  EXPECT_EQ(yamiro("serve --port 0 -m " + path("missing.param")).code, 3) << "a bad model fails before listening";
}

TEST_F(Serve, ResultsAreCappedInMemoryAndExpire) {
  // Each result of the fixture is ~106 KiB: a 0.25 MiB store keeps two.
  auto server = start(kEngine + " --store-mb 0.25 --keep-minutes 0.05");
  auto c = server->client();
  const std::string png = file_bytes(kFixtures + "/rgb48x60.png");
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    const auto r = c.Post("/api/jobs", form(png, "p" + std::to_string(i) + ".png"));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 202) << r->body;
    ids.push_back(parse(r)["id"]);
    ASSERT_EQ(wait_for(c, ids.back())["state"], "done");
  }
  EXPECT_EQ(c.Get("/api/jobs/" + ids[0] + "/result")->status, 404) << "the oldest result made room";
  EXPECT_EQ(c.Get("/api/jobs/" + ids[1] + "/result")->status, 200);
  EXPECT_EQ(c.Get("/api/jobs/" + ids[2] + "/result")->status, 200);
  // A result larger than the whole store fails its job with a message, not the server.
  const auto big = c.Post("/api/jobs", form(encode_png(noise(200, 150, CV_8UC3, 9)), "big.png"));
  ASSERT_TRUE(big);
  ASSERT_EQ(big->status, 202) << big->body;
  const json failed = wait_for(c, parse(big)["id"]);
  EXPECT_EQ(failed["state"], "failed");
  EXPECT_NE(failed.value("error", "").find("--store-mb"), std::string::npos) << failed.dump();
  // Finished jobs are forgotten after --keep-minutes (3 s here).
  std::this_thread::sleep_for(std::chrono::milliseconds(3500));
  EXPECT_EQ(c.Get("/api/jobs/" + ids[2])->status, 404);
  EXPECT_EQ(parse(c.Get("/api/jobs")).size(), 0u);
  EXPECT_EQ(server->stop(SIGINT), 0) << server->err();
}

TEST_F(Serve, FiftyConcurrentUploadsCompleteWithTheirOwnResults) {
  // 50 clients upload 50 different images at once from one address. The server takes 16
  // connections per address (docs/serve.md) and answers the others 503 + Retry-After at
  // once; a client that is turned away retries, as a well-behaved one does. Every upload
  // must end with its own image's result, byte for byte what `upscale` writes.
  constexpr int kN = 50;
  fs::create_directories(path("in"));
  for (int i = 0; i < kN; ++i)
    cv::imwrite(path("in/img" + std::to_string(i) + ".png"), noise(16 + i % 9, 12 + i % 7, CV_8UC3, 100 + i));
  const auto cli = yamiro("-q upscale " + path("in") + " -o " + path("cli") + " " + kEngine);
  ASSERT_EQ(cli.code, 0) << cli.err;

  auto server = start(kEngine);
  std::vector<std::string> results(kN), errors(kN);
  std::vector<int> turned_away(kN, 0);
  std::vector<std::thread> threads;
  std::atomic<int> ready{0};
  for (int i = 0; i < kN; ++i)
    threads.emplace_back([&, i] {
      auto c = server->client();
      const std::string name = "img" + std::to_string(i) + ".png";
      const std::string bytes = file_bytes(path("in/" + name));
      ++ready;
      while (ready.load() < kN) std::this_thread::yield();  // all upload at once
      auto r = c.Post("/api/jobs", form(bytes, name));
      for (int tries = 0; tries < 200 && (!r || r->status == 503); ++tries) {
        ++turned_away[i];
        std::this_thread::sleep_for(std::chrono::milliseconds(50 + 10 * (i % 10)));
        r = c.Post("/api/jobs", form(bytes, name));
      }
      if (!r || r->status != 202) {
        errors[i] = r ? r->body : "no answer";
        return;
      }
      const std::string id = parse(r)["id"];
      json j;  // polls may be turned away (503) too: those answers are skipped
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
      while (std::chrono::steady_clock::now() < deadline) {
        const auto g = c.Get("/api/jobs/" + id);
        if (g && g->status == 200) {
          j = json::parse(g->body);
          if (j.value("state", "") != "queued" && j.value("state", "") != "running") break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      if (j.value("state", "") != "done") {
        errors[i] = j.dump();
        return;
      }
      for (int tries = 0; tries < 200; ++tries) {
        const auto res = c.Get("/api/jobs/" + id + "/result");
        if (res && res->status == 200) {
          results[i] = res->body;
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    });
  for (auto& t : threads) t.join();
  int retries = 0;
  for (int i = 0; i < kN; ++i) {
    retries += turned_away[i];
    EXPECT_TRUE(errors[i].empty()) << i << ": " << errors[i];
    const std::string want = file_bytes(path("cli/img" + std::to_string(i) + "_x4.png"));
    ASSERT_FALSE(want.empty());
    EXPECT_TRUE(results[i] == want) << "upload " << i << " got another result or a corrupt one";
  }
  std::printf("50 concurrent uploads: all correct, %d upload attempts turned away with 503 and retried\n", retries);
  EXPECT_EQ(parse(server->client().Get("/api/jobs")).size(), static_cast<std::size_t>(kN));
  EXPECT_EQ(server->stop(SIGINT), 0) << server->err();
}

}  // namespace
