// yamiro serve: a local web page and JSON API over one engine (see docs/serve.md).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <thread>

#include "cli/common.hpp"
#include "cli/interrupt.hpp"
#include "serve/job_store.hpp"
#include "serve/server.hpp"
#include "yamiro/error.hpp"
#include "yamiro/model.hpp"

namespace yamiro::cli {
namespace {

struct ServeFlags {
  serve::ServerOptions server;
  double max_upload_mb = 64;
  double store_mb = 1024;
  double keep_minutes = 60;
  long long max_pixels = 16384LL * 16384LL;
  int max_jobs = 64;
  double request_timeout = 60;
  EngineFlags engine;
};

int run_serve(const ServeFlags& f) {
  if (!(f.max_upload_mb > 0) || f.max_upload_mb > 4096) throw Error(ErrorKind::Usage, "--max-upload-mb must be above 0 and up to 4096");
  if (!(f.store_mb > 0)) throw Error(ErrorKind::Usage, "--store-mb must be positive");
  if (!(f.keep_minutes > 0)) throw Error(ErrorKind::Usage, "--keep-minutes must be positive");
  if (f.max_pixels < 1) throw Error(ErrorKind::Usage, "--max-pixels must be positive");
  if (f.max_jobs < 1) throw Error(ErrorKind::Usage, "--max-jobs must be positive");
  if (!(f.request_timeout >= 0.1) || f.request_timeout > 86400)
    throw Error(ErrorKind::Usage, "--request-timeout must be between 0.1 and 86400 seconds");
  for (const auto& o : f.server.allowed_origins)
    if (o.rfind("http://", 0) != 0 && o.rfind("https://", 0) != 0)
      throw Error(ErrorKind::Usage, "--allow-origin takes an origin like http://localhost:3000, not '" + o + "'");
  serve::ServerOptions server = f.server;
  server.max_upload_bytes = static_cast<std::uint64_t>(f.max_upload_mb * 1048576.0);
  server.connection.request_timeout = std::chrono::milliseconds(static_cast<long long>(f.request_timeout * 1000));
  server.connection.head_timeout = std::min(server.connection.head_timeout, server.connection.request_timeout);
  serve::StoreLimits limits;
  limits.max_jobs = static_cast<std::size_t>(f.max_jobs);
  limits.memory_bytes = static_cast<std::uint64_t>(f.store_mb * 1048576.0);
  limits.keep = std::chrono::seconds(static_cast<long long>(f.keep_minutes * 60));
  limits.max_pixels = f.max_pixels;

  // The default model is loaded before the server listens: a bad -m or --device fails now.
  const EngineOptions options = to_engine_options(f.engine);
  static std::atomic<bool> interrupted{false};  // outlives this function: the handler keeps its address
  watch_interrupts(interrupted);                // Ctrl-C while the model loads: exit 130 too
  serve::ModelCatalog catalog(f.engine.model, f.engine.trust_model);
  auto engine = std::make_unique<Engine>(load_model_interruptible(f.engine.model, f.engine.trust_model, interrupted), options);
  if (interrupted.load()) throw Error(ErrorKind::Interrupted, "interrupted while setting up the engine");
  const EngineSetup setup = engine->setup();
  nlohmann::json info = system_profile();
  info["serve"] = {{"device", setup.device},
                   {"precision", to_string(setup.precision)},
                   {"threads", setup.threads},
                   {"default_model", catalog.default_id()},
                   {"token_required", !server.token.empty()},
                   {"max_upload_bytes", server.max_upload_bytes},
                   {"max_pixels", limits.max_pixels},
                   {"max_jobs", limits.max_jobs},
                   {"store_bytes", limits.memory_bytes},
                   {"keep_seconds", limits.keep.count()}};
  serve::JobStore jobs(std::move(catalog), options, std::move(engine), limits, f.engine.trust_model);
  serve::Server http(server, jobs, info);
  const int port = http.bind();
  std::atomic<bool> done{false};
  // Signal handlers may only set a flag: this thread turns it into a shutdown.
  std::thread watcher([&] {
    while (!interrupted.load() && !done.load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (interrupted.load()) {
      spdlog::info("stopping: cancelling the running job and closing the server");
      jobs.shutdown();
      http.stop();
    }
  });
  // The address bound, not its spelling: --host 127.1 listens on 127.0.0.1.
  const std::string bound = http.bound_address().empty() ? server.host : http.bound_address();
  const std::string host = bound.find(':') != std::string::npos ? "[" + bound + "]" : bound;
  // The one line on stdout: scripts and tests read the port from it.
  std::cout << "yamiro serve: listening on http://" << host << ":" << port << "/" << std::endl;
  spdlog::info("{} on {} ({}); open http://{}:{}/{} in a browser, Ctrl-C stops", jobs.catalog().default_id(), setup.device,
               to_string(setup.precision), host, port, server.token.empty() ? "" : "?token=...");
  if (server.token.empty() && !http.bound_to_loopback())
    spdlog::warn("listening on {} without --token: anyone who can reach this address can use the server", bound);
  http.run();
  done = true;
  watcher.join();
  jobs.shutdown();
  spdlog::info("stopped");
  return kExitOk;
}

}  // namespace

Command register_serve(CLI::App& app, const GlobalFlags&) {
  auto f = std::make_shared<ServeFlags>();
  CLI::App* cmd = app.add_subcommand("serve", "local web page and JSON API for upscaling images (see docs/serve.md)");
  cmd->add_option("--host", f->server.host, "address to listen on (other than localhost: reachable by others, use --token)")
      ->capture_default_str();
  cmd->add_option("--port", f->server.port, "port (0 = any free port, printed on stdout)")->capture_default_str();
  cmd->add_option("--token", f->server.token, "secret every API call must carry (Authorization: Bearer, X-Yamiro-Token or ?token=)");
  cmd->add_option("--max-upload-mb", f->max_upload_mb, "largest upload accepted, in MiB")->capture_default_str();
  cmd->add_option("--max-pixels", f->max_pixels, "largest input (width*height), checked from the header")->capture_default_str();
  cmd->add_option("--max-jobs", f->max_jobs, "jobs queued or running at once")->capture_default_str();
  cmd->add_option("--store-mb", f->store_mb, "memory for uploads waiting and results kept, in MiB (oldest results go first)")
      ->capture_default_str();
  cmd->add_option("--keep-minutes", f->keep_minutes, "finished jobs and their results are forgotten after this")->capture_default_str();
  cmd->add_option("--allow-origin", f->server.allowed_origins,
                  "a web origin (e.g. http://localhost:3000) whose pages may POST/DELETE here (repeatable; others: 403)");
  cmd->add_option("--request-timeout", f->request_timeout, "seconds one request's head and body may take to arrive")
      ->capture_default_str();
  add_engine_flags(*cmd, f->engine);
  return {cmd, [f] { return run_serve(*f); }};
}

}  // namespace yamiro::cli
