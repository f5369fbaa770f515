#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>

#include "yamiro/error.hpp"
#include "yamiro/atomic_file.hpp"

namespace fs = std::filesystem;

namespace yamiro {
namespace {

[[noreturn]] void io_fail(const std::string& path, const std::string& what, int err) {
  throw Error(ErrorKind::Io, path + ": " + what + ": " + std::strerror(err));
}

// ".NAME.yamiro-XXXXXX[.ext]": a temporary file of write_file_atomic.
bool is_temporary_name(const std::string& name) {
  if (name.size() < 2 || name[0] != '.') return false;
  const auto at = name.rfind(".yamiro-");
  if (at == std::string::npos || at == 0 || name.size() < at + 14) return false;
  for (std::size_t i = at + 8; i < at + 14; ++i)
    if (!std::isalnum(static_cast<unsigned char>(name[i]))) return false;
  return name.size() == at + 14 || name[at + 14] == '.';
}

// A writer holds an exclusive flock on its temporary file until it is renamed or removed,
// so a temporary file nobody holds and that was not touched for kStaleSeconds belongs to
// a process that died (SIGKILL, power loss): it is removed, once per folder and process,
// before the first file is written there. The age guards the moment between mkstemps and
// flock, and writers of yamiro versions that did not lock yet.
constexpr int kStaleSeconds = 10;

void remove_stale_temporaries(const fs::path& dir) {
  static std::mutex mutex;
  static std::set<std::string> swept;
  std::error_code ec;
  const std::string key = fs::weakly_canonical(dir, ec).string();
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (!swept.insert(ec ? dir.string() : key).second) return;
  }
  const auto now = std::chrono::system_clock::now();
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (!is_temporary_name(name)) continue;
    const int fd = ::open(e.path().c_str(), O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) continue;
    struct stat st {};
    const bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    const auto age = now - std::chrono::system_clock::from_time_t(st.st_mtime);
    if (regular && age > std::chrono::seconds(kStaleSeconds) && ::flock(fd, LOCK_EX | LOCK_NB) == 0) {
      if (::unlink(e.path().c_str()) == 0) spdlog::warn("{}: removed a temporary file left by a process that died", e.path().string());
    }
    ::close(fd);
  }
}

}  // namespace

bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  if (!fs::exists(a, ec) || !fs::exists(b, ec)) return false;
  return fs::equivalent(a, b, ec);
}

void write_file_atomic(const std::string& path, const std::vector<unsigned char>& bytes, bool overwrite) {
  write_stream_atomic(path, [&](const ByteSink& sink) { sink(bytes.data(), bytes.size()); }, overwrite);
}

void write_stream_atomic(const std::string& path, const std::function<void(const ByteSink&)>& produce, bool overwrite) {
  write_file_atomic(
      path,
      [&](const std::string& tmp) {
        const int fd = ::open(tmp.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
        if (fd < 0) io_fail(tmp, "cannot open", errno);
        try {
          produce([&](const unsigned char* data, std::size_t size) {
            std::size_t done = 0;
            while (done < size) {
              const ssize_t n = ::write(fd, data + done, size - done);
              if (n < 0 && errno == EINTR) continue;
              if (n < 0) io_fail(path, "write failed", errno);
              done += static_cast<std::size_t>(n);
            }
          });
        } catch (...) {
          ::close(fd);
          throw;
        }
        if (::close(fd) != 0) io_fail(path, "close failed", errno);
      },
      overwrite);
}

void write_file_atomic(const std::string& path, const std::function<void(const std::string&)>& write, bool overwrite) {
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  const std::string ext = target.extension().string();
  std::string tmpl = (dir / ("." + target.stem().string() + ".yamiro-XXXXXX" + ext)).string();
  remove_stale_temporaries(dir);
  const int fd = mkstemps(tmpl.data(), static_cast<int>(ext.size()));
  if (fd < 0) io_fail(dir.string(), "cannot create a temporary file", errno);
  ::flock(fd, LOCK_EX | LOCK_NB);  // "still being written" (see remove_stale_temporaries)
  struct Holder {
    int fd;
    ~Holder() { ::close(fd); }
  } holder{fd};
  const std::string tmp = tmpl;
  try {
    write(tmp);
    // Make the bytes durable before the name points at them.
    const int sync_fd = ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC);
    if (sync_fd < 0) io_fail(path, "cannot reopen the temporary file", errno);
    const bool synced = ::fsync(sync_fd) == 0;
    const int err = errno;
    ::close(sync_fd);
    if (!synced) io_fail(path, "fsync failed", err);
    if (::chmod(tmp.c_str(), 0644) != 0) io_fail(path, "cannot set permissions", errno);
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  if (overwrite) {
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
      const int err = errno;
      ::unlink(tmp.c_str());
      io_fail(path, "cannot rename into place", err);
    }
    return;
  }
  // link() fails if the target exists: a no-clobber rename without races.
  if (::link(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    if (err == EEXIST) throw Error(ErrorKind::Io, path + ": exists (use --overwrite to replace it)");
    io_fail(path, "cannot move into place", err);
  }
  ::unlink(tmp.c_str());
}

}  // namespace yamiro
