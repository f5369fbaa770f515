// yamiro models list | verify | fetch: known and installed models, checksums, downloads.
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli/common.hpp"
#include "cli/interrupt.hpp"
#include "yamiro/fetch.hpp"
#include "yamiro/error.hpp"
#include "yamiro/manifest.hpp"
#include "yamiro/model.hpp"
#include "yamiro/sha256.hpp"

namespace fs = std::filesystem;

namespace yamiro::cli {
namespace {

// "ok", "MISMATCH", "no checksum" for one installed file.
std::string check(const fs::path& file, const std::string& expected) {
  if (expected.empty()) return "no checksum";
  return sha256_file(file.string()) == expected ? "ok" : "MISMATCH";
}

std::string describe(const fs::path& file) {
  try {
    const Model m = load_model(file.string());
    return m.info.summary() + ", " + m.format;
  } catch (const Error& e) {
    return std::string("unreadable: ") + e.what();
  }
}

int run_list(bool json_out) {
  const auto entries = read_manifest(manifest_path());
  nlohmann::json rows = nlohmann::json::array();
  for (const ModelListing& l : list_models(entries)) {
    nlohmann::json row = {{"name", l.name}, {"known", l.known}, {"installed", l.installed}};
    if (l.entry) row.update({{"builtin", l.entry->builtin}, {"arch", l.entry->arch}, {"scale", l.entry->scale}});
    if (l.installed) {
      std::uintmax_t size = 0;
      std::string sums = l.entry ? "ok" : "unknown";
      std::error_code ec;
      for (std::size_t i = 0; i < l.files.size(); ++i) {
        size += fs::file_size(l.files[i], ec);
        if (!l.entry) continue;
        const std::string c = check(l.files[i], l.entry->files.at(i).sha256);
        if (c != "ok") sums = c;
      }
      row.update({{"path", l.path}, {"size_bytes", size}, {"checksum", sums}, {"detected", describe(l.path)}});
    }
    rows.push_back(row);
  }
  if (json_out) {
    std::cout << rows.dump(1) << std::endl;
    return 0;
  }
  for (const auto& r : rows) {
    std::cout << r["name"].get<std::string>() << (r.value("builtin", false) ? " (built-in)" : "") << "\n";
    if (!r["installed"].get<bool>()) {
      std::cout << "  not installed; " << r.value("arch", std::string()) << " x" << r.value("scale", 0) << "\n";
      continue;
    }
    std::cout << "  " << r["path"].get<std::string>() << ", " << r["size_bytes"].get<std::uintmax_t>() / 1024 << " KiB, checksum "
              << r["checksum"].get<std::string>() << "\n  " << r["detected"].get<std::string>() << "\n";
  }
  return 0;
}

int run_verify() {
  int bad = 0, checked = 0;
  for (const auto& e : read_manifest(manifest_path())) {
    const std::string dir = installed_dir(e);
    if (dir.empty()) continue;
    for (const auto& f : e.files) {
      const fs::path p = fs::path(dir) / f.name;
      const std::string c = check(p, f.sha256);
      ++checked;
      if (c == "MISMATCH") {
        ++bad;
        spdlog::error("{}: SHA-256 does not match the manifest (re-fetch it: scripts/fetch-models.sh)", p.string());
      } else {
        std::cout << p.string() << ": " << c << "\n";
      }
    }
  }
  spdlog::info("{} file(s) checked, {} mismatch(es)", checked, bad);
  return bad ? kExitFailed : kExitOk;
}

struct FetchFlags {
  std::vector<std::string> names;
  std::string dir;
  bool force = false;
  double timeout_s = 30;
};

int run_fetch(const FetchFlags& f) {
  const auto entries = read_manifest(manifest_path());
  static std::atomic<bool> cancel{false};
  watch_interrupts(cancel);
  FetchOptions o;
  o.dir = f.dir;
  o.force = f.force;
  o.timeout_s = f.timeout_s;
  o.cancel = &cancel;
  const bool tty = isatty(STDERR_FILENO);
  if (tty)
    o.on_progress = [](const std::string& file, std::uint64_t done, std::int64_t total) {
      if (total > 0) std::fprintf(stderr, "\r%s: %.1f / %.1f MiB ", file.c_str(), done / 1048576.0, total / 1048576.0);
      else std::fprintf(stderr, "\r%s: %.1f MiB ", file.c_str(), done / 1048576.0);
    };
  int failed = 0;
  for (const auto& name : f.names) {
    const ManifestEntry* entry = nullptr;
    for (const auto& e : entries)
      if (e.name == name) entry = &e;
    if (!entry) throw Error(ErrorKind::Usage, "models fetch: '" + name + "' is not in the manifest " + manifest_path() +
                                                  " (yamiro models list shows the known names)");
    try {
      for (const FetchedFile& got : fetch_model(*entry, o)) {
        if (tty) std::fprintf(stderr, "\n");
        std::cout << got.path << ": " << (got.skipped ? "already present, checksum ok" : got.verified ? "downloaded, checksum ok"
                                                                                                  : "downloaded, no checksum pinned (" + got.sha256 + ")")
                  << "\n";
      }
    } catch (const Error& e) {
      if (tty) std::fprintf(stderr, "\n");
      if (e.kind() == ErrorKind::Interrupted || e.kind() == ErrorKind::Usage || f.names.size() == 1) throw;
      spdlog::error("{}", e.what());
      ++failed;
    }
  }
  return failed ? kExitFailed : kExitOk;
}

}  // namespace

Command register_models(CLI::App& app, const GlobalFlags&) {
  CLI::App* cmd = app.add_subcommand("models", "known and installed models");
  cmd->require_subcommand(1);
  auto json_out = std::make_shared<bool>(false);
  CLI::App* list = cmd->add_subcommand("list", "known models, installed files, sizes, checksums, detected architectures");
  list->add_flag("--json", *json_out, "print JSON");
  CLI::App* verify = cmd->add_subcommand("verify", "check the SHA-256 of installed known models (exit 1 on a mismatch)");
  auto ff = std::make_shared<FetchFlags>();
  CLI::App* fetch = cmd->add_subcommand("fetch", "download manifest models over HTTP(S) and check their SHA-256");
  fetch->add_option("names", ff->names, "model names from the manifest")->required();
  fetch->add_option("--dir", ff->dir, "target folder (default: the first model folder, e.g. ~/.cache/yamiro/models)");
  fetch->add_flag("--force", ff->force, "replace files that exist but do not match the manifest");
  fetch->add_option("--timeout", ff->timeout_s, "seconds a stalled connection may wait")->capture_default_str();
  return {cmd, [list, verify, fetch, json_out, ff] {
            if (list->parsed()) return run_list(*json_out);
            if (verify->parsed()) return run_verify();
            if (fetch->parsed()) return run_fetch(*ff);
            throw Error(ErrorKind::Usage, "models: list, verify or fetch");
          }};
}

}  // namespace yamiro::cli
