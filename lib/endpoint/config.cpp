// config_from_environment: the AWS environment variables every SDK reads.
#include "endpoint/endpoint.hpp"

#include <iotjobs/config.hpp>
#include <iotjobs/error.hpp>

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <string>
#include <system_error>

namespace iotjobs {

namespace {
std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? std::string(v) : std::string();
}
// "true" in any case, as the SDKs read boolean settings; "false", empty or unset is false;
// anything else is an error naming the variable.
bool env_true(const char* name);
[[noreturn]] void bad(const std::string& what) {
    throw std::system_error(make_error_code(client_errc::invalid_configuration), what);
}
bool env_true(const char* name) {
    std::string v = env(name);
    for (auto& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (v.empty() || v == "false") return false;
    if (v == "true") return true;
    bad(std::string(name) + " must be true or false, got \"" + env(name) + "\"");
}
}  // namespace

client_config config_from_environment(client_config base) {
    if (base.region.empty()) base.region = env("AWS_REGION");
    if (base.region.empty()) base.region = env("AWS_DEFAULT_REGION");
    if (base.endpoint_url.empty() && !env_true("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) {
        base.endpoint_url = env("AWS_ENDPOINT_URL_IOT");
        if (base.endpoint_url.empty()) base.endpoint_url = env("AWS_ENDPOINT_URL");
    }
    if (base.static_credentials.access_key_id.empty() && base.static_credentials.secret_access_key.empty()) {
        base.static_credentials.access_key_id = env("AWS_ACCESS_KEY_ID");
        base.static_credentials.secret_access_key = env("AWS_SECRET_ACCESS_KEY");
        base.static_credentials.session_token = env("AWS_SESSION_TOKEN");
    }
    if (base.ca_bundle.empty()) base.ca_bundle = env("AWS_CA_BUNDLE");
    if (!base.use_fips_endpoint) base.use_fips_endpoint = env_true("AWS_USE_FIPS_ENDPOINT");
    if (!base.use_dualstack_endpoint) base.use_dualstack_endpoint = env_true("AWS_USE_DUALSTACK_ENDPOINT");
    if (auto v = env("AWS_MAX_ATTEMPTS"); !v.empty()) {
        unsigned n = 0;
        auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
        if (ec != std::errc{} || p != v.data() + v.size() || n == 0)
            bad("AWS_MAX_ATTEMPTS must be a positive integer, got \"" + v + "\"");
        base.retry.max_attempts = n;
    }
    if (auto v = env("AWS_RETRY_MODE"); !v.empty()) {
        if (v == "standard") base.retry.mode = retry_mode::standard;
        else if (v == "adaptive") base.retry.mode = retry_mode::adaptive;
        else if (v == "legacy") base.retry.mode = retry_mode::legacy;
        else bad("AWS_RETRY_MODE must be standard, adaptive or legacy, got \"" + v + "\"");
    }
    return base;
}

}  // namespace iotjobs
