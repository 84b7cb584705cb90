#include "trainsim/cli/Commands.hpp"

int main(int argc, char** argv)
{
  return trainsim::cli::main_entry(argc, argv);
}
