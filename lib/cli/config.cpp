// Configuration of the iotjobs CLI from its global options and an (injected) environment.
// Pure apart from checking that a CA bundle file can be opened.
#include "cli/cli.hpp"

#include "endpoint/endpoint.hpp"
#include "endpoint/profile.hpp"
#include "endpoint/resolve.hpp"
#include "http/proxy.hpp"
#include "http/url.hpp"
#include "jobs/wire.hpp"
#include "util/system_error.hpp"

#include <cerrno>
#include <memory>
#include <charconv>
#include <cstring>
#include <fstream>
#include <system_error>
#include <tuple>
#include <type_traits>

namespace iotjobs::cli {
namespace {

failure config_failure(std::string message) { return failure{exit_config, std::move(message), false}; }

// "AKIDEXAMPLE1234" -> "AKID***********1234": enough to tell keys apart, not the whole id.
std::string mask_access_key(std::string_view id) {
    if (id.size() <= 8) return std::string(id.size(), '*');
    return std::string(id.substr(0, 4)) + std::string(id.size() - 8, '*') + std::string(id.substr(id.size() - 4));
}

std::string seconds_text(unsigned s) { return s == 0 ? std::string("none") : std::to_string(s) + " s"; }

// "value (from SOURCE)" as the --debug lines show a setting.
template <class T>
std::string from(const T& value, const detail::setting_source& s) {
    using std::to_string;
    std::string v;
    if constexpr (std::is_same_v<T, std::string>)
        v = value;
    else if constexpr (std::is_same_v<T, retry_mode>)
        v = detail::to_string(value);
    else
        v = to_string(value);
    return s.from == detail::setting_source::kind::fallback ? v + " (default)" : v + " (from " + s.describe() + ")";
}

// The proxy from the CLI's environment (https_proxy / HTTPS_PROXY, http_proxy / HTTP_PROXY,
// no_proxy / NO_PROXY) into cfg.proxy, so that the client reads nothing else; noted without its
// password.
template <class Note>
std::optional<failure> resolve_proxy(client_config& cfg, const std::string& endpoint, const detail::env_lookup& lookup,
                                     Note& note) {
    detail::endpoint_url url;
    if (detail::parse_endpoint_url(endpoint, url)) return std::nullopt;  // reported when the client is built
    const detail::proxy_choice pc = detail::choose_proxy({}, lookup, url.tls);
    cfg.proxy.url = pc.url;
    cfg.proxy.no_proxy = pc.no_proxy;
    cfg.proxy.from_environment = false;
    if (pc.url.empty()) return std::nullopt;
    std::optional<detail::proxy_url> proxy;
    std::string what;
    if (detail::proxy_for(pc, url.host, url.port, proxy, what)) return config_failure(what);
    if (proxy)
        note("proxy: " + proxy->display() + " (from " + pc.source + "), CONNECT " + url.host + ":" + url.port);
    else
        note("proxy: none for " + url.host + " (" + pc.no_proxy_source + " matches)");
    return std::nullopt;
}

// The resolver's request: the global options are the given values.
detail::settings_request request_for(const global_options& g, const detail::env_lookup& lookup) {
    detail::settings_request r;
    r.given_names.profile = g.profile_source;
    r.given_names.region = g.region_source;
    r.given_names.endpoint_url = "--endpoint-url";
    r.given_names.ca_bundle = "--ca-bundle";
    r.given_names.max_attempts = "--max-attempts";
    r.profile = g.profile.value_or("");
    r.region = g.region.value_or("");
    r.endpoint_url = g.endpoint_url.value_or("");
    r.ca_bundle = g.ca_bundle.value_or("");
    r.max_attempts = g.max_attempts;
    r.env = lookup;
    return r;
}

// Context for the steps below: what was resolved, what is being built, the notes for --debug.
struct config_steps {
    const detail::resolved_settings& s;
    resolved_configuration& rc;
    void note(std::string line) { rc.sources.push_back(std::move(line)); }
};

std::optional<failure> note_profile_and_region(config_steps& c) {
    const detail::profile_settings& prof = c.s.profile;
    c.note("profile: " + prof.name + " (from " + prof.source + ")" +
           (prof.found ? "" : std::string(", in neither shared file")) +
           "; files: " + (prof.config_path.empty() ? std::string("none") : prof.config_path) + ", " +
           (prof.credentials_path.empty() ? std::string("none") : prof.credentials_path));
    if (c.s.region.value.empty())
        return config_failure(
            "You must specify a region. You can also configure your region with the AWS_REGION or "
            "AWS_DEFAULT_REGION environment variable, the region setting of the profile (" +
            prof.name + ") in the shared config file, or pass --region.");
    c.rc.config.region = c.s.region.value;
    c.note("region: " + from(c.s.region.value, c.s.region.source));
    return std::nullopt;
}

// Endpoint URL, FIPS / dual-stack switches, FIPS pseudo-regions, the URL shown in messages.
std::optional<failure> note_endpoint(config_steps& c) {
    client_config& cfg = c.rc.config;
    cfg.endpoint_url = c.s.endpoint_url.value;
    if (!cfg.endpoint_url.empty()) c.note("endpoint: " + from(cfg.endpoint_url, c.s.endpoint_url.source));
    for (const std::string& line : c.s.ignored)
        if (!line.starts_with("AWS_ACCESS_KEY_ID")) c.note(line);
    cfg.use_fips_endpoint = c.s.use_fips_endpoint.value;
    cfg.use_dualstack_endpoint = c.s.use_dualstack_endpoint.value;
    if (cfg.use_fips_endpoint)
        c.note("use_fips_endpoint = true (from " + c.s.use_fips_endpoint.source.describe() + ")");
    if (cfg.use_dualstack_endpoint)
        c.note("use_dualstack_endpoint = true (from " + c.s.use_dualstack_endpoint.source.describe() + ")");
    // FIPS pseudo-regions (fips-us-east-1, us-east-1-fips): sign for the real region, FIPS
    // endpoint unless one is configured (botocore).
    if (const std::string given = cfg.region; detail::normalize_fips_region(cfg.region)) {
        if (cfg.endpoint_url.empty()) cfg.use_fips_endpoint = true;
        c.note("region: " + given + " is a FIPS pseudo-region: signing for " + cfg.region +
               (cfg.endpoint_url.empty() ? ", FIPS endpoint" : ", the configured endpoint"));
    }
    std::string& shown = c.rc.display_endpoint;
    if (cfg.endpoint_url.empty()) {
        std::string what;
        if (detail::resolve_endpoint({cfg.region, cfg.use_fips_endpoint, cfg.use_dualstack_endpoint, {}}, shown, what))
            return config_failure(what);
        while (!shown.empty() && shown.back() == '/') shown.pop_back();
        c.note("endpoint: default for the region (" + shown + ")");
    } else {
        shown = cfg.endpoint_url;
        while (!shown.empty() && shown.back() == '/') shown.pop_back();
    }
    return std::nullopt;
}

// CA bundle (the file must be readable), certificate verification, retries, timeouts.
std::optional<failure> note_transport(config_steps& c, const global_options& g) {
    client_config& cfg = c.rc.config;
    cfg.ca_bundle = c.s.ca_bundle.value;
    if (!cfg.ca_bundle.empty()) {
        const std::string source = c.s.ca_bundle.source.describe();
        std::ifstream f(cfg.ca_bundle, std::ios::binary);
        if (!f) {
            const int e = errno;
            return config_failure("The CA bundle \"" + cfg.ca_bundle + "\" (from " + source +
                                  ") cannot be read: " + (e ? std::strerror(e) : "cannot open the file"));
        }
        c.note("CA bundle: " + cfg.ca_bundle + " (from " + source + ")");
    } else {
        c.note("CA bundle: the system trust store");
    }
    cfg.verify_peer = !g.no_verify_ssl;
    if (g.no_verify_ssl) c.note("certificate verification: OFF (--no-verify-ssl)");

    cfg.retry.max_attempts = c.s.max_attempts.value;
    c.note("max attempts: " + from(cfg.retry.max_attempts, c.s.max_attempts.source));
    cfg.retry.mode = c.s.retry.value;
    c.note("retry mode: " + from(cfg.retry.mode, c.s.retry.source));

    // Timeouts: the AWS CLI's 60 s defaults; 0 disables, as in client_config.
    const unsigned connect_s = g.connect_timeout_seconds.value_or(60);
    const unsigned read_s = g.read_timeout_seconds.value_or(60);
    cfg.timeouts.connect = std::chrono::seconds(connect_s);
    cfg.timeouts.tls_handshake = std::chrono::seconds(connect_s);
    cfg.timeouts.attempt = std::chrono::seconds(read_s);
    c.note("timeouts: connect " + seconds_text(connect_s) +
           (g.connect_timeout_seconds ? " (from --cli-connect-timeout)" : " (default)") + ", read " +
           seconds_text(read_s) + (g.read_timeout_seconds ? " (from --cli-read-timeout)" : " (default)"));
    return std::nullopt;
}

// Credentials: static keys go into the configuration (masked in the note); temporary ones are
// left to the client's chain, which fetches, caches and refreshes them when a call needs them
// (with the CLI's environment). Instance metadata (IMDS) is not used by the CLI.
std::optional<failure> note_credentials(config_steps& c, const environment& env) {
    const detail::credential_choice& k = c.s.credentials;
    const detail::profile_settings& prof = c.s.profile;
    client_config& cfg = c.rc.config;
    for (const std::string& line : c.s.ignored)
        if (line.starts_with("AWS_ACCESS_KEY_ID")) c.note(line);
    if (k.what == detail::credential_choice::kind::none) {
        std::string msg =
            "Unable to locate credentials. You can configure credentials by setting the AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY (and, for temporary credentials, AWS_SESSION_TOKEN) environment variables, or "
            "aws_access_key_id and aws_secret_access_key in the profile's section of the shared credentials file.";
        msg += " The " + prof.describe() + (prof.found ? " has no credentials" : " does not exist") + " (from " +
               prof.source + ")";
        if (prof.explicit_choice) msg += "; with --profile the environment variables are not used";
        msg += ". Looked at: ";
        for (const std::string& t : k.tried) msg += t + "; ";
        msg += "EC2 instance metadata: not used by the CLI.";
        return config_failure(std::move(msg));
    }
    if (k.deferred()) {
        if (prof.explicit_choice) cfg.profile = prof.name;
        cfg.environment = [e = std::make_shared<const environment>(env)](const char* name) -> const char* {
            auto it = e->find(std::string_view(name));
            return it == e->end() ? nullptr : it->second.c_str();
        };
        c.note("credentials: " + k.describe() +
               " (fetched when a call needs credentials, refreshed before they expire)");
        return std::nullopt;
    }
    cfg.static_credentials = k.keys;
    const bool from_env = k.what == detail::credential_choice::kind::environment;
    std::string token = ", no session token";
    if (!k.keys.session_token.empty())
        token =
            from_env ? ", session token <redacted> from " + k.token_source.describe() : ", session token <redacted>";
    c.note("credentials: " + k.describe() + " (access key " + mask_access_key(k.keys.access_key_id) +
           ", secret key <redacted>" + token + ")");
    return std::nullopt;
}

// The steps of resolve_configuration; the resolver throws std::system_error for malformed
// variables, files and values, which the caller turns into 253.
std::variant<resolved_configuration, failure> resolve(const global_options& g, const environment& env) {
    const detail::env_lookup lookup = [&env](const char* name) -> const char* {
        auto it = env.find(std::string_view(name));
        return it == env.end() ? nullptr : it->second.c_str();
    };
    const detail::resolved_settings s = detail::resolve_settings(request_for(g, lookup));
    resolved_configuration rc;
    config_steps c{s, rc};
    auto note = [&](std::string line) { c.note(std::move(line)); };
    if (auto f = note_profile_and_region(c)) return *f;
    if (auto f = note_endpoint(c)) return *f;
    if (auto f = resolve_proxy(rc.config, rc.display_endpoint, lookup, note)) return *f;
    if (auto f = note_transport(c, g)) return *f;
    if (auto f = note_credentials(c, env)) return *f;
    return rc;
}

}  // namespace

std::variant<resolved_configuration, failure> resolve_configuration(const global_options& g, const environment& env) {
    try {
        return resolve(g, env);
    } catch (const std::system_error& e) {
        // Profile problems: an unknown profile, a malformed or unreadable file, a malformed value.
        // The CLI shows the explanation only, without the error code's message.
        return config_failure(detail::explanation_of(e));
    }
}

}  // namespace iotjobs::cli
