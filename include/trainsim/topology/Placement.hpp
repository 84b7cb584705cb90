#pragma once
#include "trainsim/scenario/Placement.hpp"

namespace trainsim::topology {

/// The rank placement is declared in `scenario` (the parser checks layouts with it, and scenario includes no
/// topology header); topology, workload and sim name it here.
using scenario::Placement;
using scenario::RankCoord;

} // namespace trainsim::topology
