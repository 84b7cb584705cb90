#include "HtmlUtil.hpp"

#include <cmath>
#include <cstdio>

#include "trainsim/core/Units.hpp"

namespace trainsim::report::html {

std::string escape(const std::string& text)
{
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    case '\'':
      out += "&#39;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

std::string number(double v, int digits)
{
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e9)
    std::snprintf(buf, sizeof buf, "%.0f", v); // counts and other integers as they are
  else if (std::fabs(v) >= 1 && std::fabs(v) < 1e6)
    std::snprintf(buf, sizeof buf, "%.*f",
                  std::max(0, digits - 1 - static_cast<int>(std::floor(std::log10(std::fabs(v))))), v);
  else
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

namespace {
std::string binary(double v, const char* suffix)
{
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  size_t u = 0;
  while (std::fabs(v) >= 1024 && u + 1 < sizeof units / sizeof *units) {
    v /= 1024;
    ++u;
  }
  return number(v) + " " + units[u] + suffix;
}
} // namespace

namespace {
bool ends_with(const std::string& s, const std::string& suffix)
{
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
std::string last_segment(const std::string& key)
{
  auto dot = key.rfind('.');
  return dot == std::string::npos ? key : key.substr(dot + 1);
}
} // namespace

std::string format_field(const std::string& full_key, double v)
{
  const std::string key = last_segment(full_key);
  const std::string parent = full_key.size() > key.size() ? full_key.substr(0, full_key.size() - key.size() - 1) : "";
  auto has = [&](const std::string& token) {
    return ends_with(key, token) || key.find(token + "_") != std::string::npos || ends_with(parent, token);
  };
  if (key == "mfu" || key == "hfu" || key == "error" || ends_with(key, "_fraction") || ends_with(key, "_share"))
    return number(100 * v, 3) + " %";
  if (ends_with(key, "_percent"))
    return number(v, 3) + " %";
  if (ends_with(key, "_days"))
    return number(v) + " days";
  if (ends_with(key, "_Bps") || ends_with(key, "bytes_per_s"))
    return binary(v, "/s");
  if (ends_with(key, "_per_s"))
    return number(v) + " /s";
  if (ends_with(key, "_s") || (!parent.empty() && ends_with(parent, "_s")))
    return v == 0 ? "0 s" : core::format_seconds(v);
  if (ends_with(parent, "peak_flops") || ends_with(key, "_flops"))
    return number(v / 1e12) + " TFLOP/s";
  if (has("_mwh"))
    return number(v) + " MWh";
  if (ends_with(key, "_kg_per_kwh"))
    return number(v) + " kg/kWh";
  if (has("_kwh"))
    return number(v) + " kWh";
  if (has("_tco2e"))
    return number(v) + " tCO2e";
  if (has("_gib"))
    return number(v) + " GiB";
  if (ends_with(key, "_j"))
    return number(v) + " J";
  if (ends_with(key, "_w") || ends_with(parent, "_w"))
    return number(v) + " W";
  if (ends_with(key, "_bytes") || key == "bytes")
    return binary(v, "");
  return number(v);
}

std::string label_of(const std::string& key)
{
  std::string k = key;
  for (const char* suffix : {"_s", "_mwh", "_tco2e", "_gib", "_j", "_w", "_percent", "_days"})
    if (ends_with(k, suffix)) {
      k.resize(k.size() - std::string(suffix).size());
      break;
    }
  std::string out;
  for (char c : k)
    out += c == '_' ? ' ' : c;
  for (const char* abbrev : {"tp ", "pp ", "dp ", "ep ", "cp "})
    if (out.rfind(abbrev, 0) == 0) {
      out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
      out[1] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[1])));
    }
  return out;
}

void flatten(const nlohmann::ordered_json& j, const std::string& prefix,
             std::vector<std::pair<std::string, nlohmann::ordered_json>>& out)
{
  if (j.is_object()) {
    for (const auto& [k, v] : j.items())
      flatten(v, prefix.empty() ? k : prefix + "." + k, out);
  } else {
    out.emplace_back(prefix, j);
  }
}

const char* palette(size_t i)
{
  static const char* colours[] = {"#3a78c2", "#e0892b", "#2e9e5b", "#c2417a",
                                  "#8e5fc2", "#a2682f", "#5fb3b3", "#d1b62c"};
  return colours[i % (sizeof colours / sizeof *colours)];
}

std::string page_start(const std::string& title)
{
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"generator\" content=\"trainsim\">\n<title>" +
         escape(title) +
         "</title>\n<style>\n"
         "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;margin:0;"
         "background:#f6f7f9;color:#1d2330}\n"
         "main{max-width:1120px;margin:0 auto;padding:24px}\n"
         "h1{font-size:1.6em;margin:0 0 4px}h2{font-size:1.2em;margin:0 0 12px;border-bottom:2px solid #e3e6eb;"
         "padding-bottom:4px}\n"
         "section{background:#fff;border:1px solid #e3e6eb;border-radius:8px;padding:16px 20px;margin:16px 0}\n"
         ".sub{color:#5a6273;margin:0 0 8px}\n"
         ".cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:12px}\n"
         ".card{border:1px solid #e3e6eb;border-radius:6px;padding:10px 12px;background:#fbfcfd}\n"
         ".card .v{font-size:1.35em;font-weight:600}.card .k{color:#5a6273;font-size:.85em}\n"
         "table{border-collapse:collapse;font-size:.9em;margin:6px 0}\n"
         "td,th{padding:3px 10px;border-bottom:1px solid #eef0f3;text-align:left;vertical-align:top}\n"
         "td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
         "td{overflow-wrap:anywhere}.grid>div{min-width:0}h3{font-size:1em;margin:10px 0 4px}\n"
         ".grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:8px 20px}\n"
         ".legend span{display:inline-block;margin:2px 12px 2px 0;font-size:.85em}\n"
         ".legend i{display:inline-block;width:11px;height:11px;margin-right:5px;border-radius:2px;"
         "vertical-align:-1px}\n"
         "svg text{font-family:inherit;font-size:11px;fill:#3b4252}\n"
         ".note{color:#5a6273;font-size:.85em}\n"
         "footer{color:#8a91a0;font-size:.8em;text-align:center;margin:20px 0}\n"
         "</style>\n</head>\n<body>\n<main>\n";
}

std::string page_end()
{
  return "<footer>generated by trainsim; a self-contained file (no scripts, no "
         "network)</footer>\n</main>\n</body>\n</html>\n";
}

std::string stacked_bar(const std::vector<Part>& parts, double total, int width, int height)
{
  double sum = 0;
  for (const auto& p : parts)
    sum += std::max(0.0, p.value);
  if (total <= 0)
    total = sum;
  std::string out = "<svg width=\"" + std::to_string(width) + "\" height=\"" + std::to_string(height) +
                    "\" viewBox=\"0 0 " + std::to_string(width) + " " + std::to_string(height) +
                    "\" role=\"img\"><rect width=\"100%\" height=\"100%\" fill=\"#f0f2f5\"/>";
  double x = 0;
  char buf[512];
  for (const auto& p : parts) {
    if (!(p.value > 0) || total <= 0)
      continue;
    const double w = p.value / total * width;
    std::snprintf(buf, sizeof buf, "<rect x=\"%.2f\" width=\"%.2f\" height=\"%d\" fill=\"%s\">", x, w, height,
                  p.colour.c_str());
    out += buf;
    out += "<title>" + escape(p.label + ": " + p.tooltip) + "</title></rect>";
    x += w;
  }
  return out + "</svg>";
}

std::string legend(const std::vector<Part>& parts)
{
  std::string out = "<div class=\"legend\">";
  for (const auto& p : parts)
    out += "<span><i style=\"background:" + p.colour + "\"></i>" + escape(p.label) + "</span>";
  return out + "</div>";
}

} // namespace trainsim::report::html
