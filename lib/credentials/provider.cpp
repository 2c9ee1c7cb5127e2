#include "credentials/provider.hpp"

#include "http/message.hpp"

#include "endpoint/profile.hpp"

#include <boost/asio/this_coro.hpp>

#include <cctype>
#include <functional>
#include <cstdlib>

namespace iotjobs::detail {

namespace asio = boost::asio;

std::string env_value(const env_lookup& env, const char* name) {
    const char* v = env ? env(name) : nullptr;
    return v ? std::string(v) : std::string();
}

error_code credentials_provider::get(resolved_credentials&, std::string& why) {
    return credentials_failed(why, std::string(name()) + " is asynchronous");
}

error_code credentials_failed(std::string& why, std::string msg) {
    why = std::move(msg);
    return make_error_code(client_errc::credentials_error);
}

error_code no_credentials_found(std::string& why, std::string msg) {
    why = std::move(msg);
    return make_error_code(client_errc::no_credentials);
}

asio::awaitable<error_code> credentials_provider::async_get(resolved_credentials& out, std::string& why) {
    co_return get(out, why);
}

namespace {

// A provider that only reads configuration, variables or files: a name and a function.
class synchronous_provider final : public credentials_provider {
public:
    using get_function = std::function<error_code(resolved_credentials& out, std::string& why)>;
    synchronous_provider(const char* name, get_function get) : name_(name), get_(std::move(get)) {}
    const char* name() const noexcept override { return name_; }
    bool synchronous() const noexcept override { return true; }
    error_code get(resolved_credentials& out, std::string& why) override { return get_(out, why); }

private:
    const char* name_;
    get_function get_;
};

// client_config::static_credentials.
error_code get_static_credentials(const credentials& c, resolved_credentials& out, std::string& why) {
    if (c.access_key_id.empty()) {
        return no_credentials_found(why, "no static credentials configured");
    }
    if (c.secret_access_key.empty()) {
        return credentials_failed(why, "static credentials have an access key id but no secret access key");
    }
    out.value = c;
    out.expiration.reset();
    out.source = "static (client_config.static_credentials)";
    return {};
}

// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN (or AWS_SECURITY_TOKEN).
error_code get_environment_credentials(const env_lookup& env, resolved_credentials& out, std::string& why) {
    std::string akid = env_value(env, "AWS_ACCESS_KEY_ID");
    std::string secret = env_value(env, "AWS_SECRET_ACCESS_KEY");
    if (akid.empty() && secret.empty()) {
        return no_credentials_found(why, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set");
    }
    if (akid.empty() || secret.empty()) {
        return credentials_failed(why, akid.empty() ? "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not"
                                                    : "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
    }
    out.value.access_key_id = std::move(akid);
    out.value.secret_access_key = std::move(secret);
    out.value.session_token = env_value(env, "AWS_SESSION_TOKEN");
    if (out.value.session_token.empty()) out.value.session_token = env_value(env, "AWS_SECURITY_TOKEN");
    out.expiration.reset();
    out.source = "environment (AWS_ACCESS_KEY_ID)";
    return {};
}

// Profile keys naming credential sources this client does not implement yet. Any of them in the
// chosen profile is an error naming the key (the SDKs would use them before the static keys).
constexpr const char* unsupported_profile_keys[][2] = {
    {"login_session", "aws login (login_session)"},
};

// The profile's static keys (see make_profile_provider).
error_code get_profile_credentials(const std::string& profile, const env_lookup& env, resolved_credentials& out,
                                   std::string& why) {
    profile_settings p;
    try {
        p = load_profile(profile, "client_config.profile", env);
    } catch (const std::system_error& e) {
        why = e.what();  // names files, lines and keys, never values of credential keys
        return make_error_code(client_errc::credentials_error);
    }
    if (p.get("role_arn") || p.get("credential_source") || p.get("web_identity_token_file") ||
        p.get("sso_account_id") || p.get("sso_role_name")) {
        // The assume-role provider (before this one) answered for this profile already.
        return no_credentials_found(why, "profile " + p.name + " is an assume-role, web identity or SSO profile");
    }
    for (const auto& k : unsupported_profile_keys) {
        if (const ini_value* v = p.get(k[0])) {
            return credentials_failed(why, "profile " + p.name + " (" + v->file + " line " + std::to_string(v->line) +
                                               ") uses " + k[1] +
                                               " credentials, which this client does not support yet");
        }
    }
    auto value = [&](const char* key) -> const ini_value* {
        auto it = p.credential_values.find(key);
        return it == p.credential_values.end() || it->second.value.empty() ? nullptr : &it->second;
    };
    const ini_value* akid = value("aws_access_key_id");
    const ini_value* secret = value("aws_secret_access_key");
    if (!akid && !secret) {
        return no_credentials_found(
            why, p.describe() + (p.found ? " has no aws_access_key_id / aws_secret_access_key" : " does not exist"));
    }
    if (!akid || !secret) {
        const ini_value* have = akid ? akid : secret;
        return credentials_failed(why, "Partial credentials in profile " + p.name + " (" + have->file + " line " +
                                           std::to_string(have->line) + "): " +
                                           (akid ? "aws_secret_access_key" : "aws_access_key_id") + " is missing");
    }
    out.value.access_key_id = akid->value;
    out.value.secret_access_key = secret->value;
    const ini_value* token = value("aws_session_token");
    out.value.session_token = token ? token->value : std::string();
    out.expiration.reset();
    out.source = "profile " + p.name + " (" + akid->file + ")";
    return {};
}

}  // namespace

std::unique_ptr<credentials_provider> make_profile_provider(std::string profile, env_lookup env) {
    return std::make_unique<synchronous_provider>(
        "shared-config-files", std::bind_front(get_profile_credentials, std::move(profile), std::move(env)));
}

asio::awaitable<error_code> profile_driven_provider::async_get(resolved_credentials& out, std::string& why) {
    profile_settings p;
    if (error_code ec = load(p, why)) co_return ec;
    co_return co_await source_.get(p, env_, out, why);
}

bool profile_driven_provider::nothing_to_do(std::string& why) {
    try {
        profile_settings p = load_profile(profile_, "client_config.profile", env_);
        if (source_.applies(p)) return false;
        why = p.describe() + (p.found ? source_.lacks : " does not exist");
        return true;
    } catch (const std::system_error&) {
        return false;  // async_get reports it
    }
}

error_code profile_driven_provider::load(profile_settings& p, std::string& why) const {
    try {
        p = load_profile(profile_, "client_config.profile", env_);
    } catch (const std::system_error& e) {
        return credentials_failed(why, e.what());
    }
    if (source_.applies(p)) return {};
    return no_credentials_found(why, p.describe() + (p.found ? source_.lacks : " does not exist"));
}

std::unique_ptr<credentials_provider> make_static_provider(credentials c) {
    return std::make_unique<synchronous_provider>("static", std::bind_front(get_static_credentials, std::move(c)));
}

std::unique_ptr<credentials_provider> make_environment_provider(env_lookup env) {
    return std::make_unique<synchronous_provider>("environment",
                                                  std::bind_front(get_environment_credentials, std::move(env)));
}

namespace {
void add_reason(std::string& reasons, const credentials_provider& p, const std::string& r) {
    if (!reasons.empty()) reasons += "; ";
    reasons += p.name();
    reasons += ": ";
    reasons += r;
}
}  // namespace

error_code credentials_chain::finish(std::string& reasons, std::string& why) {
    return no_credentials_found(why, "Unable to locate credentials (" + reasons + ")");
}

bool credentials_chain::try_get_sync(resolved_credentials& out, error_code& ec, std::string& why) {
    std::string reasons;
    for (auto& p : providers_) {
        std::string r;
        if (!p->synchronous()) {
            if (!p->nothing_to_do(r)) return false;
            add_reason(reasons, *p, r);
            continue;
        }
        ec = p->get(out, r);
        if (!ec) return true;
        if (ec != client_errc::no_credentials) {
            why = std::string(p->name()) + ": " + r;
            return true;
        }
        add_reason(reasons, *p, r);
    }
    ec = finish(reasons, why);
    return true;
}

asio::awaitable<error_code> credentials_chain::async_get(resolved_credentials& out, std::string& why) {
    std::string reasons;
    for (auto& p : providers_) {
        std::string r;
        const error_code ec = co_await p->async_get(out, r);  // a synchronous provider's calls get()
        if (!ec) co_return ec;
        if (ec != client_errc::no_credentials) {
            why = std::string(p->name()) + ": " + r;
            co_return ec;
        }
        add_reason(reasons, *p, r);
    }
    co_return finish(reasons, why);
}

namespace {
// `env` with client_config::proxy laid over the proxy variables, so that the providers' HTTP
// calls (http_fetch reads them) follow the client's proxy settings.
env_lookup with_proxy_settings(const proxy_config& p, env_lookup env) {
    if (p.url.empty() && p.no_proxy.empty() && p.from_environment) return env;
    return [url = p.url, no_proxy = p.no_proxy, from_env = p.from_environment,
            env = std::move(env)](const char* name) -> const char* {
        const std::string_view n(name);
        const bool is_proxy = iequals(n, "https_proxy") || iequals(n, "http_proxy");
        if (is_proxy && !url.empty()) return url.c_str();
        if (iequals(n, "no_proxy") && !no_proxy.empty()) return no_proxy.c_str();
        if ((is_proxy || iequals(n, "no_proxy")) && !from_env) return nullptr;
        return env ? env(name) : nullptr;
    };
}
}  // namespace

credentials_chain default_chain(const client_config& cfg, env_lookup env) {
    env = with_proxy_settings(cfg.proxy, std::move(env));
    credentials_chain chain;
    if (!cfg.static_credentials.access_key_id.empty() || !cfg.static_credentials.secret_access_key.empty()) {
        chain.add(make_static_provider(cfg.static_credentials));
    } else if (!cfg.profile.empty()) {
        chain.add(make_assume_role_provider(cfg.profile, env));
        chain.add(make_web_identity_provider(cfg.profile, env));
        chain.add(make_sso_provider(cfg.profile, env));
        chain.add(make_profile_provider(cfg.profile, env));
        chain.add(make_process_provider(cfg.profile, std::move(env)));
    } else {
        chain.add(make_environment_provider(env));
        chain.add(make_assume_role_provider({}, env));
        chain.add(make_web_identity_provider({}, env));
        chain.add(make_sso_provider({}, env));
        chain.add(make_profile_provider({}, env));
        chain.add(make_process_provider({}, env));
        chain.add(make_container_provider(env));
        chain.add(make_imds_provider(std::move(env)));
    }
    return chain;
}

}  // namespace iotjobs::detail
