// config_from_environment: the AWS environment variables every SDK reads, then the profile of the
// shared config files (endpoint/profile.hpp).
#include "endpoint/endpoint.hpp"
#include "endpoint/profile.hpp"
#include "util/system_error.hpp"

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

// config_from_environment's body (throws std::system_error).
client_config resolve_from_environment(client_config base) {
    const detail::profile_settings prof =
        detail::load_profile(base.profile, "client_config.profile", [](const char* n) { return std::getenv(n); });

    if (base.region.empty()) base.region = env("AWS_REGION");
    if (base.region.empty()) base.region = env("AWS_DEFAULT_REGION");
    if (base.region.empty())
        if (const auto* v = prof.get("region")) base.region = v->value;

    if (base.endpoint_url.empty()) {
        bool ignore = false;
        if (!env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS").empty())
            ignore = env_true("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
        else if (const auto* v = prof.get("ignore_configured_endpoint_urls"))
            ignore = detail::profile_bool(prof, "ignore_configured_endpoint_urls", *v);
        if (!ignore) {
            base.endpoint_url = env("AWS_ENDPOINT_URL_IOT");
            if (base.endpoint_url.empty()) base.endpoint_url = env("AWS_ENDPOINT_URL");
            if (base.endpoint_url.empty())
                if (const auto* v = detail::services_endpoint_url(prof, "iot")) base.endpoint_url = v->value;
            if (base.endpoint_url.empty())
                if (const auto* v = prof.get("endpoint_url")) base.endpoint_url = v->value;
        }
    }

    auto& sc = base.static_credentials;
    if (sc.access_key_id.empty() && sc.secret_access_key.empty()) {
        auto cred = [&](const char* key) -> const detail::ini_value* {
            auto it = prof.credential_values.find(key);
            return it == prof.credential_values.end() || it->second.value.empty() ? nullptr : &it->second;
        };
        const auto* akid = cred("aws_access_key_id");
        const auto* secret = cred("aws_secret_access_key");
        const bool env_keys = !env("AWS_ACCESS_KEY_ID").empty() || !env("AWS_SECRET_ACCESS_KEY").empty();
        if (prof.explicit_choice || (!env_keys && (akid || secret))) {
            if (akid || secret) {
                if (!akid || !secret) {
                    const auto* have = akid ? akid : secret;
                    bad("Partial credentials in profile " + prof.name + " (" + have->file + " line " +
                        std::to_string(have->line) + "): " +
                        (akid ? "aws_secret_access_key" : "aws_access_key_id") + " is missing");
                }
                sc.access_key_id = akid->value;
                sc.secret_access_key = secret->value;
                if (const auto* t = cred("aws_session_token")) sc.session_token = t->value;
            }
        } else {
            sc.access_key_id = env("AWS_ACCESS_KEY_ID");
            sc.secret_access_key = env("AWS_SECRET_ACCESS_KEY");
            sc.session_token = env("AWS_SESSION_TOKEN");
            if (sc.session_token.empty()) sc.session_token = env("AWS_SECURITY_TOKEN");
        }
    }

    if (base.ca_bundle.empty()) base.ca_bundle = env("AWS_CA_BUNDLE");
    if (base.ca_bundle.empty())
        if (const auto* v = prof.get("ca_bundle")) base.ca_bundle = v->value;

    auto switch_on = [&](bool current, const char* variable, const char* key) {
        if (current) return true;
        if (!env(variable).empty()) return env_true(variable);
        if (const auto* v = prof.get(key)) return detail::profile_bool(prof, key, *v);
        return false;
    };
    base.use_fips_endpoint = switch_on(base.use_fips_endpoint, "AWS_USE_FIPS_ENDPOINT", "use_fips_endpoint");
    base.use_dualstack_endpoint =
        switch_on(base.use_dualstack_endpoint, "AWS_USE_DUALSTACK_ENDPOINT", "use_dualstack_endpoint");

    if (auto v = env("AWS_MAX_ATTEMPTS"); !v.empty()) {
        unsigned n = 0;
        auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
        if (ec != std::errc{} || p != v.data() + v.size() || n == 0)
            bad("AWS_MAX_ATTEMPTS must be a positive integer, got \"" + v + "\"");
        base.retry.max_attempts = n;
    } else if (const auto* pv = prof.get("max_attempts")) {
        base.retry.max_attempts = detail::profile_positive(prof, "max_attempts", *pv);
    }
    if (auto v = env("AWS_RETRY_MODE"); !v.empty()) {
        if (v == "standard") base.retry.mode = retry_mode::standard;
        else if (v == "adaptive") base.retry.mode = retry_mode::adaptive;
        else if (v == "legacy") base.retry.mode = retry_mode::legacy;
        else bad("AWS_RETRY_MODE must be standard, adaptive or legacy, got \"" + v + "\"");
    } else if (const auto* pv = prof.get("retry_mode")) {
        if (pv->value == "standard") base.retry.mode = retry_mode::standard;
        else if (pv->value == "adaptive") base.retry.mode = retry_mode::adaptive;
        else if (pv->value == "legacy") base.retry.mode = retry_mode::legacy;
        else detail::throw_profile_error(prof, "retry_mode", *pv, "expected standard, adaptive or legacy");
    }
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
