#include "yamiro/report.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <iomanip>
#include <sstream>
#include <vector>

namespace yamiro {
namespace {

using json = nlohmann::json;

struct Series {
  std::string name;
  std::vector<std::pair<double, double>> points;
};

const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"};

std::string esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '&') o += "&amp;";
    else if (c == '"') o += "&quot;";
    else o += c;
  }
  return o;
}

std::string num(double v, int prec = 3) {
  std::ostringstream s;
  if (std::fabs(v) >= 1000) s << std::fixed << std::setprecision(0) << v;  // no 2.31e+03 on axes
  else s << std::setprecision(prec) << v;
  return s.str();
}

// A line chart with axes, ticks and a legend, as inline SVG.
std::string chart(const std::string& title, const std::string& xlabel, const std::string& ylabel, const std::vector<Series>& series) {
  double x0 = 1e300, x1 = -1e300, y1 = 0;
  for (const auto& s : series)
    for (const auto& [x, y] : s.points) x0 = std::min(x0, x), x1 = std::max(x1, x), y1 = std::max(y1, y);
  if (x0 > x1) return "<p class=na>" + esc(title) + ": no data</p>";
  if (x1 == x0) x1 = x0 + 1;
  if (y1 <= 0) y1 = 1;
  y1 *= 1.1;
  const double W = 640, H = 320, L = 70, R = 160, T = 30, B = 50;
  auto px = [&](double x) { return L + (x - x0) / (x1 - x0) * (W - L - R); };
  auto py = [&](double y) { return H - B - y / y1 * (H - T - B); };
  std::ostringstream o;
  o << "<svg viewBox='0 0 " << W << " " << H << "' width='" << W << "' height='" << H << "' role='img'>";
  o << "<text x='" << W / 2 - R / 2 << "' y='18' text-anchor='middle' class='t'>" << esc(title) << "</text>";
  o << "<line x1='" << L << "' y1='" << H - B << "' x2='" << W - R << "' y2='" << H - B << "' class='ax'/>";
  o << "<line x1='" << L << "' y1='" << T << "' x2='" << L << "' y2='" << H - B << "' class='ax'/>";
  for (int i = 0; i <= 4; ++i) {
    const double yv = y1 * i / 4, xv = x0 + (x1 - x0) * i / 4;
    o << "<line x1='" << L << "' y1='" << py(yv) << "' x2='" << W - R << "' y2='" << py(yv) << "' class='grid'/>";
    o << "<text x='" << L - 6 << "' y='" << py(yv) + 4 << "' text-anchor='end'>" << num(yv) << "</text>";
    o << "<text x='" << px(xv) << "' y='" << H - B + 16 << "' text-anchor='middle'>" << num(xv) << "</text>";
  }
  o << "<text x='" << (L + W - R) / 2 << "' y='" << H - 10 << "' text-anchor='middle'>" << esc(xlabel) << "</text>";
  o << "<text transform='translate(16," << (T + H - B) / 2 << ") rotate(-90)' text-anchor='middle'>" << esc(ylabel) << "</text>";
  for (std::size_t k = 0; k < series.size(); ++k) {
    const char* c = kColors[k % 8];
    std::string pts;
    for (const auto& [x, y] : series[k].points) pts += num(px(x), 6) + "," + num(py(y), 6) + " ";
    o << "<polyline fill='none' stroke='" << c << "' stroke-width='2' points='" << pts << "'/>";
    if (series[k].points.size() < 40)
      for (const auto& [x, y] : series[k].points)
        o << "<circle cx='" << px(x) << "' cy='" << py(y) << "' r='3' fill='" << c << "'><title>" << esc(series[k].name) << ": "
          << num(x) << ", " << num(y) << "</title></circle>";
    o << "<rect x='" << W - R + 12 << "' y='" << T + 18 * k << "' width='12' height='12' fill='" << c << "'/>";
    o << "<text x='" << W - R + 30 << "' y='" << T + 10 + 18 * k << "'>" << esc(series[k].name) << "</text>";
  }
  o << "</svg>";
  return o.str();
}

std::string latency_section(const json& r) {
  if (!r.contains("latency")) return "<h2>Latency</h2><p class=na>not run (--latency)</p>";
  std::vector<Series> lat, mpix;
  std::ostringstream table;
  table << "<table><tr><th>precision</th><th>size</th><th>tile</th><th>median s</th><th>p90 s</th><th>out Mpix/s</th>"
           "<th>GFLOP/s</th><th>% of conv peak</th><th>peak RSS MiB</th><th>baseline s</th><th>speed-up</th></tr>";
  bool baseline_drawn = false;
  for (const auto& run : r["latency"]) {
    // "auto (fp32)" where the run asked for auto; older results have no "requested".
    std::string prec = run.value("precision", std::string("?"));
    if (run.value("requested", prec) == "auto") prec = "auto (" + prec + (run.value("winograd", false) ? ", winograd)" : ")");
    std::string label = "yamiro " + prec;
    if (run.value("batch", 1) > 1) label += " batch " + std::to_string(run.value("batch", 1));
    Series s{label, {}}, m{s.name, {}}, b{"baseline fp32 NCHW", {}};
    for (const auto& row : run["rows"]) {
      const double size = row["size"];
      s.points.emplace_back(size, row["seconds"]["median"].get<double>());
      m.points.emplace_back(size, row["out_mpix_per_s"].get<double>());
      if (row.contains("baseline_seconds")) b.points.emplace_back(size, row["baseline_seconds"]["median"].get<double>());
      table << "<tr><td>" << esc(prec) << "</td><td>" << row["size"] << "</td><td>" << row["tile"]
            << "</td><td>" << num(row["seconds"]["median"].get<double>(), 4) << "</td><td>" << num(row["seconds"]["p90"].get<double>(), 4)
            << "</td><td>" << num(row["out_mpix_per_s"].get<double>()) << "</td><td>" << num(row.value("gflops", 0.0))
            << "</td><td>" << num(row.value("peak_fraction", 0.0) * 100) << "</td><td>"
            << num(row.value("peak_rss_bytes", 0.0) / 1048576.0, 4) << "</td><td>"
            << (row.contains("baseline_seconds") ? num(row["baseline_seconds"]["median"].get<double>(), 4) : "-") << "</td><td>"
            << (row.contains("speedup") ? num(row["speedup"].get<double>()) + "&times;" : "-") << "</td></tr>";
    }
    lat.push_back(s);
    mpix.push_back(m);
    if (!b.points.empty() && !baseline_drawn) {
      lat.push_back(b);
      baseline_drawn = true;
    }
  }
  table << "</table>";
  return "<h2>Latency and throughput against size</h2><div class=row>" +
         chart("Latency (median)", "input size (px a side)", "seconds", lat) +
         chart("Output throughput", "input size (px a side)", "output Mpix/s", mpix) + "</div>" + table.str() +
         (r["latency"].size() > 1 ? "<p>Each precision above is one run of the same sizes: the precision comparison.</p>"
                                  : "<p>One precision was run; <code>--precisions fp32,auto</code> compares them.</p>");
}

std::string throughput_section(const json& r) {
  if (!r.contains("throughput")) return "<h2>Sustained throughput</h2><p class=na>not run (--throughput)</p>";
  std::vector<Series> series;
  std::ostringstream t;
  t << "<table><tr><th>size</th><th>images</th><th>seconds</th><th>images/s</th><th>first quarter</th><th>last quarter</th><th>drift</th></tr>";
  for (const auto& row : r["throughput"]) {
    // Images/s in ten equal windows of the run: smooth enough to show drift.
    Series s{std::to_string(row["size"].get<int>()) + " px", {}};
    const double total = row["seconds"].get<double>(), w = total / 10;
    std::vector<int> bins(10, 0);
    for (const auto& ft : row["finish_times"]) bins[std::min(9, static_cast<int>(ft.get<double>() / w))]++;
    for (int i = 0; i < 10 && w > 0; ++i) s.points.emplace_back((i + 0.5) * w, bins[i] / w);
    series.push_back(s);
    t << "<tr><td>" << row["size"] << "</td><td>" << row["images"] << "</td><td>" << num(row["seconds"].get<double>())
      << "</td><td>" << num(row["images_per_s"].get<double>()) << "</td><td>" << num(row["first_window_ips"].get<double>())
      << "</td><td>" << num(row["last_window_ips"].get<double>()) << "</td><td>" << num(row["drift_percent"].get<double>()) << " %</td></tr>";
  }
  t << "</table>";
  return "<h2>Sustained throughput</h2>" + chart("Images/s in tenths of the run", "seconds", "images/s", series) + t.str();
}

std::string memory_section(const json& r) {
  if (!r.contains("memory")) return "<h2>Memory</h2><p class=na>not run (--memory)</p>";
  Series tiled{"tiled", {}}, untiled{"untiled (tile 0)", {}}, images{"input + output images", {}};
  for (const auto& row : r["memory"]) {
    const double size = row["size"];
    tiled.points.emplace_back(size, row["tiled_bytes"].get<double>() / 1048576.0);
    if (row["untiled_bytes"].is_number()) untiled.points.emplace_back(size, row["untiled_bytes"].get<double>() / 1048576.0);
    images.points.emplace_back(size, row["image_bytes"].get<double>() / 1048576.0);
  }
  return "<h2>Peak memory against input size</h2>" +
         chart("Peak resident memory above the idle process", "input size (px a side)", "MiB", {tiled, untiled, images}) +
         "<p>Tiled runs need the images plus a working set that depends on the tile, not on the image.</p>";
}

std::string thermal_section(const json& r) {
  if (!r.contains("thermal")) return "<h2>Thermal trace</h2><p class=na>not run (--thermal)</p>";
  const auto& th = r["thermal"];
  std::map<std::string, Series> temps, clocks;
  for (const auto& s : th["samples"]) {
    const double t = s["seconds"];
    for (const auto& [k, v] : s["celsius"].items()) temps[k].name = k, temps[k].points.emplace_back(t, v.get<double>());
    for (const auto& [k, v] : s["mhz"].items()) clocks[k].name = k, clocks[k].points.emplace_back(t, v.get<double>());
  }
  std::vector<Series> ts, cs;
  for (auto& [k, s] : temps) ts.push_back(s);
  for (auto& [k, s] : clocks) cs.push_back(s);
  std::string out = "<h2>Thermal trace</h2><p>Sources: ";
  for (const auto& s : th["sources"]) out += esc(s.get<std::string>()) + "; ";
  out += "throughput drift first vs last quarter: " + num(th.value("drift_percent", 0.0)) + " %</p><div class=row>";
  out += ts.empty() ? "<p class=na>Temperatures: not available on this platform</p>" : chart("Temperatures", "seconds", "°C", ts);
  out += cs.empty() ? "<p class=na>Clocks: not available</p>" : chart("Clocks", "seconds", "MHz", cs);
  return out + "</div>";
}

// The measured 3x3 convolution peak of each latency run's precision.
std::string peaks(const json& r) {
  std::string out;
  if (r.contains("latency"))
    for (const auto& run : r["latency"])
      out += (out.empty() ? "" : "; ") + num(run.value("conv_peak_gflops", 0.0)) + " GFLOP/s in " +
             esc(run.value("precision", std::string("?")));
  return out.empty() ? "not measured (run --latency)" : out + " (64→64 3×3, same memory format)";
}

}  // namespace

std::string render_report_html(const json& r) {
  std::ostringstream o;
  const json info = r.value("system", json::object());
  o << "<!doctype html><html lang=en><head><meta charset=utf-8><title>yamiro bench: " << esc(r.value("model", std::string())) << "</title>"
    << "<style>body{font:14px system-ui,sans-serif;margin:24px auto;max-width:1340px;color:#222}"
       "h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}"
       "table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
       "th{background:#f4f4f4}.row{display:flex;flex-wrap:wrap;gap:12px}svg{background:#fff;border:1px solid #eee}"
       "svg text{font-size:11px;fill:#333}svg .t{font-size:13px;font-weight:600}.ax{stroke:#444}.grid{stroke:#eee}"
       ".na{color:#888;font-style:italic}dl{display:grid;grid-template-columns:max-content auto;gap:2px 14px}dt{color:#666}</style>"
    << "</head><body><h1>yamiro bench — " << esc(r.value("model", std::string())) << "</h1><dl>"
    << "<dt>architecture</dt><dd>" << esc(r.value("arch", std::string())) << "</dd>"
    << "<dt>device</dt><dd>" << esc(r.value("device", std::string())) << ", " << r.value("threads", 0) << " threads</dd>"
    << "<dt>conv peak</dt><dd>" << peaks(r) << "</dd>";
  if (info.contains("cpu"))
    o << "<dt>CPU</dt><dd>" << esc(info["cpu"].value("model", std::string())) << ", " << info["cpu"].value("cpus_available", 0) << " CPUs</dd>";
  if (info.contains("libraries")) o << "<dt>LibTorch</dt><dd>" << esc(info["libraries"].value("libtorch", std::string())) << "</dd>";
  o << "</dl>" << latency_section(r) << throughput_section(r) << memory_section(r) << thermal_section(r) << "</body></html>\n";
  return o.str();
}

}  // namespace yamiro
