// config_from_environment: the settings resolver (endpoint/resolve.hpp) applied to a client_config.
#include "endpoint/resolve.hpp"
#include "util/system_error.hpp"

#include <iotjobs/config.hpp>

#include <cstdlib>

namespace iotjobs {

namespace {

// config_from_environment's body (throws std::system_error).
client_config resolve_from_environment(client_config base) {
    detail::settings_request r;
    r.profile = base.profile;
    r.region = base.region;
    r.endpoint_url = base.endpoint_url;
    r.ca_bundle = base.ca_bundle;
    r.use_fips_endpoint = base.use_fips_endpoint;
    r.use_dualstack_endpoint = base.use_dualstack_endpoint;
    r.static_credentials = base.static_credentials;
    // base.retry's values cannot be told from its defaults: the variables and the profile win.
    r.fallback_max_attempts = {base.retry.max_attempts, detail::setting_source::given_as(r.given_names.max_attempts)};
    r.fallback_retry_mode = {base.retry.mode, detail::setting_source::given_as("client_config.retry.mode")};
    r.env = base.environment ? detail::env_lookup(base.environment)
                             : detail::env_lookup([](const char* n) { return std::getenv(n); });
    const detail::resolved_settings s = detail::resolve_settings(r);

    base.region = s.region.value;
    base.endpoint_url = s.endpoint_url.value;
    base.use_fips_endpoint = s.use_fips_endpoint.value;
    base.use_dualstack_endpoint = s.use_dualstack_endpoint.value;
    base.ca_bundle = s.ca_bundle.value;
    base.retry.max_attempts = s.max_attempts.value;
    base.retry.mode = s.retry.value;
    // Keys the chain would use first are copied; other sources are left to the client's chain.
    if (!s.credentials.deferred()) base.static_credentials = s.credentials.keys;
    return base;
}

}  // namespace

client_config config_from_environment(client_config base) {
    try {
        return resolve_from_environment(std::move(base));
    } catch (const std::system_error& e) {
        detail::rethrow_as_system_error(e);
    }
}

}  // namespace iotjobs
