#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "HtmlUtil.hpp"
#include "trainsim/core/AtomicFile.hpp"
#include "trainsim/core/Errors.hpp"
#include "trainsim/report/Html.hpp"
#include "trainsim/scenario/JsonReader.hpp"

namespace trainsim::report {

using nlohmann::ordered_json;
using namespace html;

bool higher_is_better(const std::string& field)
{
  const std::string key = field.substr(field.rfind('.') == std::string::npos ? 0 : field.rfind('.') + 1);
  for (const char* good : {"mfu", "hfu", "tokens_per_s", "tflops", "throughput", "goodput", "efficiency", "utilisation",
                           "utilization", "samples_per_s"})
    if (key.find(good) != std::string::npos)
      return true;
  return false;
}

std::vector<size_t> pareto_front(const std::vector<std::pair<double, double>>& points, bool x_high, bool y_high)
{
  // Map to "smaller is better" on both axes, sort by x then y, sweep keeping strictly improving y.
  std::vector<size_t> idx;
  for (size_t i = 0; i < points.size(); ++i)
    if (std::isfinite(points[i].first) && std::isfinite(points[i].second))
      idx.push_back(i);
  auto key = [&](size_t i) {
    return std::make_pair(x_high ? -points[i].first : points[i].first, y_high ? -points[i].second : points[i].second);
  };
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return key(a) < key(b); });
  std::vector<size_t> front;
  double best_y = std::numeric_limits<double>::infinity();
  for (size_t k = 0; k < idx.size(); ++k) {
    const auto [x, y] = key(idx[k]);
    if (y < best_y) {
      front.push_back(idx[k]);
      best_y = y;
    } else if (!front.empty() && key(front.back()) == std::make_pair(x, y)) {
      front.push_back(idx[k]); // an exact tie with an optimal point is optimal too
    }
  }
  std::stable_sort(front.begin(), front.end(), [&](size_t a, size_t b) { return points[a].first < points[b].first; });
  return front;
}

namespace {

using Flat = std::vector<std::pair<std::string, ordered_json>>;

const ordered_json* find(const Flat& row, const std::string& key)
{
  for (const auto& [k, v] : row)
    if (k == key)
      return &v;
  return nullptr;
}

/// The flattened key a user's field name means: exact, else the unique key ending in ".name".
std::string resolve(const std::vector<Flat>& rows, const std::string& name, const char* option)
{
  std::vector<std::string> numeric, matches;
  for (const auto& row : rows)
    for (const auto& [k, v] : row) {
      if (!v.is_number() || std::find(numeric.begin(), numeric.end(), k) != numeric.end())
        continue;
      numeric.push_back(k);
      const std::string want = "." + name;
      if (k == name || (k.size() > want.size() && k.compare(k.size() - want.size(), want.size(), want) == 0))
        matches.push_back(k);
    }
  if (std::find(matches.begin(), matches.end(), name) != matches.end())
    return name;
  if (matches.size() == 1)
    return matches.front();
  std::string list;
  for (const auto& k : (matches.empty() ? numeric : matches))
    list += (list.empty() ? "" : ", ") + k;
  throw core::UsageError(
      std::string(option) + " " + name +
      (matches.empty() ? ": not a numeric field of the results; valid: " : ": ambiguous; write one of: ") + list);
}

std::string axis_label(const std::string& key, bool higher)
{
  return key + (higher ? " (higher is better)" : " (lower is better)");
}

} // namespace

std::string sweep_to_html(const std::vector<ordered_json>& rows, const SweepPlot& plot)
{
  std::vector<Flat> flat(rows.size());
  for (size_t i = 0; i < rows.size(); ++i)
    flatten(rows[i], "", flat[i]);
  const std::string xk = resolve(flat, plot.x, "--x"), yk = resolve(flat, plot.y, "--y");
  std::vector<std::pair<double, double>> pts;
  std::vector<size_t> row_of;
  size_t skipped = 0;
  for (size_t i = 0; i < flat.size(); ++i) {
    const auto* x = find(flat[i], xk);
    const auto* y = find(flat[i], yk);
    if (x == nullptr || y == nullptr || !x->is_number() || !y->is_number()) {
      ++skipped;
      continue;
    }
    pts.emplace_back(x->get<double>(), y->get<double>());
    row_of.push_back(i);
  }
  const auto front = pareto_front(pts, plot.x_higher_better, plot.y_higher_better);
  const std::string title = plot.title.empty() ? "trainsim sweep: " + yk + " against " + xk : plot.title;
  std::string out = page_start(title);
  out += "<header id=\"title\"><h1>" + escape(title) + "</h1><p class=\"sub\">" + std::to_string(rows.size()) +
         " result rows, " + std::to_string(pts.size()) + " plotted";
  if (skipped > 0)
    out += ", " + std::to_string(skipped) + " without both values (failed or infeasible configurations)";
  out += "; " + std::to_string(front.size()) + " on the Pareto front.</p></header>\n";

  // Scatter.
  const int W = 1060, H = 520, L = 80, R = 20, T = 16, B = 50;
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  if (!pts.empty()) {
    x0 = x1 = pts[0].first;
    y0 = y1 = pts[0].second;
    for (const auto& [x, y] : pts) {
      x0 = std::min(x0, x), x1 = std::max(x1, x);
      y0 = std::min(y0, y), y1 = std::max(y1, y);
    }
    const double px = (x1 - x0) > 0 ? (x1 - x0) * 0.05 : std::max(std::fabs(x0) * 0.05, 1e-12);
    const double py = (y1 - y0) > 0 ? (y1 - y0) * 0.05 : std::max(std::fabs(y0) * 0.05, 1e-12);
    x0 -= px, x1 += px, y0 -= py, y1 += py;
  }
  auto sx = [&](double x) { return L + (x - x0) / (x1 - x0) * (W - L - R); };
  auto sy = [&](double y) { return T + (1 - (y - y0) / (y1 - y0)) * (H - T - B); };
  char buf[512];
  std::string svg = "<svg width=\"" + std::to_string(W) + "\" height=\"" + std::to_string(H) + "\" viewBox=\"0 0 " +
                    std::to_string(W) + " " + std::to_string(H) + "\" role=\"img\">";
  std::snprintf(buf, sizeof buf,
                "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#fbfcfd\" stroke=\"#d5d9e0\"/>", L, T,
                W - L - R, H - T - B);
  svg += buf;
  for (int k = 0; k <= 5; ++k) {
    const double xv = x0 + (x1 - x0) * k / 5, yv = y0 + (y1 - y0) * k / 5;
    std::snprintf(buf, sizeof buf, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", sx(xv), H - B + 16);
    svg += buf + escape(format_field(xk, xv)) + "</text>";
    std::snprintf(buf, sizeof buf, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">", L - 6, sy(yv) + 4);
    svg += buf + escape(format_field(yk, yv)) + "</text>";
  }
  std::snprintf(buf, sizeof buf, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" style=\"font-size:13px\">",
                (L + W - R) / 2, H - 8);
  svg += buf + escape(axis_label(xk, plot.x_higher_better)) + "</text>";
  std::snprintf(buf, sizeof buf,
                "<text transform=\"translate(14 %d) rotate(-90)\" text-anchor=\"middle\" style=\"font-size:13px\">",
                (T + H - B) / 2);
  svg += buf + escape(axis_label(yk, plot.y_higher_better)) + "</text>";
  if (front.size() > 1) {
    std::string path;
    for (size_t k = 0; k < front.size(); ++k) {
      std::snprintf(buf, sizeof buf, "%s%.2f %.2f ", k == 0 ? "M" : "L", sx(pts[front[k]].first),
                    sy(pts[front[k]].second));
      path += buf;
    }
    svg += "<path id=\"pareto-line\" d=\"" + path + "\" fill=\"none\" stroke=\"#c2417a\" stroke-width=\"2\"/>";
  }
  std::vector<bool> optimal(pts.size(), false);
  for (size_t f : front)
    optimal[f] = true;
  auto tooltip = [&](size_t row) {
    std::string text;
    for (const auto& [k, v] : flat[row_of[row]])
      if (!v.is_array() && !v.is_object() && k.find("resolved_scenario") == std::string::npos)
        text += k + " = " +
                (v.is_number()   ? format_field(k, v.get<double>())
                 : v.is_string() ? v.get<std::string>()
                                 : v.dump()) +
                "\n";
    return text;
  };
  for (int pass = 0; pass < 2; ++pass) // optimal points drawn last, on top
    for (size_t i = 0; i < pts.size(); ++i) {
      if (optimal[i] != (pass == 1))
        continue;
      std::snprintf(buf, sizeof buf,
                    "<circle class=\"%s\" cx=\"%.2f\" cy=\"%.2f\" r=\"%d\" fill=\"%s\" fill-opacity=\"%s\">",
                    optimal[i] ? "pareto" : "point", sx(pts[i].first), sy(pts[i].second), optimal[i] ? 6 : 4,
                    optimal[i] ? "#c2417a" : "#3a78c2", optimal[i] ? "1" : "0.55");
      svg += buf + std::string("<title>") + escape(tooltip(i)) + "</title></circle>";
    }
  svg += "</svg>";
  out += "<section id=\"scatter\"><h2>" + escape(yk) + " against " + escape(xk) + "</h2>" + svg +
         "<div class=\"legend\"><span><i style=\"background:#c2417a\"></i>Pareto-optimal (no other configuration is at "
         "least as good on both axes and better on one)</span><span><i style=\"background:#3a78c2\"></i>other "
         "configurations</span></div></section>\n";

  // The Pareto-optimal rows: the swept axes (fields that vary) and the two plotted fields.
  std::vector<std::string> columns{xk, yk};
  for (const auto& [k, v] : flat.empty() ? Flat{} : flat.front()) {
    if (k == xk || k == yk || v.is_array() || v.is_object() || k.find("resolved_scenario") != std::string::npos)
      continue;
    bool varies = false;
    for (const auto& row : flat) {
      const auto* other = find(row, k);
      varies = varies || other == nullptr || *other != v;
    }
    if (varies && columns.size() < 12)
      columns.push_back(k);
  }
  out += "<section id=\"pareto\"><h2>Pareto-optimal configurations</h2><div style=\"overflow-x:auto\"><table><tr>";
  for (const auto& c : columns)
    out += "<th>" + escape(c) + "</th>";
  out += "</tr>";
  for (size_t f : front) {
    out += "<tr>";
    for (const auto& c : columns) {
      const auto* v = find(flat[row_of[f]], c);
      out += "<td class=\"n\">" +
             escape(v == nullptr     ? "–"
                    : v->is_number() ? format_field(c, v->get<double>())
                    : v->is_string() ? v->get<std::string>()
                                     : v->dump()) +
             "</td>";
    }
    out += "</tr>";
  }
  out += "</table></div><p class=\"note\">Columns: the two plotted fields, then the fields that vary between rows (the "
         "swept axes and what they change), at most 12.</p></section>\n";
  return out + page_end();
}

namespace {

std::vector<std::string> csv_fields(const std::string& line, const std::string& path, size_t lineno)
{
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"')
        cur += '"', ++i;
      else if (c == '"')
        quoted = false;
      else
        cur += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.push_back(cur);
      cur.clear();
    } else if (c != '\r') {
      cur += c;
    }
  }
  if (quoted)
    throw core::IoError(path + ":" + std::to_string(lineno) + ": unterminated quoted CSV field");
  out.push_back(cur);
  return out;
}

ordered_json csv_value(const std::string& text)
{
  if (text.empty())
    return nullptr;
  try {
    size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size())
      return v;
  } catch (const std::exception&) {
  }
  return text;
}

} // namespace

std::vector<ordered_json> read_result_rows(const std::string& path)
{
  const std::string text = core::read_file(path);
  std::istringstream in(text);
  std::string line;
  std::vector<ordered_json> rows;
  size_t lineno = 0;
  const bool csv = path.size() >= 4 && path.compare(path.size() - 4, 4, ".csv") == 0;
  std::vector<std::string> header;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.find_first_not_of(" \t\r") == std::string::npos)
      continue;
    if (csv) {
      auto fields = csv_fields(line, path, lineno);
      if (header.empty()) {
        header = fields;
        continue;
      }
      if (fields.size() != header.size())
        throw core::IoError(path + ":" + std::to_string(lineno) + ": " + std::to_string(fields.size()) +
                            " fields, the header has " + std::to_string(header.size()));
      ordered_json row = ordered_json::object();
      for (size_t i = 0; i < header.size(); ++i)
        row[header[i]] = csv_value(fields[i]);
      rows.push_back(std::move(row));
    } else {
      auto row = scenario::parse_ordered_json_strict(line, path + ":" + std::to_string(lineno),
                                                     "expected JSON Lines, one result object per line, or a .csv file");
      if (!row.is_object())
        throw core::IoError(path + ":" + std::to_string(lineno) + ": each line must be one JSON object");
      rows.push_back(std::move(row));
    }
  }
  if (rows.empty())
    throw core::IoError(path + ": no result rows");
  return rows;
}

} // namespace trainsim::report
