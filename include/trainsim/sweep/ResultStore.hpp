#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trainsim/core/AtomicFile.hpp"
#include "trainsim/sweep/WorkerPool.hpp"

namespace trainsim::sweep {

/// One finished point: its axis values, how it ended and its report (without the resolved scenario).
struct Record {
  size_t point = 0;
  nlohmann::ordered_json axes;
  Status status = Status::ok;
  std::string error;
  nlohmann::ordered_json report; ///< ok only
  bool pareto = false;           ///< set by mark_pareto, written only in the final files

  nlohmann::ordered_json to_json(bool with_pareto) const;
  static Record from_json(const nlohmann::ordered_json& j, const std::string& where);
};

/// The report fields of the CSV columns (pointers into the JSON report; the column is the last token).
const std::vector<std::string>& csv_metric_pointers();

/// Layout of a result set: the axis columns and, when --pareto is given, a pareto column.
struct ResultLayout {
  std::vector<std::string> columns;
  bool pareto = false;
  std::string csv_header() const;
  /// `final`: the Pareto column is filled (while streaming it is left empty).
  std::string csv_line(const Record& r, bool final) const;
  std::string jsonl_line(const Record& r) const;
};

/// Reads a JSON Lines result file. A last line without its newline or that does not parse is a write
/// torn by a kill: it is dropped (and counted in `torn`); a bad line elsewhere is an IoError.
std::vector<Record> read_jsonl(const std::string& path, size_t* torn = nullptr);

/// A streamed result set PREFIX.jsonl + PREFIX.csv with PREFIX.meta.json naming the sweep it belongs to.
/// While the sweep runs, each finished point is appended as whole lines (one write each, then fsync), so
/// a kill loses at most the points in flight and leaves at most one torn last line, which --resume drops;
/// the final files are rewritten atomically (temp + fsync + rename), sorted by point, with the Pareto marks.
class ResultStore {
public:
  ResultStore(std::string prefix, ResultLayout layout, nlohmann::ordered_json meta);
  ~ResultStore();
  ResultStore(const ResultStore&) = delete;
  ResultStore& operator=(const ResultStore&) = delete;

  /// Takes PREFIX.lock first (a second sweep on the same --out fails with exit 2).
  /// Fresh start: refuses existing results unless `overwrite`. Resume: checks the meta (same sweep),
  /// loads the records and rewrites both files atomically from them. Returns the loaded records.
  std::map<size_t, Record> open(bool resume, bool overwrite);
  void append(const Record& r);
  /// Atomically writes the final, sorted files.
  void finish(const std::vector<Record>& sorted);

  std::string jsonl_path() const { return prefix_ + ".jsonl"; }
  std::string csv_path() const { return prefix_ + ".csv"; }
  std::string meta_path() const { return prefix_ + ".meta.json"; }

private:
  void open_append();
  std::string prefix_;
  ResultLayout layout_;
  nlohmann::ordered_json meta_;
  int jsonl_fd_ = -1, csv_fd_ = -1;
  std::unique_ptr<core::FileLock> lock_; ///< PREFIX.lock, held from open() to the end
};

/// Writes PREFIX.jsonl and PREFIX.csv atomically from sorted records.
void write_result_files(const std::string& prefix, const ResultLayout& layout, const std::vector<Record>& sorted);

/// A Pareto objective: where to find the value and whether smaller is better.
struct ParetoField {
  std::string name;    ///< as the user wrote it, without min:/max:
  std::string pointer; ///< into the report, or an axis column
  bool axis = false;
  bool minimize = true;
};
/// "time,carbon", "step_time_s,max:mfu", "breakdown.dp_comm_exposed_s", "/parallelism/tp" (an axis).
/// Aliases: time, step, energy, carbon, throughput, mfu, memory. Throws UsageError.
std::vector<ParetoField> parse_pareto(const std::string& spec, const std::vector<std::string>& columns);
/// Marks the non-dominated ok records. Throws IoError when an ok record lacks a field.
void mark_pareto(std::vector<Record>& records, const std::vector<ParetoField>& fields);

} // namespace trainsim::sweep
