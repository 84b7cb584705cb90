#include "trainsim/scenario/Scenario.hpp"

#include "trainsim/scenario/KeySchema.hpp"
#include "trainsim/scenario/ScenarioParser.hpp"

namespace trainsim::scenario {

const char* to_string(Precision p)
{
  switch (p) {
  case Precision::bf16:
    return "bf16";
  case Precision::fp16:
    return "fp16";
  case Precision::fp8:
    return "fp8";
  }
  return "?";
}
const char* to_string(Activation a)
{
  return a == Activation::gelu ? "gelu" : a == Activation::swiglu ? "swiglu" : "squared_relu";
}
const char* to_string(Recompute r)
{
  return r == Recompute::none ? "none" : r == Recompute::selective ? "selective" : "full";
}
const char* to_string(Attention a)
{
  return a == Attention::flash ? "flash" : "standard";
}
double Accelerator::peak(Precision p) const
{
  auto it = peak_flops.find(to_string(p));
  return it == peak_flops.end() ? 0.0 : it->second;
}

nlohmann::json to_json(const Scenario& s)
{
  return dump_of(s); // every field from the declaration of its key (src/scenario/Keys*.cpp)
}

} // namespace trainsim::scenario
