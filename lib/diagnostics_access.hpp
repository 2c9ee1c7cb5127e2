// The library's write access to iotjobs::diagnostics (detail::access, a friend of diagnostics).
#pragma once

#include <iotjobs/detail/operation_glue.hpp>
