// Configuration of the iotjobs CLI from its global options and an (injected) environment.
// Pure apart from checking that a CA bundle file can be opened.
#include "cli/cli.hpp"

#include "endpoint/endpoint.hpp"
#include "endpoint/profile.hpp"
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

namespace iotjobs::cli {
namespace {

// An environment variable; empty counts as unset, as botocore does for credentials and region.
const std::string* env_value(const environment& env, std::string_view name) {
    auto it = env.find(name);
    if (it == env.end() || it->second.empty()) return nullptr;
    return &it->second;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

failure config_failure(std::string message) { return failure{exit_config, std::move(message), false}; }

bool valid_region(std::string_view r) { return detail::is_valid_region(r); }

// "AKIDEXAMPLE1234" -> "AKID***********1234": enough to tell keys apart, not the whole id.
std::string mask_access_key(std::string_view id) {
    if (id.size() <= 8) return std::string(id.size(), '*');
    return std::string(id.substr(0, 4)) + std::string(id.size() - 8, '*') + std::string(id.substr(id.size() - 4));
}

std::string seconds_text(unsigned s) { return s == 0 ? std::string("none") : std::to_string(s) + " s"; }

// "profile dev, /home/u/.aws/config line 3": where a profile setting came from.
std::string from_profile(const detail::profile_settings& p, const detail::ini_value& v) {
    return "profile " + p.name + ", " + v.file + " line " + std::to_string(v.line);
}

// The body of resolve_configuration; profile helpers throw std::system_error for malformed files
// and values, which the caller turns into 253.
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

std::variant<resolved_configuration, failure> resolve(const global_options& g, const environment& env) {
    resolved_configuration rc;
    client_config& cfg = rc.config;
    auto note = [&](std::string s) { rc.sources.push_back(std::move(s)); };

    // Profile: --profile, AWS_PROFILE, AWS_DEFAULT_PROFILE, "default"; the files from
    // AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE or HOME/.aws, all from `env` only.
    const detail::env_lookup lookup = [&env](const char* name) -> const char* {
        auto it = env.find(std::string_view(name));
        return it == env.end() ? nullptr : it->second.c_str();
    };
    const detail::profile_settings prof =
        detail::load_profile(g.profile ? std::string_view(*g.profile) : std::string_view(), "--profile", lookup);
    note("profile: " + prof.name + " (from " + prof.source + ")" +
         (prof.found ? "" : std::string(", in neither shared file")) + "; files: " +
         (prof.config_path.empty() ? std::string("none") : prof.config_path) + ", " +
         (prof.credentials_path.empty() ? std::string("none") : prof.credentials_path));

    // Region.
    if (g.region) {
        cfg.region = *g.region;
        note("region: " + cfg.region + " (from --region)");
    } else {
        for (std::string_view name : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
            if (const std::string* v = env_value(env, name)) {
                if (!valid_region(*v))
                    return config_failure("Provided region_name " + detail::quote_for_message(*v) + " (from " +
                                          std::string(name) + ") doesn't match a supported format.");
                cfg.region = *v;
                note("region: " + cfg.region + " (from " + std::string(name) + ")");
                break;
            }
        }
    }
    if (cfg.region.empty()) {
        if (const detail::ini_value* v = prof.get("region")) {
            if (!valid_region(v->value))
                return config_failure("Provided region_name " + detail::quote_for_message(v->value) + " (from " +
                                      from_profile(prof, *v) + ") doesn't match a supported format.");
            cfg.region = v->value;
            note("region: " + cfg.region + " (from " + from_profile(prof, *v) + ")");
        }
    }
    if (cfg.region.empty())
        return config_failure(
            "You must specify a region. You can also configure your region with the AWS_REGION or "
            "AWS_DEFAULT_REGION environment variable, the region setting of the profile (" + prof.name +
            ") in the shared config file, or pass --region.");

    // Endpoint URL.
    if (g.endpoint_url) {
        cfg.endpoint_url = *g.endpoint_url;
        note("endpoint: " + cfg.endpoint_url + " (from --endpoint-url)");
    } else {
        const std::string* ignore = env_value(env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
        bool ignore_env = ignore && iequals(*ignore, "true");
        if (ignore && !ignore_env && !iequals(*ignore, "false"))
            return config_failure("Invalid value for AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: " +
                                  detail::quote_for_message(*ignore) + " (expected true or false)");
        std::string ignore_source = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true";
        if (!ignore) {
            if (const detail::ini_value* v = prof.get("ignore_configured_endpoint_urls")) {
                ignore_env = detail::profile_bool(prof, "ignore_configured_endpoint_urls", *v);
                ignore_source = "ignore_configured_endpoint_urls = true in " + from_profile(prof, *v);
            }
        }
        for (std::string_view name : {"AWS_ENDPOINT_URL_IOT", "AWS_ENDPOINT_URL"}) {
            const std::string* v = env_value(env, name);
            if (!v) continue;
            if (ignore_env) {
                note(std::string(name) + " ignored (" + ignore_source + ")");
                continue;
            }
            detail::endpoint_url parsed;
            std::string what;
            if (detail::parse_endpoint_url(*v, parsed, &what))
                return config_failure("Bad value for " + std::string(name) + " \"" + *v +
                                      "\": " + endpoint_problem(what) +
                                      ". Must be of the form http://<hostname>/ or https://<hostname>/");
            cfg.endpoint_url = *v;
            note("endpoint: " + cfg.endpoint_url + " (from " + std::string(name) + ")");
            break;
        }
        if (cfg.endpoint_url.empty() && !ignore_env) {
            // The profile's services section (iot -> endpoint_url), then its own endpoint_url.
            const detail::ini_value* v = detail::services_endpoint_url(prof, "iot");
            std::string what = "the iot endpoint_url of [services ...] for ";
            if (!v) {
                v = prof.get("endpoint_url");
                what = "endpoint_url in ";
            }
            if (v) {
                detail::endpoint_url parsed;
                std::string problem;
                if (detail::parse_endpoint_url(v->value, parsed, &problem))
                    return config_failure("Bad value for " + what + from_profile(prof, *v) + " \"" + v->value +
                                          "\": " + endpoint_problem(problem) +
                                          ". Must be of the form http://<hostname>/ or https://<hostname>/");
                cfg.endpoint_url = v->value;
                note("endpoint: " + cfg.endpoint_url + " (from " + what + from_profile(prof, *v) + ")");
            }
        } else if (cfg.endpoint_url.empty() && (prof.get("endpoint_url") || prof.get("services"))) {
            note("profile endpoint settings ignored (" + ignore_source + ")");
        }
    }
    // FIPS and dual-stack variants of the default endpoint: environment, then profile (as the
    // AWS CLI; it has no option for them). A configured endpoint URL wins over both.
    for (auto [variable, key, field] :
         {std::tuple{"AWS_USE_FIPS_ENDPOINT", "use_fips_endpoint", &client_config::use_fips_endpoint},
          std::tuple{"AWS_USE_DUALSTACK_ENDPOINT", "use_dualstack_endpoint", &client_config::use_dualstack_endpoint}}) {
        if (const std::string* v = env_value(env, variable)) {
            if (!iequals(*v, "true") && !iequals(*v, "false"))
                return config_failure(std::string("Invalid value for ") + variable + ": " +
                                      detail::quote_for_message(*v) + " (expected true or false)");
            cfg.*field = iequals(*v, "true");
        } else if (const detail::ini_value* pv = prof.get(key)) {
            cfg.*field = detail::profile_bool(prof, key, *pv);
        }
        if (cfg.*field) note(std::string(key) + " = true");
    }
    // FIPS pseudo-regions (fips-us-east-1, us-east-1-fips): sign for the real region, FIPS
    // endpoint unless one is configured (botocore).
    if (const std::string given = cfg.region; detail::normalize_fips_region(cfg.region)) {
        if (cfg.endpoint_url.empty()) cfg.use_fips_endpoint = true;
        note("region: " + given + " is a FIPS pseudo-region: signing for " + cfg.region +
             (cfg.endpoint_url.empty() ? ", FIPS endpoint" : ", the configured endpoint"));
    }
    if (cfg.endpoint_url.empty()) {
        std::string what;
        if (detail::resolve_endpoint({cfg.region, cfg.use_fips_endpoint, cfg.use_dualstack_endpoint, {}},
                                     rc.display_endpoint, what))
            return config_failure(what);
        while (!rc.display_endpoint.empty() && rc.display_endpoint.back() == '/') rc.display_endpoint.pop_back();
        note("endpoint: default for the region (" + rc.display_endpoint + ")");
    } else {
        rc.display_endpoint = cfg.endpoint_url;
        while (!rc.display_endpoint.empty() && rc.display_endpoint.back() == '/') rc.display_endpoint.pop_back();
    }

    if (auto f = resolve_proxy(cfg, rc.display_endpoint, lookup, note)) return *f;

    // TLS.
    std::string ca_source;
    if (g.ca_bundle) {
        cfg.ca_bundle = *g.ca_bundle;
        ca_source = "--ca-bundle";
    } else if (const std::string* v = env_value(env, "AWS_CA_BUNDLE")) {
        cfg.ca_bundle = *v;
        ca_source = "AWS_CA_BUNDLE";
    } else if (const detail::ini_value* pv = prof.get("ca_bundle")) {
        cfg.ca_bundle = pv->value;
        ca_source = from_profile(prof, *pv);
    }
    if (!cfg.ca_bundle.empty()) {
        std::ifstream f(cfg.ca_bundle, std::ios::binary);
        if (!f) {
            const int e = errno;
            return config_failure("The CA bundle \"" + cfg.ca_bundle + "\" (from " + std::string(ca_source) +
                                  ") cannot be read: " + (e ? std::strerror(e) : "cannot open the file"));
        }
        note("CA bundle: " + cfg.ca_bundle + " (from " + std::string(ca_source) + ")");
    } else {
        note("CA bundle: the system trust store");
    }
    cfg.verify_peer = !g.no_verify_ssl;
    if (g.no_verify_ssl) note("certificate verification: OFF (--no-verify-ssl)");

    // Retries.
    if (g.max_attempts) {
        cfg.retry.max_attempts = *g.max_attempts;
        note("max attempts: " + std::to_string(cfg.retry.max_attempts) + " (from --max-attempts)");
    } else if (const std::string* v = env_value(env, "AWS_MAX_ATTEMPTS")) {
        unsigned n = 0;
        const auto r = std::from_chars(v->data(), v->data() + v->size(), n, 10);
        if (r.ec != std::errc{} || r.ptr != v->data() + v->size() || n == 0 || (*v)[0] == '+')
            return config_failure("Invalid value for AWS_MAX_ATTEMPTS: " + detail::quote_for_message(*v) +
                                  " (expected a whole number of attempts, 1 or more)");
        cfg.retry.max_attempts = n;
        note("max attempts: " + std::to_string(n) + " (from AWS_MAX_ATTEMPTS)");
    } else if (const detail::ini_value* pv = prof.get("max_attempts")) {
        cfg.retry.max_attempts = detail::profile_positive(prof, "max_attempts", *pv);
        note("max attempts: " + std::to_string(cfg.retry.max_attempts) + " (from " + from_profile(prof, *pv) + ")");
    } else {
        note("max attempts: " + std::to_string(cfg.retry.max_attempts) + " (default)");
    }
    if (const std::string* v = env_value(env, "AWS_RETRY_MODE")) {
        if (*v == "standard")
            cfg.retry.mode = retry_mode::standard;
        else if (*v == "adaptive")
            cfg.retry.mode = retry_mode::adaptive;
        else if (*v == "legacy")
            cfg.retry.mode = retry_mode::legacy;
        else
            return config_failure("Invalid value for AWS_RETRY_MODE: " + detail::quote_for_message(*v) +
                                  " (expected standard, adaptive or legacy)");
        note("retry mode: " + *v + " (from AWS_RETRY_MODE)");
    } else if (const detail::ini_value* pv = prof.get("retry_mode")) {
        if (pv->value == "standard")
            cfg.retry.mode = retry_mode::standard;
        else if (pv->value == "adaptive")
            cfg.retry.mode = retry_mode::adaptive;
        else if (pv->value == "legacy")
            cfg.retry.mode = retry_mode::legacy;
        else
            detail::throw_profile_error(prof, "retry_mode", *pv, "expected standard, adaptive or legacy");
        note("retry mode: " + pv->value + " (from " + from_profile(prof, *pv) + ")");
    } else {
        note("retry mode: standard (default)");
    }

    // Timeouts: the AWS CLI's 60 s defaults; 0 disables, as in client_config.
    const unsigned connect_s = g.connect_timeout_seconds.value_or(60);
    const unsigned read_s = g.read_timeout_seconds.value_or(60);
    cfg.timeouts.connect = std::chrono::seconds(connect_s);
    cfg.timeouts.tls_handshake = std::chrono::seconds(connect_s);
    cfg.timeouts.attempt = std::chrono::seconds(read_s);
    note("timeouts: connect " + seconds_text(connect_s) +
         (g.connect_timeout_seconds ? " (from --cli-connect-timeout)" : " (default)") + ", read " +
         seconds_text(read_s) + (g.read_timeout_seconds ? " (from --cli-read-timeout)" : " (default)"));

    // Credentials: the environment's keys, then the profile's; with --profile, the profile's only
    // (botocore drops the environment provider for an explicitly named profile).
    const std::string* akid = env_value(env, "AWS_ACCESS_KEY_ID");
    const std::string* secret = env_value(env, "AWS_SECRET_ACCESS_KEY");
    if (prof.explicit_choice && (akid || secret)) {
        note("AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY ignored (--profile given)");
        akid = secret = nullptr;
    }
    if (akid && !secret)
        return config_failure("Partial credentials found in env, missing: AWS_SECRET_ACCESS_KEY");
    if (!akid && secret) return config_failure("Partial credentials found in env, missing: AWS_ACCESS_KEY_ID");
    if (akid) {
        cfg.static_credentials.access_key_id = *akid;
        cfg.static_credentials.secret_access_key = *secret;
        std::string_view token_source;
        if (const std::string* t = env_value(env, "AWS_SESSION_TOKEN")) {
            cfg.static_credentials.session_token = *t;
            token_source = "AWS_SESSION_TOKEN";
        } else if (const std::string* t2 = env_value(env, "AWS_SECURITY_TOKEN")) {
            cfg.static_credentials.session_token = *t2;
            token_source = "AWS_SECURITY_TOKEN";
        }
        note("credentials: environment variables (access key " + mask_access_key(*akid) +
             ", secret key <redacted>" +
             (token_source.empty() ? std::string(", no session token")
                                   : ", session token <redacted> from " + std::string(token_source)) +
             ")");
        return rc;
    }

    // Temporary credentials that the client's own chain fetches, caches and refreshes when a call
    // needs them (the CLI only says which): an assume-role, web identity or SSO profile and
    // AWS_WEB_IDENTITY_TOKEN_FILE (before the profile's keys, as in botocore), the profile's
    // credential_process and, without --profile, container credentials (after them). Instance
    // metadata (IMDS) is not used by the CLI yet.
    auto defer_to_client = [&](const std::string& kind) {
        if (prof.explicit_choice) cfg.profile = prof.name;
        cfg.environment = [e = std::make_shared<const environment>(env)](const char* name) -> const char* {
            auto it = e->find(std::string_view(name));
            return it == e->end() ? nullptr : it->second.c_str();
        };
        note("credentials: " + kind + " (fetched when a call needs credentials, refreshed before they expire)");
    };
    // The client's order: an assume-role profile, then web identity (the variables, then the profile).
    const detail::ini_value* web_file = prof.get("web_identity_token_file");
    const detail::ini_value* role = prof.get("source_profile") ? prof.get("source_profile") : prof.get("credential_source");
    if (!role && !web_file) role = prof.get("role_arn");
    if (role) {
        defer_to_client("assume-role of " + from_profile(prof, *role));
        return rc;
    }
    if (env_value(env, "AWS_WEB_IDENTITY_TOKEN_FILE")) {
        defer_to_client("web identity (AWS_WEB_IDENTITY_TOKEN_FILE)");
        return rc;
    }
    if (web_file) {
        defer_to_client("web identity of " + from_profile(prof, *web_file));
        return rc;
    }
    if (const detail::ini_value* sso = prof.get("sso_role_name") ? prof.get("sso_role_name") : prof.get("sso_account_id")) {
        defer_to_client("IAM Identity Center (SSO) of " + from_profile(prof, *sso));
        return rc;
    }

    auto profile_key = [&](const char* key) -> const detail::ini_value* {
        auto it = prof.credential_values.find(key);
        return it == prof.credential_values.end() || it->second.value.empty() ? nullptr : &it->second;
    };
    const detail::ini_value* pakid = profile_key("aws_access_key_id");
    const detail::ini_value* psecret = profile_key("aws_secret_access_key");
    if (pakid || psecret) {
        // The messages name files, lines and keys, never the values.
        if (!pakid || !psecret)
            return config_failure("Partial credentials found in " + from_profile(prof, pakid ? *pakid : *psecret) +
                                  ", missing: " + (pakid ? "aws_secret_access_key" : "aws_access_key_id"));
        cfg.static_credentials.access_key_id = pakid->value;
        cfg.static_credentials.secret_access_key = psecret->value;
        const detail::ini_value* token = profile_key("aws_session_token");
        if (token) cfg.static_credentials.session_token = token->value;
        note("credentials: " + from_profile(prof, *pakid) + " (access key " + mask_access_key(pakid->value) +
             ", secret key <redacted>" + (token ? ", session token <redacted>" : ", no session token") + ")");
        return rc;
    }

    if (const detail::ini_value* process = prof.get("credential_process")) {
        defer_to_client("credential_process of " + from_profile(prof, *process));
        return rc;
    }
    if (!prof.explicit_choice) {
        for (const char* v : {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"})
            if (env_value(env, v)) {
                defer_to_client(std::string("container provider (") + v + ")");
                return rc;
            }
    }

    std::string msg =
        "Unable to locate credentials. You can configure credentials by setting the AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY (and, for temporary credentials, AWS_SESSION_TOKEN) environment variables, or "
        "aws_access_key_id and aws_secret_access_key in the profile's section of the shared credentials file.";
    msg += " The " + prof.describe() + (prof.found ? " has no credentials" : " does not exist") + " (from " +
           prof.source + ")";
    if (prof.explicit_choice) msg += "; with --profile the environment variables are not used";
    msg += '.';
    return config_failure(std::move(msg));
}

}  // namespace

std::variant<resolved_configuration, failure> resolve_configuration(const global_options& g,
                                                                    const environment& env) {
    try {
        return resolve(g, env);
    } catch (const std::system_error& e) {
        // Profile problems: an unknown profile, a malformed or unreadable file, a malformed value.
        // The CLI shows the explanation only, without the error code's message.
        return config_failure(detail::explanation_of(e));
    }
}

}  // namespace iotjobs::cli
