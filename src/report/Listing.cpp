#include "trainsim/report/Listing.hpp"

#include <algorithm>

namespace trainsim::report {

using nlohmann::json;

std::string cell_text(const json& v)
{
  if (v.is_null())
    return "–";
  if (v.is_string())
    return v.get<std::string>();
  return v.dump();
}

namespace {

/// Display width in terminal columns: UTF-8 continuation bytes take none, East Asian wide characters two.
size_t width(const std::string& s)
{
  size_t w = 0;
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const int len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    char32_t cp = len == 1 ? c : c & (0x3F >> (len - 1));
    for (int k = 1; k < len && i + static_cast<size_t>(k) < s.size(); ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + static_cast<size_t>(k)]) & 0x3F);
    const bool wide = (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
                      (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
                      (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
                      (cp >= 0xFFE0 && cp <= 0xFFE6);
    w += wide ? 2 : 1;
    i += static_cast<size_t>(len);
  }
  return w;
}

std::string md_escape(const std::string& s)
{
  std::string out;
  for (char c : s) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n')
      out += ' ';
    else
      out += c;
  }
  return out;
}

bool is_source_key(const std::string& key)
{
  const std::string last = key.substr(key.rfind('.') == std::string::npos ? 0 : key.rfind('.') + 1);
  return key.rfind("sources", 0) == 0 || last.rfind("source", 0) == 0 || last.rfind("note", 0) == 0;
}

void flatten(const json& j, const std::string& prefix, std::vector<std::pair<std::string, json>>& out)
{
  if (j.is_object() && !j.empty())
    for (const auto& [k, v] : j.items())
      flatten(v, prefix.empty() ? k : prefix + "." + k, out);
  else
    out.emplace_back(prefix, j);
}

} // namespace

Table catalogue_table(const std::string& title, const json& entries)
{
  Table t;
  t.title = title;
  t.headers.push_back("id");
  std::vector<std::vector<std::pair<std::string, json>>> flat;
  std::vector<std::string> ids;
  for (const auto& [id, entry] : entries.items()) {
    ids.push_back(id);
    flat.emplace_back();
    flatten(entry, "", flat.back());
    for (const auto& [k, v] : flat.back())
      if (!is_source_key(k) && std::find(t.headers.begin(), t.headers.end(), k) == t.headers.end())
        t.headers.push_back(k);
  }
  // A descriptive name reads best right after the id.
  for (const char* first : {"vendor", "name"}) {
    auto it = std::find(t.headers.begin(), t.headers.end(), first);
    if (it != t.headers.end())
      std::rotate(t.headers.begin() + 1, it, it + 1);
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    std::vector<std::string> row(t.headers.size(), "");
    row[0] = ids[i];
    std::string src;
    for (const auto& [k, v] : flat[i]) {
      if (is_source_key(k)) {
        src += (src.empty() ? "" : " ") + (k == "source" ? std::string() : k + ": ") + cell_text(v);
        continue;
      }
      const auto col = std::find(t.headers.begin(), t.headers.end(), k) - t.headers.begin();
      row[static_cast<size_t>(col)] = cell_text(v);
    }
    t.rows.push_back(std::move(row));
    if (!src.empty())
      t.sources.emplace_back(ids[i], src);
  }
  return t;
}

std::string render(const Table& t, bool markdown)
{
  std::string out;
  if (markdown) {
    out += "## " + t.title + "\n\n";
    if (!t.intro.empty())
      out += t.intro + "\n\n";
    out += "|";
    for (const auto& h : t.headers)
      out += " " + md_escape(h) + " |";
    out += "\n|";
    for (size_t i = 0; i < t.headers.size(); ++i)
      out += "---|";
    out += "\n";
    for (const auto& row : t.rows) {
      out += "|";
      for (const auto& c : row)
        out += " " + md_escape(c) + " |";
      out += "\n";
    }
    if (!t.sources.empty()) {
      out += "\nSources:\n\n";
      for (const auto& [id, text] : t.sources)
        out += "- **" + md_escape(id) + "**: " + text + "\n";
    }
    return out + "\n";
  }
  out += t.title + "\n";
  if (!t.intro.empty())
    out += t.intro + "\n";
  std::vector<size_t> w(t.headers.size(), 0);
  for (size_t i = 0; i < t.headers.size(); ++i)
    w[i] = width(t.headers[i]);
  for (const auto& row : t.rows)
    for (size_t i = 0; i < row.size() && i < w.size(); ++i)
      w[i] = std::max(w[i], width(row[i]));
  auto line = [&](const std::vector<std::string>& cells) {
    std::string l = " ";
    for (size_t i = 0; i < w.size(); ++i) {
      const std::string c = i < cells.size() ? cells[i] : "";
      l += " " + c + (i + 1 < w.size() ? std::string(w[i] - width(c) + 1, ' ') : "");
    }
    while (!l.empty() && l.back() == ' ')
      l.pop_back();
    return l + "\n";
  };
  out += line(t.headers);
  std::vector<std::string> rule;
  for (size_t x : w)
    rule.push_back(std::string(x, '-'));
  out += line(rule);
  for (const auto& row : t.rows)
    out += line(row);
  return out + "\n";
}

} // namespace trainsim::report
