// One resolution of the client's settings: region, endpoint URL, FIPS / dual-stack switches, CA
// bundle, retry settings and which credential source answers, each with where it came from.
// Used by config_from_environment() (the library) and by the CLI (cli/config.cpp), which only
// formats what it returns.
//
// Precedence, per setting (first found wins; empty counts as unset):
//   profile      given (client_config.profile / --profile), AWS_PROFILE, AWS_DEFAULT_PROFILE, "default"
//   region       given, AWS_REGION, AWS_DEFAULT_REGION, profile region
//   endpoint     given, then, unless AWS_IGNORE_CONFIGURED_ENDPOINT_URLS (else the profile's
//                ignore_configured_endpoint_urls) is true: AWS_ENDPOINT_URL_IOT, AWS_ENDPOINT_URL,
//                the profile's [services NAME] iot endpoint_url, the profile's endpoint_url
//   fips / dualstack  given true, AWS_USE_FIPS_ENDPOINT / AWS_USE_DUALSTACK_ENDPOINT, profile
//                use_fips_endpoint / use_dualstack_endpoint, false
//   CA bundle    given, AWS_CA_BUNDLE, profile ca_bundle
//   max attempts given, AWS_MAX_ATTEMPTS, profile max_attempts, the fallback
//   retry mode   AWS_RETRY_MODE, profile retry_mode, the fallback
//   credentials  the default chain's order (credentials/provider.hpp default_chain), as far as
//                variables and files tell: given static keys; the environment's keys (not with a
//                given profile); an assume-role profile; AWS_WEB_IDENTITY_TOKEN_FILE; the profile's
//                web_identity_token_file; SSO; the profile's keys; its credential_process; container
//                credentials (not with a given profile). Instance metadata is never chosen here (it
//                needs the network); the client's chain still tries it.
// Malformed values throw std::system_error (client_errc::invalid_configuration) whose what()
// names the variable, or the profile, file, line and key, and never a credential value.
#pragma once

#include "endpoint/profile.hpp"

#include <iotjobs/config.hpp>

#include <optional>
#include <span>
#include <string_view>
#include <string>
#include <vector>

namespace iotjobs::detail {

// Where a value came from.
struct setting_source {
    enum class kind { given, environment, profile, fallback };
    kind from = kind::fallback;
    std::string name;     // option or client_config field, variable, profile key; "default"
    std::string profile;  // profile kind: the profile's name, file and line
    std::string file;
    unsigned line = 0;

    // "--region", "AWS_REGION", "profile prod, /home/u/.aws/config line 12", "default".
    std::string describe() const;
    static setting_source given_as(std::string name);
    static setting_source variable(std::string name);
    static setting_source of_profile(const profile_settings& p, std::string key, const ini_value& v);
};

template <class T>
struct sourced {
    T value{};
    setting_source source;
};

// What the caller sets itself (client_config fields or command-line options) and what the values
// are called in messages.
struct settings_request {
    struct names {
        std::string profile = "client_config.profile";
        std::string region = "client_config.region";
        std::string endpoint_url = "client_config.endpoint_url";
        std::string use_fips_endpoint = "client_config.use_fips_endpoint";
        std::string use_dualstack_endpoint = "client_config.use_dualstack_endpoint";
        std::string ca_bundle = "client_config.ca_bundle";
        std::string max_attempts = "client_config.retry.max_attempts";
        std::string static_credentials = "client_config.static_credentials";
    };
    names given_names;
    std::string profile, region, endpoint_url, ca_bundle;            // empty: not given
    bool use_fips_endpoint = false, use_dualstack_endpoint = false;  // false: not given
    std::optional<unsigned> max_attempts;
    credentials static_credentials;  // both keys empty: not given
    // Used when nothing sets them, with this source.
    sourced<unsigned> fallback_max_attempts{3, {}};
    sourced<retry_mode> fallback_retry_mode{retry_mode::standard, {}};
    env_lookup env;
};

// The credential source that answers first, found without any I/O but reading files.
struct credential_choice {
    enum class kind { none, given, environment, profile_keys, assume_role, web_identity, sso, process, container };
    kind what = kind::none;
    setting_source source;        // the variable, option or profile key that selects it
    credentials keys;             // given, environment and profile_keys only
    setting_source token_source;  // where keys.session_token came from (when it is set)
    // kind::none: each source looked at and why it gave nothing ("container provider:
    // AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI are not set").
    std::vector<std::string> tried;
    // "container provider (AWS_CONTAINER_CREDENTIALS_FULL_URI)", "credential_process of profile p,
    // FILE line 3", "environment variables": never a value.
    std::string describe() const;
    // Fetched by the client when a call needs them (everything but given / environment / profile keys).
    bool deferred() const noexcept;
};

struct resolved_settings {
    profile_settings profile;
    sourced<std::string> region;        // value "" when unset
    sourced<std::string> endpoint_url;  // value "" when unset: the default for the region
    sourced<bool> use_fips_endpoint, use_dualstack_endpoint;
    sourced<std::string> ca_bundle;  // value "": the system trust store
    sourced<unsigned> max_attempts;
    sourced<iotjobs::retry_mode> retry;
    credential_choice credentials;
    // Settings found and not used, with the reason: "AWS_ENDPOINT_URL ignored (...)", and the
    // profile's keys that no part of this client reads (names, files and lines, never values).
    std::vector<std::string> ignored;
};

resolved_settings resolve_settings(const settings_request& r);

// The steps shared with the credential providers' own service calls (STS, the SSO portal).
// A configured endpoint for service `id` ("IOT", "STS"; AWS-BEHAVIOUR.md d.3 steps 2-5):
// AWS_ENDPOINT_URL_<ID>, AWS_ENDPOINT_URL, the profile's [services] section's `config_key`
// endpoint_url, the profile's endpoint_url; none with the ignore switch (what it skipped is added
// to `ignored` when given). The URL is not checked here.
sourced<std::string> configured_endpoint_url(const env_lookup& env, const profile_settings& p, std::string_view id,
                                             std::string_view config_key, std::vector<std::string>* ignored);
// AWS_REGION, AWS_DEFAULT_REGION, the profile's region (checked); "" when none.
sourced<std::string> region_setting(const env_lookup& env, const profile_settings& p);
// AWS_CA_BUNDLE, the profile's ca_bundle; "" when none.
sourced<std::string> ca_bundle_setting(const env_lookup& env, const profile_settings& p);

// The profile keys some part of this client reads (settings, credential providers), and a lookup.
std::span<const std::string_view> profile_keys_read() noexcept;
bool profile_key_known(std::string_view key) noexcept;

const char* to_string(retry_mode m) noexcept;

}  // namespace iotjobs::detail
