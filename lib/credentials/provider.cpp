#include "credentials/provider.hpp"

#include "endpoint/profile.hpp"

#include <cstdlib>

namespace iotjobs::detail {
namespace {

class static_provider final : public credentials_provider {
public:
    explicit static_provider(credentials c) : c_(std::move(c)) {}
    const char* name() const noexcept override { return "static"; }
    error_code get(credentials& out, std::string& why) override {
        if (c_.access_key_id.empty()) {
            why = "no static credentials configured";
            return make_error_code(client_errc::no_credentials);
        }
        if (c_.secret_access_key.empty()) {
            why = "static credentials have an access key id but no secret access key";
            return make_error_code(client_errc::credentials_error);
        }
        out = c_;
        return {};
    }

private:
    credentials c_;
};

class environment_provider final : public credentials_provider {
public:
    explicit environment_provider(env_lookup env) : env_(std::move(env)) {}
    const char* name() const noexcept override { return "environment"; }
    error_code get(credentials& out, std::string& why) override {
        auto value = [&](const char* n) -> std::string {
            const char* v = env_ ? env_(n) : nullptr;
            return v ? std::string(v) : std::string();
        };
        std::string akid = value("AWS_ACCESS_KEY_ID");
        std::string secret = value("AWS_SECRET_ACCESS_KEY");
        if (akid.empty() && secret.empty()) {
            why = "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set";
            return make_error_code(client_errc::no_credentials);
        }
        if (akid.empty() || secret.empty()) {
            why = akid.empty() ? "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not"
                               : "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not";
            return make_error_code(client_errc::credentials_error);
        }
        out.access_key_id = std::move(akid);
        out.secret_access_key = std::move(secret);
        out.session_token = value("AWS_SESSION_TOKEN");
        if (out.session_token.empty()) out.session_token = value("AWS_SECURITY_TOKEN");
        return {};
    }

private:
    env_lookup env_;
};

class profile_provider final : public credentials_provider {
public:
    profile_provider(std::string profile, env_lookup env) : profile_(std::move(profile)), env_(std::move(env)) {}
    const char* name() const noexcept override { return "shared-config-files"; }
    error_code get(credentials& out, std::string& why) override {
        profile_settings p;
        try {
            p = load_profile(profile_, "client_config.profile", env_);
        } catch (const std::system_error& e) {
            why = e.what();  // names files, lines and keys, never values of credential keys
            return make_error_code(client_errc::credentials_error);
        }
        auto value = [&](const char* key) -> const ini_value* {
            auto it = p.credential_values.find(key);
            return it == p.credential_values.end() || it->second.value.empty() ? nullptr : &it->second;
        };
        const ini_value* akid = value("aws_access_key_id");
        const ini_value* secret = value("aws_secret_access_key");
        if (!akid && !secret) {
            why = p.describe() + (p.found ? " has no aws_access_key_id / aws_secret_access_key" : " does not exist");
            return make_error_code(client_errc::no_credentials);
        }
        if (!akid || !secret) {
            const ini_value* have = akid ? akid : secret;
            why = "Partial credentials in profile " + p.name + " (" + have->file + " line " +
                  std::to_string(have->line) + "): " + (akid ? "aws_secret_access_key" : "aws_access_key_id") +
                  " is missing";
            return make_error_code(client_errc::credentials_error);
        }
        out.access_key_id = akid->value;
        out.secret_access_key = secret->value;
        const ini_value* token = value("aws_session_token");
        out.session_token = token ? token->value : std::string();
        return {};
    }

private:
    std::string profile_;
    env_lookup env_;
};

}  // namespace

std::unique_ptr<credentials_provider> make_profile_provider(std::string profile, env_lookup env) {
    return std::make_unique<profile_provider>(std::move(profile), std::move(env));
}

std::unique_ptr<credentials_provider> make_static_provider(credentials c) {
    return std::make_unique<static_provider>(std::move(c));
}

std::unique_ptr<credentials_provider> make_environment_provider(env_lookup env) {
    return std::make_unique<environment_provider>(std::move(env));
}

error_code credentials_chain::get(credentials& out, std::string& why) {
    std::string reasons;
    for (auto& p : providers_) {
        std::string r;
        error_code ec = p->get(out, r);
        if (!ec) return ec;
        if (ec != client_errc::no_credentials) {
            why = std::string(p->name()) + ": " + r;
            return ec;
        }
        if (!reasons.empty()) reasons += "; ";
        reasons += p->name();
        reasons += ": ";
        reasons += r;
    }
    why = "Unable to locate credentials (" + reasons + ")";
    return make_error_code(client_errc::no_credentials);
}

credentials_chain default_chain(const client_config& cfg, env_lookup env) {
    credentials_chain chain;
    if (!cfg.static_credentials.access_key_id.empty() || !cfg.static_credentials.secret_access_key.empty()) {
        chain.add(make_static_provider(cfg.static_credentials));
    } else if (!cfg.profile.empty()) {
        chain.add(make_profile_provider(cfg.profile, std::move(env)));
    } else {
        chain.add(make_environment_provider(env));
        chain.add(make_profile_provider({}, std::move(env)));
    }
    return chain;
}

}  // namespace iotjobs::detail
