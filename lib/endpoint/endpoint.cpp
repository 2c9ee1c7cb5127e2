#include "endpoint/endpoint.hpp"

#include <cctype>

namespace iotjobs::detail {
namespace {

struct partition {
    std::string_view prefix;  // region prefix that selects it ("" = aws, the fallback)
    std::string_view dns_suffix;
    std::string_view dualstack_suffix;
};

// Order matters: longer prefixes first (us-gov-, us-iso-, us-isob-, us-isof- before us-).
constexpr partition partitions[] = {
    {"us-gov-", "amazonaws.com", "api.aws"},
    {"us-isob-", "sc2s.sgov.gov", "api.aws.scloud"},
    {"us-isof-", "csp.hci.ic.gov", "api.aws.hci.ic.gov"},
    {"us-iso-", "c2s.ic.gov", "api.aws.ic.gov"},
    {"eu-isoe-", "cloud.adc-e.uk", "api.cloud-aws.adc-e.uk"},
    {"eusc-", "amazonaws.eu", "api.amazonwebservices.eu"},
    {"cn-", "amazonaws.com.cn", "api.amazonwebservices.com.cn"},
    {"", "amazonaws.com", "api.aws"},
};

const partition& partition_for(std::string_view region) {
    for (const auto& p : partitions)
        if (region.substr(0, p.prefix.size()) == p.prefix) return p;
    return partitions[std::size(partitions) - 1];
}

}  // namespace

bool is_valid_region(std::string_view region) noexcept {
    if (region.empty() || region.size() > 63 || region.front() == '-' || region.back() == '-') return false;
    for (char c : region)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    return true;
}

bool normalize_fips_region(std::string& region) {
    std::string r = region;
    for (std::string_view piece : {"fips-", "-fips"})
        for (auto at = r.find(piece); at != std::string::npos; at = r.find(piece)) r.erase(at, piece.size());
    if (r == region) return false;
    region = std::move(r);
    return true;
}

error_code resolve_endpoint(const endpoint_params& p, std::string& url, std::string& what) {
    if (!p.endpoint.empty()) {
        if (p.use_fips) {
            what = "Invalid Configuration: FIPS and custom endpoint are not supported";
            return make_error_code(client_errc::invalid_configuration);
        }
        if (p.use_dualstack) {
            what = "Invalid Configuration: Dualstack and custom endpoint are not supported";
            return make_error_code(client_errc::invalid_configuration);
        }
        url = std::string(p.endpoint);
        return {};
    }
    if (p.region.empty()) {
        what = "Invalid Configuration: Missing Region";
        return make_error_code(client_errc::no_region);
    }
    if (!is_valid_region(p.region)) {
        what = "Invalid region \"" + std::string(p.region) +
               "\": a region must be a valid host label ([a-zA-Z0-9-], 1-63 characters)";
        return make_error_code(client_errc::invalid_configuration);
    }
    const partition& part = partition_for(p.region);
    url = "https://";
    url += p.use_fips ? "iot-fips." : "iot.";
    url += p.region;
    url += '.';
    url += p.use_dualstack ? part.dualstack_suffix : part.dns_suffix;
    return {};
}

}  // namespace iotjobs::detail
