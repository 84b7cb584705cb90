#pragma once
#include <string>

#include "trainsim/scenario/Scenario.hpp"
#include "trainsim/sim/Simulator.hpp"
#include "trainsim/topology/Fabric.hpp"
#include "trainsim/topology/Placement.hpp"

namespace trainsim::sim {

/// Why one representative replica (and, where rails are symmetric, one rail) cannot stand for the others:
/// a structural asymmetry of the scenario that makes the reduced simulation inexact (docs/performance.md).
/// Empty when there is none. Today: rails that do not share links evenly (rails_symmetric), and
/// expert-parallel groups whose all-to-alls share a link with another group's (reduced fidelity simulates
/// the representative group's alone).
std::string structural_asymmetry(const topology::Fabric& fabric, const topology::Placement& placement, int ep);

} // namespace trainsim::sim
