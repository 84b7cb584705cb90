#pragma once
#include <string>
#include <vector>

#include "trainsim/sweep/SweepSpec.hpp"

namespace trainsim::sweep {

struct SlurmOptions {
  std::string dir;                ///< job folder (created)
  int shards = 0;                 ///< 0: min(points, 32)
  int cpus_per_task = 1;          ///< each shard runs this many points at once (-j)
  std::string time_limit;         ///< sbatch --time, e.g. "02:00:00"
  std::string partition;          ///< sbatch --partition
  std::string account;            ///< sbatch --account
  std::vector<std::string> extra; ///< further "#SBATCH" options, verbatim ("--mem=8G")
  std::string binary;             ///< absolute path of the trainsim executable the jobs run
};

struct SlurmJob {
  std::string script; ///< DIR/sweep.sbatch
  int shards = 0;
};

/// Writes DIR/sweep.json (the sweep with its base inlined, so that the job needs no other file),
/// DIR/job.json (shard count and sweep fingerprint) and DIR/sweep.sbatch, a job array whose task i runs
/// `trainsim sweep DIR/sweep.json --shard i/N --out DIR/shard-i-of-N --resume`; creates DIR/logs.
/// Merge with merge_shards(DIR). Every file is written atomically.
SlurmJob write_slurm_job(const SweepSpec& spec, size_t points, const SlurmOptions& options);

/// Single-quotes a word for a POSIX shell.
std::string shell_quote(const std::string& word);

} // namespace trainsim::sweep
