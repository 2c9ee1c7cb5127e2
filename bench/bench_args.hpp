// Command-line reading shared by the bench programs.
#pragma once

#include <string>

namespace iotjobs::bench {

// The value after argv[i] (advancing i), or usage("missing value"), which must not return.
inline std::string take_value(int argc, char** argv, int& i, void (*usage)(const char*)) {
    if (i + 1 >= argc) usage("missing value");
    return argv[++i];
}

}  // namespace iotjobs::bench
