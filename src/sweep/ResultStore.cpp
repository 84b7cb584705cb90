#include "trainsim/sweep/ResultStore.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>

#include <fcntl.h>
#include <unistd.h>

#include "trainsim/core/AtomicFile.hpp"
#include "trainsim/core/Errors.hpp"
#include "trainsim/result/Breakdown.hpp"
#include "trainsim/scenario/JsonReader.hpp"

namespace trainsim::sweep {

using nlohmann::ordered_json;

ordered_json Record::to_json(bool with_pareto) const
{
  ordered_json j;
  j["point"] = point;
  j["axes"] = axes;
  j["status"] = sweep::to_string(status);
  if (with_pareto)
    j["pareto"] = pareto;
  if (status == Status::ok)
    j["report"] = report;
  else
    j["error"] = error;
  return j;
}

Record Record::from_json(const ordered_json& j, const std::string& where)
{
  Record r;
  try {
    if (!j.at("point").is_number_unsigned())
      throw core::IoError(where + ": not a sweep result record (\"point\" must be a whole number >= 0)");
    r.point = j.at("point").get<size_t>();
    r.axes = j.at("axes");
    r.status = status_from_string(j.at("status").get<std::string>(), where + "/status");
    if (r.status == Status::ok)
      r.report = j.at("report");
    else
      r.error = j.at("error").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    throw core::IoError(where + ": not a sweep result record (" + std::string(e.what()) + ")");
  }
  return r;
}

const std::vector<std::string>& csv_metric_pointers()
{
  static const std::vector<std::string> p = [] {
    std::vector<std::string> v{
        "/accelerators",
        "/step_time_s",
        "/tokens_per_s",
        "/mfu",
        "/hfu",
        "/tflops_per_accelerator",
        "/time_to_train_s",
        "/time_to_train_days",
        "/energy_mwh",
        "/energy_per_step_j",
        "/average_accelerator_power_w",
        "/carbon_tco2e",
        "/memory_gib_per_accelerator",
    };
    for (const auto& part : result::parts) // the step's breakdown, every part (result/Breakdown.hpp)
      v.push_back(std::string("/breakdown/") + part.key);
    return v;
  }();
  return p;
}

namespace {

std::string csv_escape(const std::string& s)
{
  if (s.find_first_of(",\"\n\r") == std::string::npos)
    return s;
  std::string q = "\"";
  for (char c : s)
    q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string csv_value(const ordered_json& v)
{
  if (v.is_null())
    return "";
  if (v.is_string())
    return csv_escape(v.get<std::string>());
  return csv_escape(v.dump());
}

void write_all(int fd, const std::string& text, const std::string& path)
{
  const char* p = text.data();
  size_t left = text.size();
  while (left > 0) {
    const ssize_t n = write(fd, p, left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      throw core::IoError(path + ": cannot append (" + std::strerror(errno) + ")");
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (fsync(fd) != 0)
    throw core::IoError(path + ": fsync failed (" + std::strerror(errno) + ")");
}

} // namespace

std::string ResultLayout::csv_header() const
{
  std::string h = "point";
  for (const auto& c : columns)
    h += "," + csv_escape(c);
  h += ",status";
  for (const auto& p : csv_metric_pointers())
    h += "," + p.substr(p.rfind('/') + 1);
  if (pareto)
    h += ",pareto";
  return h + ",error\n";
}

std::string ResultLayout::csv_line(const Record& r, bool final) const
{
  std::string l = std::to_string(r.point);
  for (const auto& c : columns)
    l += "," + csv_value(r.axes.contains(c) ? r.axes.at(c) : ordered_json());
  l += ",";
  l += to_string(r.status);
  for (const auto& p : csv_metric_pointers()) {
    const ordered_json::json_pointer jp(p);
    l += "," + (r.status == Status::ok && r.report.contains(jp) ? csv_value(r.report.at(jp)) : std::string());
  }
  if (pareto)
    l += r.status == Status::ok && final ? (r.pareto ? ",true" : ",false") : ",";
  return l + "," + csv_escape(r.error) + "\n";
}

std::string ResultLayout::jsonl_line(const Record& r) const
{
  return r.to_json(false).dump() + "\n";
}

std::vector<Record> read_jsonl(const std::string& path, size_t* torn)
{
  const std::string text = core::read_file(path);
  std::vector<Record> out;
  size_t pos = 0, line_no = 0;
  if (torn)
    *torn = 0;
  while (pos < text.size()) {
    ++line_no;
    const size_t nl = text.find('\n', pos);
    const bool last = nl == std::string::npos || nl + 1 == text.size();
    const std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    ordered_json j;
    try {
      j = scenario::parse_ordered_json_strict(line, path + ":" + std::to_string(line_no));
    } catch (const core::ConfigError&) {
      if (last) { // a write cut short by a kill
        if (torn)
          ++*torn;
        break;
      }
      throw core::IoError(path + ":" + std::to_string(line_no) +
                          ": not a JSON line; the result file is damaged, remove it");
    }
    if (nl == std::string::npos) { // parsed, but the newline never made it: treat as torn too
      if (torn)
        ++*torn;
      break;
    }
    out.push_back(Record::from_json(j, path + ":" + std::to_string(line_no)));
  }
  return out;
}

void write_result_files(const std::string& prefix, const ResultLayout& layout, const std::vector<Record>& sorted)
{
  std::string jsonl, csv = layout.csv_header();
  for (const auto& r : sorted) {
    jsonl += r.to_json(layout.pareto).dump() + "\n";
    csv += layout.csv_line(r, true);
  }
  core::write_file_atomically(prefix + ".jsonl", jsonl);
  core::write_file_atomically(prefix + ".csv", csv);
}

ResultStore::ResultStore(std::string prefix, ResultLayout layout, ordered_json meta)
    : prefix_(std::move(prefix)), layout_(std::move(layout)), meta_(std::move(meta))
{
}

ResultStore::~ResultStore()
{
  if (jsonl_fd_ >= 0)
    close(jsonl_fd_);
  if (csv_fd_ >= 0)
    close(csv_fd_);
}

std::map<size_t, Record> ResultStore::open(bool resume, bool overwrite)
{
  namespace fs = std::filesystem;
  std::map<size_t, Record> loaded;
  lock_ = std::make_unique<core::FileLock>(prefix_ + ".lock", "--out " + prefix_);
  std::error_code ec;
  const bool exists = fs::exists(jsonl_path(), ec) || fs::exists(meta_path(), ec);
  if (resume && exists) {
    const ordered_json meta = scenario::load_ordered_json_file(
        meta_path(), "the metadata is damaged; remove the results or run without --resume");
    auto field = [&](const char* k) { return meta.is_object() && meta.contains(k) ? meta[k] : ordered_json(); };
    if (field("fingerprint") != meta_["fingerprint"] || field("shard") != meta_["shard"])
      throw core::IoError(prefix_ + ".*: the stored results come from a different sweep (or shard); resume only the "
                                    "sweep that wrote them, or choose another --out");
    size_t torn = 0;
    if (fs::exists(jsonl_path(), ec))
      for (auto& r : read_jsonl(jsonl_path(), &torn))
        if (r.status != Status::failed) // a crashed point is tried again
          loaded[r.point] = std::move(r);
  } else if (exists && !overwrite) {
    throw core::IoError(jsonl_path() +
                        " already exists; pass --resume to continue that sweep or --overwrite to start over");
  }
  core::write_file_atomically(meta_path(), meta_.dump(2) + "\n");
  std::vector<Record> sorted;
  for (const auto& [i, r] : loaded)
    sorted.push_back(r);
  std::string jsonl, csv = layout_.csv_header();
  for (const auto& r : sorted) {
    jsonl += layout_.jsonl_line(r);
    csv += layout_.csv_line(r, false);
  }
  core::write_file_atomically(jsonl_path(), jsonl);
  core::write_file_atomically(csv_path(), csv);
  open_append();
  return loaded;
}

void ResultStore::open_append()
{
  jsonl_fd_ = ::open(jsonl_path().c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  csv_fd_ = ::open(csv_path().c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (jsonl_fd_ < 0 || csv_fd_ < 0)
    throw core::IoError(prefix_ + ".*: cannot open for appending (" + std::strerror(errno) + ")");
}

void ResultStore::append(const Record& r)
{
  // The JSON Lines file is the record of truth (resume reads it); the CSV is rebuilt from it.
  write_all(jsonl_fd_, layout_.jsonl_line(r), jsonl_path());
  write_all(csv_fd_, layout_.csv_line(r, false), csv_path());
}

void ResultStore::finish(const std::vector<Record>& sorted)
{
  close(jsonl_fd_);
  close(csv_fd_);
  jsonl_fd_ = csv_fd_ = -1;
  write_result_files(prefix_, layout_, sorted);
}

} // namespace trainsim::sweep
