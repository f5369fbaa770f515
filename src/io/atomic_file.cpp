#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "yamiro/error.hpp"
#include "yamiro/io.hpp"

namespace fs = std::filesystem;

namespace yamiro {
namespace {

[[noreturn]] void io_fail(const std::string& path, const std::string& what, int err) {
  throw Error(ErrorKind::Io, path + ": " + what + ": " + std::strerror(err));
}

}  // namespace

bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  if (!fs::exists(a, ec) || !fs::exists(b, ec)) return false;
  return fs::equivalent(a, b, ec);
}

void write_file_atomic(const std::string& path, const std::vector<unsigned char>& bytes, bool overwrite) {
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::string tmpl = (dir / ("." + target.filename().string() + ".yamiro-XXXXXX")).string();
  const int fd = mkstemp(tmpl.data());
  if (fd < 0) io_fail(dir.string(), "cannot create a temporary file", errno);
  const std::string tmp = tmpl;
  auto cleanup = [&](const std::string& what, int err) {
    ::close(fd);
    ::unlink(tmp.c_str());
    io_fail(path, what, err);
  };
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      cleanup("write failed", errno);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fchmod(fd, 0644) != 0) cleanup("cannot set permissions", errno);
  if (::fsync(fd) != 0) cleanup("fsync failed", errno);
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    io_fail(path, "close failed", err);
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
