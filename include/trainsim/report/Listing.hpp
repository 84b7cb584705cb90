#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace trainsim::report {

/// A table for `trainsim list` and the generated reference pages (docs/reference/).
struct Table {
  std::string title;
  std::string intro; ///< a sentence above the table
  std::vector<std::string> headers;
  std::vector<std::vector<std::string>> rows;
  std::vector<std::pair<std::string, std::string>> sources; ///< (id, text): printed with --markdown only
};

/// Aligned plain text (columns padded, headers underlined) or a Markdown section.
std::string render(const Table& t, bool markdown);

/// A table of catalogue entries (an object of id -> object): one row per id, one column per scalar
/// field (nested objects flattened as "a.b"), in the order they first appear; fields named like
/// "source*" or "note*" (and everything under "sources") go to Table::sources.
Table catalogue_table(const std::string& title, const nlohmann::json& entries);

/// A cell's text: strings as they are, null as "–", numbers as JSON writes them.
std::string cell_text(const nlohmann::json& v);

} // namespace trainsim::report
