#pragma once
#include "trainsim/cluster/ClusterReport.hpp"
#include "trainsim/cluster/ClusterSpec.hpp"
#include "trainsim/scenario/Catalog.hpp"

namespace trainsim::cli {

/// `trainsim cluster` (src/cli/ClusterCommands.cpp): each distinct job configuration (the job's scenario
/// less its name and token budget) simulated once with the run path, every job's metrics from that
/// simulation, then the queue over the period. Errors name the cluster file's JSON path.
cluster::ClusterOutcome run_cluster(const cluster::ClusterSpec& spec, const scenario::Catalog& catalog);

} // namespace trainsim::cli
