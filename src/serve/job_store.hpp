// The jobs of `yamiro serve`: uploads waiting, the one running, results kept for a while.
// One worker thread runs the jobs one at a time on the engine (one device per server);
// HTTP threads submit, poll, download and cancel concurrently.
#pragma once
#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "yamiro/pipeline.hpp"
#include "yamiro/engine.hpp"

namespace yamiro::serve {

// A request the server refuses, with the HTTP status to answer (4xx/5xx) and a message
// meant for people.
class HttpError : public std::runtime_error {
 public:
  HttpError(int status, const std::string& message) : std::runtime_error(message), status_(status) {}
  int status() const noexcept { return status_; }

 private:
  int status_;
};

// The models a client may choose, by id. Clients only ever name an id: the file behind it
// was chosen by whoever started the server (-m) or found in the model folders.
class ModelCatalog {
 public:
  // `default_model` is -m as given (a name or a path); the model folders are scanned for
  // .param, .pth, .safetensors files (and .pt with `trust_model`).
  ModelCatalog(const std::string& default_model, bool trust_model);
  const std::string& default_id() const { return default_id_; }
  // The -m argument or file path for `id`; nullopt for an id that is not listed.
  std::optional<std::string> source(const std::string& id) const;
  nlohmann::json to_json() const;  // {"default": id, "models": [{"id", "format", "default"}]}
  std::string ids() const;         // "a, b, c" for messages

 private:
  std::string default_id_;
  std::vector<std::pair<std::string, std::string>> models_;  // id -> source, in listing order
};

struct JobRequest {
  std::string model_id;
  Precision precision = Precision::Auto;
  ImageOptions image;
  std::string format;  // output extension ".png" ...; "" = the input's format
  int quality = 95;
  std::string name;    // display name only (sanitised); never used as a path
  std::string input_format;  // from the header probe: "png", "jpeg", ...
  std::vector<unsigned char> bytes;
};

struct StoreLimits {
  std::size_t max_jobs = 64;                   // queued + running
  std::uint64_t memory_bytes = 1ULL << 30;     // uploads waiting + results kept, together
  std::chrono::seconds keep{3600};             // finished jobs are forgotten after this
  std::int64_t max_pixels = 16384LL * 16384LL;  // decoded input, as --max-pixels
};

enum class JobState { Queued, Running, Done, Failed, Cancelled };
const char* to_string(JobState s);

// A finished result ready to send; the bytes stay valid while held even if the job expires.
struct JobResult {
  std::shared_ptr<const std::vector<unsigned char>> bytes;
  std::string content_type;
  std::string filename;  // safe for a Content-Disposition header
};

class JobStore {
 public:
  // Starts the worker. `engine` was built for the catalog's default model with `base`
  // (so a bad -m fails before the server listens); other models and precisions get an
  // engine of their own when a job asks for them (one engine kept at a time).
  JobStore(ModelCatalog catalog, EngineOptions base, std::unique_ptr<Engine> engine, StoreLimits limits, bool trust_model);
  ~JobStore();  // shutdown()
  JobStore(const JobStore&) = delete;
  JobStore& operator=(const JobStore&) = delete;

  // Queues a job; returns its id (32 hex digits). Throws HttpError 503 when the queue is
  // full or the upload does not fit in memory beside the results kept. Thread-safe.
  std::string submit(JobRequest request);
  // The job as JSON (state, progress, error, sizes); nullopt for an unknown or expired id.
  std::optional<nlohmann::json> status(const std::string& id);
  nlohmann::json list();
  // Throws HttpError 404 (unknown/expired) or 409 (not done: says its state).
  JobResult result(const std::string& id);
  // Queued: cancelled at once. Running: asks the engine to stop at the next tile.
  // Finished: forgotten, result freed. Returns the JSON answer; throws HttpError 404.
  nlohmann::json cancel(const std::string& id);
  const ModelCatalog& catalog() const { return catalog_; }
  const StoreLimits& limits() const { return limits_; }
  std::string device() const;

  // Cancels the running job, drops the queue and joins the worker. Idempotent.
  void shutdown();

 private:
  struct Job;
  void work();
  void run(Job& job);
  Engine& engine_for(const std::string& model_id, Precision precision);
  void forget_expired_locked();
  bool make_room_locked(std::uint64_t bytes, const Job* keep);
  nlohmann::json json_locked(const Job& job) const;

  const ModelCatalog catalog_;
  const EngineOptions base_;
  const StoreLimits limits_;
  const bool trust_model_;
  std::unique_ptr<Engine> engine_;  // worker thread only (after construction)
  std::string engine_key_;
  std::string device_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::string, std::shared_ptr<Job>> jobs_;
  std::deque<std::shared_ptr<Job>> queue_;
  std::shared_ptr<Job> running_;
  std::uint64_t used_bytes_ = 0;
  bool stop_ = false;
  std::thread worker_;
};

}  // namespace yamiro::serve
