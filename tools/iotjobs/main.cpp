// The iotjobs command: everything lives in lib/cli (iotjobs::cli::run_cli); main only forwards.
#include "cli/cli.hpp"

#include <iostream>

int main(int argc, char** argv) { return iotjobs::cli::run_cli(argc, argv, std::cout, std::cerr); }
