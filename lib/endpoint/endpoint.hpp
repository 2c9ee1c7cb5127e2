// Endpoint resolution for the "iot" control plane, as botocore's rule set for it resolves them
// (botocore/data/iot/2015-05-28/endpoint-rule-set-1.json, botocore/data/partitions.json).
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

// The FIPS pseudo-regions as botocore reads them (botocore/client.py, _normalize_fips_region):
// every "fips-" and then every "-fips" is removed ("fips-us-east-1", "us-east-1-fips" ->
// "us-east-1"), the result is the signing region, and FIPS is turned on for the default endpoint.
// True when `region` was one (then `region` holds the real region).
bool normalize_fips_region(std::string& region);

// Returns the endpoint URL, or an error (client_errc::no_region / invalid_configuration) with a
// message as the rule set phrases it ("Invalid Configuration: Missing Region").
error_code resolve_endpoint(const endpoint_params& p, std::string& url, std::string& what);

}  // namespace iotjobs::detail
