#pragma once
// Helpers shared by the HTML reports (src/report/Html.cpp, SweepHtml.cpp); not a public interface.
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace trainsim::report::html {

/// Escapes text for HTML element content and attribute values.
std::string escape(const std::string& text);
/// A number with the unit its field name implies (`_s` seconds, `_mwh` MWh, `mfu` percent, ...).
std::string format_field(const std::string& key, double value);
/// Compact number: 4 significant digits, thousands kept readable.
std::string number(double v, int digits = 4);
/// "compute_s" -> "compute", "tp_comm_exposed_s" -> "TP comm exposed".
std::string label_of(const std::string& key);
/// Flattens nested objects into "a.b.c" keys (arrays are kept whole). Order kept.
void flatten(const nlohmann::ordered_json& j, const std::string& prefix,
             std::vector<std::pair<std::string, nlohmann::ordered_json>>& out);
/// Document head with the inline stylesheet, and the end of the document.
std::string page_start(const std::string& title);
std::string page_end();
/// A horizontal stacked bar (inline SVG) of labelled parts with a legend; `total` scales the bar
/// (0: the sum of the parts).
struct Part {
  std::string label;
  double value = 0;
  std::string colour;
  std::string tooltip;
};
std::string stacked_bar(const std::vector<Part>& parts, double total, int width, int height);
std::string legend(const std::vector<Part>& parts);
/// A colour from a fixed palette, by index.
const char* palette(size_t i);

} // namespace trainsim::report::html
