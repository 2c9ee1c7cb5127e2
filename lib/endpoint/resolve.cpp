// The settings resolver (endpoint/resolve.hpp): one step per setting.
#include "endpoint/resolve.hpp"

#include "endpoint/endpoint.hpp"
#include "http/message.hpp"
#include "http/url.hpp"
#include "jobs/wire.hpp"

#include <iotjobs/error.hpp>

#include <charconv>
#include <system_error>

namespace iotjobs::detail {
namespace {

[[noreturn]] void bad(const std::string& what) {
    throw std::system_error(make_error_code(client_errc::invalid_configuration), what);
}

// The variable, or null when unset or empty.
const char* variable(const env_lookup& env, const char* name) {
    const char* v = env ? env(name) : nullptr;
    return v && *v ? v : nullptr;
}

// true / false in any case, as the SDKs read boolean variables.
bool variable_bool(const char* name, std::string_view v) {
    if (iequals(v, "true")) return true;
    if (iequals(v, "false")) return false;
    bad(std::string("Invalid value for ") + name + ": " + quote_for_message(v) + " (expected true or false)");
}

// The reason part of a parse_endpoint_url message.
std::string url_problem(std::string_view what) {
    const auto at = what.find("\": ");
    return std::string(at == std::string_view::npos ? what : what.substr(at + 3));
}

void check_url(const std::string& url, const setting_source& s, std::string_view what) {
    endpoint_url parsed;
    std::string problem;
    if (parse_endpoint_url(url, parsed, &problem))
        bad("Bad value for " + std::string(what) + s.describe() + " \"" + url + "\": " + url_problem(problem) +
            ". Must be of the form http://<hostname>/ or https://<hostname>/");
}

void check_region(const sourced<std::string>& r) {
    if (!is_valid_region(r.value))
        bad("Provided region_name " + quote_for_message(r.value) + " (from " + r.source.describe() +
            ") doesn't match a supported format.");
}

sourced<std::string> resolve_region(const settings_request& r, const profile_settings& p) {
    if (!r.region.empty()) return {r.region, setting_source::given_as(r.given_names.region)};
    return region_setting(r.env, p);
}

// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS, else the profile's ignore_configured_endpoint_urls; the
// source text when true, "" when false.
std::string endpoint_urls_ignored(const env_lookup& env, const profile_settings& p) {
    constexpr const char* name = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS";
    if (const char* v = variable(env, name))
        return variable_bool(name, v) ? std::string("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true") : std::string();
    if (const ini_value* v = p.get("ignore_configured_endpoint_urls"))
        if (profile_bool(p, "ignore_configured_endpoint_urls", *v))
            return "ignore_configured_endpoint_urls = true in " +
                   setting_source::of_profile(p, "ignore_configured_endpoint_urls", *v).describe();
    return {};
}

// "WHAT ignored (WHY)", appended piecewise (GCC 12 warns falsely on the chained operator+).
std::string ignored_because(std::string_view what, std::string_view why) {
    std::string s(what);
    s.append(" ignored (").append(why).append(")");
    return s;
}

sourced<std::string> resolve_endpoint_url(const settings_request& r, const profile_settings& p,
                                          std::vector<std::string>& ignored) {
    if (!r.endpoint_url.empty()) return {r.endpoint_url, setting_source::given_as(r.given_names.endpoint_url)};
    sourced<std::string> out = configured_endpoint_url(r.env, p, "IOT", "iot", &ignored);
    if (out.value.empty()) return out;
    std::string_view what;
    if (out.source.from == setting_source::kind::profile)
        what = out.source.name == "endpoint_url" ? "endpoint_url in " : "the iot endpoint_url of [services ...] for ";
    check_url(out.value, out.source, what);
    return out;
}

sourced<bool> resolve_switch(bool given, const std::string& given_name, const char* name, const char* key,
                             const settings_request& r, const profile_settings& p) {
    if (given) return {true, setting_source::given_as(given_name)};
    if (const char* v = variable(r.env, name)) return {variable_bool(name, v), setting_source::variable(name)};
    if (const ini_value* v = p.get(key)) return {profile_bool(p, key, *v), setting_source::of_profile(p, key, *v)};
    return {false, {}};
}

sourced<std::string> resolve_ca_bundle(const settings_request& r, const profile_settings& p) {
    if (!r.ca_bundle.empty()) return {r.ca_bundle, setting_source::given_as(r.given_names.ca_bundle)};
    return ca_bundle_setting(r.env, p);
}

sourced<unsigned> resolve_max_attempts(const settings_request& r, const profile_settings& p) {
    if (r.max_attempts) return {*r.max_attempts, setting_source::given_as(r.given_names.max_attempts)};
    if (const char* v = variable(r.env, "AWS_MAX_ATTEMPTS")) {
        const std::string_view s(v);
        unsigned n = 0;
        const auto res = std::from_chars(s.data(), s.data() + s.size(), n, 10);
        if (res.ec != std::errc{} || res.ptr != s.data() + s.size() || n == 0)
            bad("Invalid value for AWS_MAX_ATTEMPTS: " + quote_for_message(s) +
                " (expected a whole number of attempts, 1 or more)");
        return {n, setting_source::variable("AWS_MAX_ATTEMPTS")};
    }
    if (const ini_value* v = p.get("max_attempts"))
        return {profile_positive(p, "max_attempts", *v), setting_source::of_profile(p, "max_attempts", *v)};
    return r.fallback_max_attempts;
}

std::optional<retry_mode> retry_mode_named(std::string_view s) {
    if (s == "standard") return retry_mode::standard;
    if (s == "adaptive") return retry_mode::adaptive;
    if (s == "legacy") return retry_mode::legacy;
    return std::nullopt;
}

sourced<retry_mode> resolve_retry_mode(const settings_request& r, const profile_settings& p) {
    if (const char* v = variable(r.env, "AWS_RETRY_MODE")) {
        const auto m = retry_mode_named(v);
        if (!m)
            bad("Invalid value for AWS_RETRY_MODE: " + quote_for_message(v) +
                " (expected standard, adaptive or legacy)");
        return {*m, setting_source::variable("AWS_RETRY_MODE")};
    }
    if (const ini_value* v = p.get("retry_mode")) {
        const auto m = retry_mode_named(v->value);
        if (!m) throw_profile_error(p, "retry_mode", *v, "expected standard, adaptive or legacy");
        return {*m, setting_source::of_profile(p, "retry_mode", *v)};
    }
    return r.fallback_retry_mode;
}

// --- credentials ---

// The environment's keys; a partial pair is an error naming the missing variable.
std::optional<credential_choice> environment_keys(const env_lookup& env) {
    const char* akid = variable(env, "AWS_ACCESS_KEY_ID");
    const char* secret = variable(env, "AWS_SECRET_ACCESS_KEY");
    if (!akid && !secret) return std::nullopt;
    if (!secret) bad("Partial credentials found in env, missing: AWS_SECRET_ACCESS_KEY");
    if (!akid) bad("Partial credentials found in env, missing: AWS_ACCESS_KEY_ID");
    credential_choice c;
    c.what = credential_choice::kind::environment;
    c.source = setting_source::variable("AWS_ACCESS_KEY_ID");
    c.keys.access_key_id = akid;
    c.keys.secret_access_key = secret;
    for (const char* name : {"AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"})
        if (const char* t = variable(env, name)) {
            c.keys.session_token = t;
            c.token_source = setting_source::variable(name);
            break;
        }
    return c;
}

// The profile's static keys (credential_values: one file's set); a partial pair is an error.
std::optional<credential_choice> profile_keys(const profile_settings& p) {
    auto key = [&](const char* k) -> const ini_value* {
        auto it = p.credential_values.find(k);
        return it == p.credential_values.end() || it->second.value.empty() ? nullptr : &it->second;
    };
    const ini_value* akid = key("aws_access_key_id");
    const ini_value* secret = key("aws_secret_access_key");
    if (!akid && !secret) return std::nullopt;
    if (!akid || !secret)  // names files, lines and keys, never the values
        bad("Partial credentials found in " +
            setting_source::of_profile(p, akid ? "aws_access_key_id" : "aws_secret_access_key", akid ? *akid : *secret)
                .describe() +
            ", missing: " + (akid ? "aws_secret_access_key" : "aws_access_key_id"));
    credential_choice c;
    c.what = credential_choice::kind::profile_keys;
    c.source = setting_source::of_profile(p, "aws_access_key_id", *akid);
    c.keys.access_key_id = akid->value;
    c.keys.secret_access_key = secret->value;
    if (const ini_value* t = key("aws_session_token")) {
        c.keys.session_token = t->value;
        c.token_source = setting_source::of_profile(p, "aws_session_token", *t);
    }
    return c;
}

credential_choice chosen(credential_choice::kind k, setting_source s) {
    credential_choice c;
    c.what = k;
    c.source = std::move(s);
    return c;
}

// The profile's temporary-credential sources, in the chain's order up to its static keys.
std::optional<credential_choice> profile_roles(const settings_request& r, const profile_settings& p) {
    using k = credential_choice::kind;
    const ini_value* web_file = p.get("web_identity_token_file");
    const char* role_key = p.get("source_profile") ? "source_profile" : "credential_source";
    const ini_value* role = p.get(role_key);
    if (!role && !web_file) role = p.get(role_key = "role_arn");
    if (role) {
        if (const ini_value* mfa = p.get("mfa_serial"))
            bad("The " + setting_source::of_profile(p, "mfa_serial", *mfa).describe() +
                " uses mfa_serial: iotjobs cannot prompt for an MFA code. Use a role whose source credentials "
                "need no MFA code, or temporary credentials obtained beforehand (for example from a "
                "credential_process)");
        return chosen(k::assume_role, setting_source::of_profile(p, role_key, *role));
    }
    if (variable(r.env, "AWS_WEB_IDENTITY_TOKEN_FILE"))
        return chosen(k::web_identity, setting_source::variable("AWS_WEB_IDENTITY_TOKEN_FILE"));
    if (web_file) return chosen(k::web_identity, setting_source::of_profile(p, "web_identity_token_file", *web_file));
    for (const char* key : {"sso_role_name", "sso_account_id"})
        if (const ini_value* v = p.get(key)) return chosen(k::sso, setting_source::of_profile(p, key, *v));
    return std::nullopt;
}

// Why nothing was found, source by source, in the order looked at.
std::vector<std::string> nothing_found(const profile_settings& p) {
    const std::string prof = "profile " + p.name + (p.found ? "" : " (not in the shared files)");
    std::vector<std::string> t;
    if (p.explicit_choice)
        t.push_back("environment variables: not used with " + p.source);
    else
        t.push_back("environment variables: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set");
    t.push_back("assume-role: " + prof + " has no role_arn");
    t.push_back("web identity: AWS_WEB_IDENTITY_TOKEN_FILE is not set and " + prof + " has no web_identity_token_file");
    t.push_back("IAM Identity Center (SSO): " + prof + " has no sso_account_id / sso_role_name");
    t.push_back("shared files: " + prof + " has no aws_access_key_id / aws_secret_access_key");
    t.push_back("credential_process: " + prof + " has none");
    if (p.explicit_choice)
        t.push_back("container provider: not used with " + p.source);
    else
        t.push_back("container provider: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI are not set");
    return t;
}

credential_choice resolve_credentials(const settings_request& r, const profile_settings& p,
                                      std::vector<std::string>& ignored) {
    using k = credential_choice::kind;
    if (!r.static_credentials.access_key_id.empty() || !r.static_credentials.secret_access_key.empty()) {
        credential_choice c = chosen(k::given, setting_source::given_as(r.given_names.static_credentials));
        c.keys = r.static_credentials;
        return c;
    }
    if (!p.explicit_choice) {
        if (auto c = environment_keys(r.env)) return *c;
    } else if (variable(r.env, "AWS_ACCESS_KEY_ID") || variable(r.env, "AWS_SECRET_ACCESS_KEY")) {
        ignored.push_back("AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY ignored (" + p.source + " given)");
    }
    if (auto c = profile_roles(r, p)) return *c;
    if (auto c = profile_keys(p)) return *c;
    if (const ini_value* v = p.get("credential_process"))
        return chosen(k::process, setting_source::of_profile(p, "credential_process", *v));
    if (!p.explicit_choice)
        for (const char* name : {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"})
            if (variable(r.env, name)) return chosen(k::container, setting_source::variable(name));
    credential_choice none;
    none.tried = nothing_found(p);
    return none;
}

// Keys read by the settings above and by the credential providers (credentials/*.cpp).
constexpr std::string_view known_profile_keys[] = {
    "region",
    "endpoint_url",
    "services",
    "ignore_configured_endpoint_urls",
    "use_fips_endpoint",
    "use_dualstack_endpoint",
    "ca_bundle",
    "max_attempts",
    "retry_mode",
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "credential_process",
    "role_arn",
    "source_profile",
    "credential_source",
    "external_id",
    "role_session_name",
    "duration_seconds",
    "mfa_serial",
    "web_identity_token_file",
    "sso_session",
    "sso_account_id",
    "sso_role_name",
    "sso_start_url",
    "sso_region",
    "login_session",
    "ec2_metadata_service_endpoint",
    "ec2_metadata_service_endpoint_mode",
    "ec2_metadata_v1_disabled",
    "metadata_service_timeout",
    "metadata_service_num_attempts",
};

// "profile p keys not used by iotjobs: output (FILE line 3), cli_pager (FILE line 4)".
void note_unknown_keys(const profile_settings& p, std::vector<std::string>& ignored) {
    std::string list;
    for (const auto& [key, v] : p.values) {
        if (profile_key_known(key)) continue;
        if (!list.empty()) list += ", ";
        list += key + " (" + v.file + " line " + std::to_string(v.line) + ")";
    }
    if (!list.empty()) ignored.push_back("profile " + p.name + " keys not used by iotjobs: " + list);
}

}  // namespace

sourced<std::string> configured_endpoint_url(const env_lookup& env, const profile_settings& p, std::string_view id,
                                             std::string_view config_key, std::vector<std::string>* ignored) {
    const std::string ignore = endpoint_urls_ignored(env, p);
    const std::string specific = "AWS_ENDPOINT_URL_" + std::string(id);
    for (const char* name : {specific.c_str(), "AWS_ENDPOINT_URL"}) {
        const char* v = variable(env, name);
        if (!v) continue;
        if (ignore.empty()) return {v, setting_source::variable(name)};
        if (ignored) ignored->push_back(ignored_because(name, ignore));
    }
    if (!ignore.empty()) {
        if (ignored && (p.get("endpoint_url") || p.get("services")))
            ignored->push_back(ignored_because("profile endpoint settings", ignore));
        return {};
    }
    if (const ini_value* v = services_endpoint_url(p, config_key))
        return {v->value, setting_source::of_profile(p, "services " + std::string(config_key) + " endpoint_url", *v)};
    if (const ini_value* v = p.get("endpoint_url"))
        return {v->value, setting_source::of_profile(p, "endpoint_url", *v)};
    return {};
}

sourced<std::string> region_setting(const env_lookup& env, const profile_settings& p) {
    for (const char* name : {"AWS_REGION", "AWS_DEFAULT_REGION"})
        if (const char* v = variable(env, name)) {
            sourced<std::string> out{v, setting_source::variable(name)};
            check_region(out);
            return out;
        }
    if (const ini_value* v = p.get("region")) {
        sourced<std::string> out{v->value, setting_source::of_profile(p, "region", *v)};
        check_region(out);
        return out;
    }
    return {};
}

sourced<std::string> ca_bundle_setting(const env_lookup& env, const profile_settings& p) {
    if (const char* v = variable(env, "AWS_CA_BUNDLE")) return {v, setting_source::variable("AWS_CA_BUNDLE")};
    if (const ini_value* v = p.get("ca_bundle")) return {v->value, setting_source::of_profile(p, "ca_bundle", *v)};
    return {};
}

std::string setting_source::describe() const {
    switch (from) {
    case kind::given:
    case kind::environment: return name;
    case kind::profile: return "profile " + profile + ", " + file + " line " + std::to_string(line);
    case kind::fallback: break;
    }
    return "default";
}

setting_source setting_source::given_as(std::string name) {
    setting_source s;
    s.from = kind::given;
    s.name = std::move(name);
    return s;
}

setting_source setting_source::variable(std::string name) {
    setting_source s;
    s.from = kind::environment;
    s.name = std::move(name);
    return s;
}

setting_source setting_source::of_profile(const profile_settings& p, std::string key, const ini_value& v) {
    setting_source s;
    s.from = kind::profile;
    s.name = std::move(key);
    s.profile = p.name;
    s.file = v.file;
    s.line = v.line;
    return s;
}

std::string credential_choice::describe() const {
    const std::string where = source.describe();
    switch (what) {
    case kind::none: return "none";
    case kind::given: return "static (" + where + ")";
    case kind::environment: return "environment variables";
    case kind::profile_keys: return where;
    case kind::assume_role: return "assume-role of " + where;
    case kind::web_identity:
        return source.from == setting_source::kind::profile ? "web identity of " + where
                                                            : "web identity (" + where + ")";
    case kind::sso: return "IAM Identity Center (SSO) of " + where;
    case kind::process: return "credential_process of " + where;
    case kind::container: return "container provider (" + where + ")";
    }
    return "none";
}

bool credential_choice::deferred() const noexcept {
    return what != kind::none && what != kind::given && what != kind::environment && what != kind::profile_keys;
}

std::span<const std::string_view> profile_keys_read() noexcept { return known_profile_keys; }

bool profile_key_known(std::string_view key) noexcept {
    for (std::string_view k : known_profile_keys)
        if (k == key) return true;
    return false;
}

const char* to_string(retry_mode m) noexcept {
    switch (m) {
    case retry_mode::standard: return "standard";
    case retry_mode::adaptive: return "adaptive";
    case retry_mode::legacy: return "legacy";
    }
    return "standard";
}

resolved_settings resolve_settings(const settings_request& r) {
    resolved_settings s;
    s.profile = load_profile(r.profile, r.given_names.profile, r.env);
    const profile_settings& p = s.profile;
    s.region = resolve_region(r, p);
    s.endpoint_url = resolve_endpoint_url(r, p, s.ignored);
    s.use_fips_endpoint = resolve_switch(r.use_fips_endpoint, r.given_names.use_fips_endpoint, "AWS_USE_FIPS_ENDPOINT",
                                         "use_fips_endpoint", r, p);
    s.use_dualstack_endpoint = resolve_switch(r.use_dualstack_endpoint, r.given_names.use_dualstack_endpoint,
                                              "AWS_USE_DUALSTACK_ENDPOINT", "use_dualstack_endpoint", r, p);
    s.ca_bundle = resolve_ca_bundle(r, p);
    s.max_attempts = resolve_max_attempts(r, p);
    s.retry = resolve_retry_mode(r, p);
    s.credentials = resolve_credentials(r, p, s.ignored);
    note_unknown_keys(p, s.ignored);
    return s;
}

}  // namespace iotjobs::detail
