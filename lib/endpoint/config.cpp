// config_from_environment: the AWS environment variables every SDK reads, then the profile of the
// shared config files (endpoint/profile.hpp).
#include "endpoint/endpoint.hpp"
#include "endpoint/profile.hpp"
#include "util/system_error.hpp"
#include "util/text.hpp"

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
    const std::string v = detail::to_lower(env(name));
    if (v.empty() || v == "false") return false;
    if (v == "true") return true;
    bad(std::string(name) + " must be true or false, got \"" + env(name) + "\"");
}

// AWS_ENDPOINT_URL_IOT, AWS_ENDPOINT_URL, the profile's services section, its endpoint_url; none
// of them with AWS_IGNORE_CONFIGURED_ENDPOINT_URLS / ignore_configured_endpoint_urls = true.
std::string configured_endpoint_url(const detail::profile_settings& prof) {
    bool ignore = false;
    if (!env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS").empty())
        ignore = env_true("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
    else if (const auto* v = prof.get("ignore_configured_endpoint_urls"))
        ignore = detail::profile_bool(prof, "ignore_configured_endpoint_urls", *v);
    if (ignore) return {};
    std::string url = env("AWS_ENDPOINT_URL_IOT");
    if (url.empty()) url = env("AWS_ENDPOINT_URL");
    if (url.empty())
        if (const auto* v = detail::services_endpoint_url(prof, "iot")) url = v->value;
    if (url.empty())
        if (const auto* v = prof.get("endpoint_url")) url = v->value;
    return url;
}

// The profile's keys when it was chosen explicitly or the environment has none, else the
// environment's.
void static_credentials_from(const detail::profile_settings& prof, credentials& sc) {
    auto cred = [&](const char* key) -> const detail::ini_value* {
        auto it = prof.credential_values.find(key);
        return it == prof.credential_values.end() || it->second.value.empty() ? nullptr : &it->second;
    };
    const auto* akid = cred("aws_access_key_id");
    const auto* secret = cred("aws_secret_access_key");
    const bool env_keys = !env("AWS_ACCESS_KEY_ID").empty() || !env("AWS_SECRET_ACCESS_KEY").empty();
    if (prof.explicit_choice || (!env_keys && (akid || secret))) {
        if (!akid && !secret) return;
        if (!akid || !secret) {
            const auto* have = akid ? akid : secret;
            bad("Partial credentials in profile " + prof.name + " (" + have->file + " line " +
                std::to_string(have->line) + "): " + (akid ? "aws_secret_access_key" : "aws_access_key_id") +
                " is missing");
        }
        sc.access_key_id = akid->value;
        sc.secret_access_key = secret->value;
        if (const auto* t = cred("aws_session_token")) sc.session_token = t->value;
        return;
    }
    sc.access_key_id = env("AWS_ACCESS_KEY_ID");
    sc.secret_access_key = env("AWS_SECRET_ACCESS_KEY");
    sc.session_token = env("AWS_SESSION_TOKEN");
    if (sc.session_token.empty()) sc.session_token = env("AWS_SECURITY_TOKEN");
}

// AWS_MAX_ATTEMPTS / max_attempts and AWS_RETRY_MODE / retry_mode.
void retry_from(const detail::profile_settings& prof, retry_config& retry) {
    if (auto v = env("AWS_MAX_ATTEMPTS"); !v.empty()) {
        unsigned n = 0;
        auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
        if (ec != std::errc{} || p != v.data() + v.size() || n == 0)
            bad("AWS_MAX_ATTEMPTS must be a positive integer, got \"" + v + "\"");
        retry.max_attempts = n;
    } else if (const auto* pv = prof.get("max_attempts")) {
        retry.max_attempts = detail::profile_positive(prof, "max_attempts", *pv);
    }
    if (auto v = env("AWS_RETRY_MODE"); !v.empty()) {
        if (v == "standard") retry.mode = retry_mode::standard;
        else if (v == "adaptive") retry.mode = retry_mode::adaptive;
        else if (v == "legacy") retry.mode = retry_mode::legacy;
        else bad("AWS_RETRY_MODE must be standard, adaptive or legacy, got \"" + v + "\"");
    } else if (const auto* pv = prof.get("retry_mode")) {
        if (pv->value == "standard") retry.mode = retry_mode::standard;
        else if (pv->value == "adaptive") retry.mode = retry_mode::adaptive;
        else if (pv->value == "legacy") retry.mode = retry_mode::legacy;
        else detail::throw_profile_error(prof, "retry_mode", *pv, "expected standard, adaptive or legacy");
    }
}

// config_from_environment's body (throws std::system_error).
client_config resolve_from_environment(client_config base) {
    const detail::profile_settings prof =
        detail::load_profile(base.profile, "client_config.profile", [](const char* n) { return std::getenv(n); });

    if (base.region.empty()) base.region = env("AWS_REGION");
    if (base.region.empty()) base.region = env("AWS_DEFAULT_REGION");
    if (base.region.empty())
        if (const auto* v = prof.get("region")) base.region = v->value;

    if (base.endpoint_url.empty()) base.endpoint_url = configured_endpoint_url(prof);

    auto& sc = base.static_credentials;
    if (sc.access_key_id.empty() && sc.secret_access_key.empty()) static_credentials_from(prof, sc);

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
    retry_from(prof, base.retry);
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
