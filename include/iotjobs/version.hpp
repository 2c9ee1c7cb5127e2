// The library's version: the one place it is written. CMakeLists.txt reads it from here for the
// project version, the shared library's soname, the package version file and iotjobs.pc.
#pragma once

#define IOTJOBS_VERSION_MAJOR 0
#define IOTJOBS_VERSION_MINOR 2
#define IOTJOBS_VERSION_PATCH 0

#define IOTJOBS_DETAIL_STR2(x) #x
#define IOTJOBS_DETAIL_STR(x) IOTJOBS_DETAIL_STR2(x)
// "MAJOR.MINOR.PATCH"
#define IOTJOBS_VERSION_STRING                \
    IOTJOBS_DETAIL_STR(IOTJOBS_VERSION_MAJOR) \
    "." IOTJOBS_DETAIL_STR(IOTJOBS_VERSION_MINOR) "." IOTJOBS_DETAIL_STR(IOTJOBS_VERSION_PATCH)

namespace iotjobs {
// The version of the headers in use ("0.2.0").
inline constexpr const char* version_string = IOTJOBS_VERSION_STRING;
}  // namespace iotjobs
