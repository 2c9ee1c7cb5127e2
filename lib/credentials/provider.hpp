// Credential providers. For now: static credentials from the configuration, the environment
// (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN) and the profile's static keys in
// the shared config / credentials files (endpoint/profile.hpp). The chain is an
// ordered list of providers, each saying why it found nothing, so that profiles,
// credential_process, container and IMDS providers can be added without touching callers.
#pragma once

#include <iotjobs/config.hpp>
#include <iotjobs/error.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace iotjobs::detail {

using env_lookup = std::function<const char*(const char*)>;

class credentials_provider {
public:
    virtual ~credentials_provider() = default;
    virtual const char* name() const noexcept = 0;
    // Fills `out` and returns {} when found. client_errc::no_credentials when this provider has
    // nothing (the chain moves on); another error stops the chain. `why` explains, never with secrets.
    virtual error_code get(credentials& out, std::string& why) = 0;
};

std::unique_ptr<credentials_provider> make_static_provider(credentials c);
std::unique_ptr<credentials_provider> make_environment_provider(env_lookup env);
// The profile's aws_access_key_id / aws_secret_access_key / aws_session_token (credentials file,
// else config file; endpoint/profile.hpp). `profile`: the explicit name, or empty for AWS_PROFILE /
// AWS_DEFAULT_PROFILE / "default". The files are read on every get(). no_credentials when the
// profile has no keys (or "default" does not exist); credentials_error for a malformed or
// unreadable file, an unknown named profile or a partial key pair.
std::unique_ptr<credentials_provider> make_profile_provider(std::string profile, env_lookup env);

class credentials_chain {
public:
    void add(std::unique_ptr<credentials_provider> p) { providers_.push_back(std::move(p)); }
    // The first provider that has credentials wins. On no_credentials, `why` lists each provider's reason.
    error_code get(credentials& out, std::string& why);

private:
    std::vector<std::unique_ptr<credentials_provider>> providers_;
};

// The default chain for a configuration: static credentials if set; else, with cfg.profile set,
// that profile only (an explicit profile drops the environment provider, as in botocore); else
// the environment, then the profile.
credentials_chain default_chain(const client_config& cfg, env_lookup env);

}  // namespace iotjobs::detail
