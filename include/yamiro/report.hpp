// The self-contained HTML report of `yamiro bench --report` (inline SVG, no network).
// Thread-safety: render_report_html is a pure function, thread-safe.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace yamiro {

// Renders the bench results (the document `bench --json` writes) as one HTML page with
// charts of latency and throughput against size, memory against size (tiled and
// untiled), a precision comparison and the thermal trace. Sections without data say so.
std::string render_report_html(const nlohmann::json& results);

}  // namespace yamiro
