#include "serve/server.hpp"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>

#include "core/numbers.hpp"
#include "serve/http_guard.hpp"
#include "serve/page.hpp"
#include "yamiro/error.hpp"
#include "yamiro/image_header.hpp"

namespace yamiro::serve {
namespace {

std::string dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

void send_json(httplib::Response& res, int status, const nlohmann::json& j) {
  res.status = status;
  res.set_content(dump(j), "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& message) {
  send_json(res, status, {{"error", message}, {"status", status}});
}

// Constant-time comparison: the time taken does not tell how much of a guess was right.
bool same_secret(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i % (b.empty() ? 1 : b.size())]);
  return diff == 0;
}

std::string presented_token(const httplib::Request& req) {
  const std::string auth = req.get_header_value("Authorization");
  if (auth.rfind("Bearer ", 0) == 0) return auth.substr(7);
  if (req.has_header("X-Yamiro-Token")) return req.get_header_value("X-Yamiro-Token");
  return req.get_param_value("token");
}

// The host part of a Host header: "127.0.0.1:8080" -> "127.0.0.1", "[::1]:80" -> "::1".
std::string host_of(const std::string& header) {
  if (!header.empty() && header[0] == '[') {
    const auto end = header.find(']');
    return end == std::string::npos ? header : header.substr(1, end - 1);
  }
  return header.substr(0, header.find(':'));
}

// A form field (multipart) or, failing that, a query parameter.
std::string field(const httplib::Request& req, const std::string& key) {
  if (req.has_file(key)) return req.get_file_value(key).content;
  return req.get_param_value(key);
}

const char* status_text(int status) {
  switch (status) {
    case 400: return "bad request";
    case 401: return "a valid token is needed";
    case 404: return "not found";
    case 405: return "method not allowed";
    case 408: return "the request did not arrive in time";
    case 413: return "the upload is larger than the server accepts (--max-upload-mb)";
    case 414: return "the request URL is too long";
    case 431: return "the request's header fields are too large or too many";
    default: return "request failed";
  }
}

}  // namespace

int http_status(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Usage: return 400;
    case ErrorKind::Input: return 422;
    case ErrorKind::Model: return 500;
    case ErrorKind::Device: return 503;
    case ErrorKind::Io: return 500;
    case ErrorKind::Interrupted: return 503;
  }
  return 500;
}

std::string display_name(const std::string& client_name) {
  std::string base = client_name.substr(client_name.find_last_of("/\\") == std::string::npos ? 0 : client_name.find_last_of("/\\") + 1);
  std::string out;
  for (const char c : base) {
    if (out.size() >= 100) break;
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || c == ' ';
    out += ok && static_cast<unsigned char>(c) < 128 ? c : '_';
  }
  while (!out.empty() && (out[0] == '.' || out[0] == ' ')) out.erase(0, 1);
  return out.empty() ? "image" : out;
}

struct Server::Impl {
  ServerOptions options;
  JobStore& jobs;
  nlohmann::json info;
  GuardedServer http;
  std::atomic<bool> loopback{true};  // set from the bound socket by bind()

  Impl(ServerOptions o, JobStore& j, nlohmann::json i)
      : options(std::move(o)), jobs(j), info(std::move(i)), http(options.connection) {}

  // A browser names the page a request comes from (Origin) and how it relates to this
  // server (Sec-Fetch-Site). A page of another site must not queue or cancel jobs here:
  // only this server's own origin, a request without either header (curl, scripts) or an
  // origin named by --allow-origin may change state.
  bool cross_site(const httplib::Request& req) const {
    const std::string origin = req.get_header_value("Origin");
    const bool allowed = !origin.empty() && std::find(options.allowed_origins.begin(), options.allowed_origins.end(), origin) !=
                                                options.allowed_origins.end();
    if (allowed) return false;
    if (req.has_header("Origin") && origin != "http://" + req.get_header_value("Host")) return true;
    if (req.has_header("Sec-Fetch-Site")) {
      const std::string site = req.get_header_value("Sec-Fetch-Site");
      return site != "same-origin" && site != "none";
    }
    return false;
  }

  JobRequest parse_job(const httplib::Request& req) const {
    if (!req.is_multipart_form_data()) throw HttpError(400, "send the image as multipart/form-data, in a field named 'image'");
    if (!req.has_file("image")) throw HttpError(400, "no image: send it in a multipart field named 'image'");
    const auto& file = req.get_file_value("image");
    JobRequest r;
    r.name = display_name(file.filename);
    if (file.content.empty()) throw HttpError(400, r.name + ": the uploaded file is empty");
    r.bytes.assign(file.content.begin(), file.content.end());

    // The header is checked before anything is decoded (as `upscale --max-pixels`).
    const auto header = probe_image_header(r.bytes);
    if (!header)
      throw HttpError(415, r.name + ": not an image yamiro reads (PNG, JPEG, WebP, TIFF or BMP expected)");
    if (header->width <= 0 || header->height <= 0) throw HttpError(422, r.name + ": the image header claims an empty image");
    if (exceeds_pixels(*header, jobs.limits().max_pixels))
      throw HttpError(422, r.name + ": " + std::to_string(header->width) + "x" + std::to_string(header->height) +
                               " exceeds the limit of " + std::to_string(jobs.limits().max_pixels) +
                               " pixels (--max-pixels); not decoded");
    r.input_format = header->format;

    r.model_id = field(req, "model");
    if (r.model_id.empty()) r.model_id = jobs.catalog().default_id();
    if (!jobs.catalog().source(r.model_id))
      throw HttpError(400, "unknown model '" + r.model_id + "' (installed: " + jobs.catalog().ids() + ")");
    const std::string precision = field(req, "precision");
    try {
      r.precision = parse_precision(precision.empty() ? "auto" : precision);
    } catch (const Error&) {
      throw HttpError(400, "unknown precision '" + precision + "' (auto, fp32, bf16, fp16)");
    }
    r.image.alpha = field(req, "alpha");
    if (r.image.alpha.empty()) r.image.alpha = "model";
    if (r.image.alpha != "model" && r.image.alpha != "bicubic")
      throw HttpError(400, "unknown alpha mode '" + r.image.alpha + "' (model, bicubic)");
    const std::string outscale = field(req, "outscale");
    if (!outscale.empty()) {
      const auto v = parse_number(outscale, 0, 64);  // plain decimal: not "0x10", not " 2"
      if (!v) throw HttpError(400, "outscale must be a number above 0 and up to 64 (0 or empty: the model's scale), not '" + outscale + "'");
      r.image.outscale = *v;
    }
    std::string format = field(req, "format");
    if (!format.empty()) {
      if (format[0] != '.') format = "." + format;
      if (format != ".png" && format != ".jpg" && format != ".jpeg" && format != ".webp" && format != ".tif" && format != ".tiff")
        throw HttpError(400, "unknown output format '" + field(req, "format") + "' (png, jpg, webp, tif; empty: the input's)");
      r.format = format;
    }
    const std::string quality = field(req, "quality");
    if (!quality.empty()) {
      const auto q = parse_integer(quality, 1, 100);
      if (!q) throw HttpError(400, "quality must be a whole number from 1 to 100, not '" + quality + "'");
      r.quality = static_cast<int>(*q);
    }
    return r;
  }

  // Runs a handler; HttpError and yamiro errors become JSON answers, never a dropped connection.
  template <typename F>
  static httplib::Server::Handler guarded(F f) {
    return [f](const httplib::Request& req, httplib::Response& res) {
      try {
        f(req, res);
      } catch (const HttpError& e) {
        send_error(res, e.status(), e.what());
      } catch (const Error& e) {
        const int status = http_status(e.kind());
        if (status >= 500) spdlog::error("{} {}: {}", req.method, req.path, e.what());
        send_error(res, status, e.what());
      } catch (const std::exception& e) {
        spdlog::error("{} {}: {}", req.method, req.path, e.what());
        send_error(res, 500, std::string("internal error: ") + e.what());
      }
    };
  }

  void routes() {
    http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      // A page on another site must not reach a server bound to this machine through a
      // name that resolves to 127.0.0.1 (DNS rebinding): only loopback Host names. Whether
      // the server is local is decided from the bound socket (127.1, ::1 spelled in full).
      if (loopback.load() && !is_loopback_host(host_of(req.get_header_value("Host")))) {
        send_error(res, 403, "this server only answers requests addressed to localhost or 127.0.0.1");
        return httplib::Server::HandlerResponse::Handled;
      }
      if ((req.method == "POST" || req.method == "DELETE") && cross_site(req)) {
        send_error(res, 403, "cross-site request refused: another site's page may not change jobs here (see --allow-origin)");
        return httplib::Server::HandlerResponse::Handled;
      }
      if (!options.token.empty() && req.path.rfind("/api/", 0) == 0 && !same_secret(presented_token(req), options.token)) {
        res.set_header("WWW-Authenticate", "Bearer");
        send_error(res, 401, "missing or wrong token: send it as 'Authorization: Bearer TOKEN', an X-Yamiro-Token header or ?token=");
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });
    http.set_post_routing_handler([](const httplib::Request&, httplib::Response& res) {
      res.set_header("X-Content-Type-Options", "nosniff");
      res.set_header("Cache-Control", "no-store");
    });
    http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
      // httplib answers 400 to a head it could not read; say why when the guard cut it.
      const HeadFailure why = head_failure_on_this_thread();
      if (why != HeadFailure::None && res.status == 400) {
        res.status = why == HeadFailure::TooLarge ? 431 : 408;
        res.body.clear();
        res.set_header("Connection", "close");
      }
      if (res.body.empty()) send_error(res, res.status, status_text(res.status));
    });
    http.set_logger([](const httplib::Request& req, const httplib::Response& res) {
      spdlog::debug("{} {} -> {}", req.method, req.path, res.status);
    });

    http.Get("/", [](const httplib::Request&, httplib::Response& res) {
      res.set_header("Content-Security-Policy",
                     "default-src 'self'; img-src 'self' blob: data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
                     "connect-src 'self'; frame-ancestors 'none'");
      res.set_header("X-Frame-Options", "DENY");
      res.set_content(page_html(), "text/html; charset=utf-8");
    });
    http.Get("/api/info", guarded([this](const httplib::Request&, httplib::Response& res) { send_json(res, 200, info); }));
    http.Get("/api/models", guarded([this](const httplib::Request&, httplib::Response& res) {
      send_json(res, 200, jobs.catalog().to_json());
    }));
    http.Get("/api/jobs", guarded([this](const httplib::Request&, httplib::Response& res) { send_json(res, 200, jobs.list()); }));
    http.Post("/api/jobs", guarded([this](const httplib::Request& req, httplib::Response& res) {
      const std::string id = jobs.submit(parse_job(req));
      res.set_header("Location", "/api/jobs/" + id);
      send_json(res, 202, *jobs.status(id));
    }));
    http.Get(R"(/api/jobs/([^/]+))", guarded([this](const httplib::Request& req, httplib::Response& res) {
      const auto j = jobs.status(req.matches[1]);
      if (!j) throw HttpError(404, "no job " + std::string(req.matches[1]) + " (unknown, expired or deleted)");
      send_json(res, 200, *j);
    }));
    http.Get(R"(/api/jobs/([^/]+)/result)", guarded([this](const httplib::Request& req, httplib::Response& res) {
      const JobResult r = jobs.result(req.matches[1]);
      res.set_header("Content-Disposition", "attachment; filename=\"" + r.filename + "\"");
      // The bytes are shared with the store: held here until sent, even if the job expires.
      const auto bytes = r.bytes;
      res.set_content_provider(bytes->size(), r.content_type,
                               [bytes](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
                                 return sink.write(reinterpret_cast<const char*>(bytes->data()) + offset, length);
                               });
    }));
    http.Delete(R"(/api/jobs/([^/]+))", guarded([this](const httplib::Request& req, httplib::Response& res) {
      send_json(res, 200, jobs.cancel(req.matches[1]));
    }));
  }
};

Server::Server(ServerOptions options, JobStore& jobs, nlohmann::json info)
    : impl_(std::make_unique<Impl>(std::move(options), jobs, std::move(info))) {
  impl_->http.set_payload_max_length(impl_->options.max_upload_bytes);
  // httplib's default adds SO_REUSEPORT, with which a second server would silently share
  // a port already in use: only SO_REUSEADDR (restart right after a stop).
  impl_->http.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  impl_->routes();
}

Server::~Server() { stop(); }

int Server::bind() {
  Impl& m = *impl_;
  if (m.options.port < 0 || m.options.port > 65535) throw Error(ErrorKind::Usage, "--port must be between 0 and 65535");
  int port = m.options.port;
  if (port == 0) {
    port = m.http.bind_to_any_port(m.options.host);
    if (port <= 0) throw Error(ErrorKind::Usage, "cannot listen on " + m.options.host + " (any port)");
  } else if (!m.http.bind_to_port(m.options.host, port)) {
    throw Error(ErrorKind::Usage, "cannot listen on " + m.options.host + ":" + std::to_string(port) +
                                      " (in use, or not an address of this machine)");
  }
  m.loopback = m.http.bound_to_loopback();
  return port;
}

std::string Server::bound_address() const { return impl_->http.bound_address(); }
bool Server::bound_to_loopback() const { return impl_->loopback.load(); }

void Server::run() { impl_->http.listen_after_bind(); }

void Server::stop() { impl_->http.stop(); }

}  // namespace yamiro::serve
