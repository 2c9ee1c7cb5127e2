// Endpoint resolution for the "iot" control plane (reference/iot-endpoint-rules.json, d.1-d.2).
#pragma once

#include <iotjobs/error.hpp>

#include <string>
#include <string_view>

namespace iotjobs::detail {

struct endpoint_params {
    std::string_view region;
    bool use_fips = false;
    bool use_dualstack = false;
    std::string_view endpoint;  // custom URL; wins over everything
};

// A valid region is a host label: [a-zA-Z0-9-]{1,63}, not starting or ending with '-'.
bool is_valid_region(std::string_view region) noexcept;

// The FIPS pseudo-regions as botocore reads them (AWS-BEHAVIOUR.md d.2): every "fips-" and then
// every "-fips" is removed ("fips-us-east-1", "us-east-1-fips" -> "us-east-1"), the result is the
// signing region, and FIPS is turned on for the default endpoint. True when `region` was one
// (then `region` holds the real region).
bool normalize_fips_region(std::string& region);

// Returns the endpoint URL, or an error (client_errc::no_region / invalid_configuration) with a
// message as the rule set phrases it ("Invalid Configuration: Missing Region").
error_code resolve_endpoint(const endpoint_params& p, std::string& url, std::string& what);

}  // namespace iotjobs::detail
