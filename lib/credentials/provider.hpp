// Credential providers and the default chain.
//
// A provider finds one kind of credentials: static (client_config), the environment, a profile's
// static keys, a profile's credential_process, ECS/EKS container credentials, EC2 IMDSv2. Every
// provider has an asynchronous get (`async_get`, an Asio coroutine on the caller's executor; no
// thread is blocked: processes and HTTP go through Asio); the ones that only read variables or
// local files are also synchronous (`synchronous()`), so the client can settle them when it is
// built, as before, and never touch the cache afterwards (credentials/cache.hpp).
//
// Results: {} with `out` filled; client_errc::no_credentials when the provider has nothing (the
// chain moves on); any other error stops the chain (a configured source that fails). `why` says
// why in words, never with a secret.
#pragma once

#include <iotjobs/config.hpp>
#include <iotjobs/error.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace iotjobs::detail {

using env_lookup = std::function<const char*(const char*)>;
struct profile_settings;  // endpoint/profile.hpp

// Credentials as a provider returns them: with an expiration for temporary ones.
struct resolved_credentials {
    credentials value;
    std::optional<std::chrono::system_clock::time_point> expiration;  // none: never refreshed
    std::string source;  // the provider's name plus detail, e.g. "container (AWS_CONTAINER_CREDENTIALS_FULL_URI)"
};

// Sets `why` to `msg` and returns client_errc::credentials_error (a configured source failed) or
// client_errc::no_credentials (the provider has nothing): how every provider reports.
error_code credentials_failed(std::string& why, std::string msg);
error_code no_credentials_found(std::string& why, std::string msg);

class credentials_provider {
public:
    virtual ~credentials_provider() = default;
    virtual const char* name() const noexcept = 0;
    // True when get() works without I/O other than reading local files.
    virtual bool synchronous() const noexcept { return false; }
    // Synchronous form (only when synchronous()); the default says the provider is asynchronous.
    virtual error_code get(resolved_credentials& out, std::string& why);
    // Runs on the executor it is awaited on. The default calls get().
    virtual boost::asio::awaitable<error_code> async_get(resolved_credentials& out, std::string& why);
    // For an asynchronous provider: true (with `why`) when a look at variables and files shows it
    // has nothing to offer (what async_get would answer with no_credentials), so that the chain
    // can still be settled synchronously. False: it must be asked.
    virtual bool nothing_to_do(std::string& why) {
        (void)why;
        return false;
    }
};

// A kind of credentials found through one profile's settings (credential_process, assume-role,
// SSO): its name, the profiles it applies to, what a profile it does not apply to lacks (e.g.
// " has no credential_process"), and how it gets credentials from a profile it applies to.
struct profile_source {
    const char* name;
    bool (*applies)(const profile_settings& p);
    const char* lacks;
    boost::asio::awaitable<error_code> (*get)(const profile_settings& p, const env_lookup& env,
                                              resolved_credentials& out, std::string& why);
};

// The provider of a profile_source: the profile is read on every call; no_credentials when the
// source does not apply to it, credentials_error when the files cannot be read.
class profile_driven_provider final : public credentials_provider {
public:
    profile_driven_provider(const profile_source& source, std::string profile, env_lookup env)
        : source_(source), profile_(std::move(profile)), env_(std::move(env)) {}
    const char* name() const noexcept override { return source_.name; }
    bool nothing_to_do(std::string& why) override;
    boost::asio::awaitable<error_code> async_get(resolved_credentials& out, std::string& why) override;

private:
    error_code load(profile_settings& p, std::string& why) const;

    const profile_source& source_;
    std::string profile_;  // the explicit name, or empty for AWS_PROFILE / AWS_DEFAULT_PROFILE / "default"
    env_lookup env_;
};

std::unique_ptr<credentials_provider> make_static_provider(credentials c);
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN (or AWS_SECURITY_TOKEN).
// AWS_CREDENTIAL_EXPIRATION is not read (the keys are settled once, never refreshed).
std::unique_ptr<credentials_provider> make_environment_provider(env_lookup env);
// The profile's aws_access_key_id / aws_secret_access_key / aws_session_token (credentials file,
// else config file; endpoint/profile.hpp). `profile`: the explicit name, or empty for AWS_PROFILE /
// AWS_DEFAULT_PROFILE / "default". The files are read on every get(). no_credentials when the
// profile has no keys (or "default" does not exist); credentials_error for a malformed or
// unreadable file, an unknown named profile, a partial key pair, and a profile using a source this
// client cannot use yet (login_session), named in the message. An assume-role, web identity or
// SSO profile is left to those providers (no_credentials here; they come first in the chain).
std::unique_ptr<credentials_provider> make_profile_provider(std::string profile, env_lookup env);
// Assume-role (credentials/assume_role.cpp): the profile's role_arn with source_profile (static
// keys, its credential_process, or another role_arn: chained, cycles refused) or credential_source (Environment,
// EcsContainer, Ec2InstanceMetadata), external_id, role_session_name, duration_seconds; STS
// AssumeRole signed with SigV4 for "sts" at AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL / the
// profile's services section / endpoint_url, else https://sts.{region}.amazonaws.com (region:
// AWS_REGION, AWS_DEFAULT_REGION, the profile's region, else us-east-1).
std::unique_ptr<credentials_provider> make_assume_role_provider(std::string profile, env_lookup env);
// Web identity (credentials/assume_role.cpp): AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN
// [+ AWS_ROLE_SESSION_NAME], else the profile's web_identity_token_file + role_arn
// [+ role_session_name]; STS AssumeRoleWithWebIdentity (unsigned), same endpoint rules.
std::unique_ptr<credentials_provider> make_web_identity_provider(std::string profile, env_lookup env);
// IAM Identity Center (credentials/assume_role.cpp): sso_account_id / sso_role_name with
// sso_session -> [sso-session NAME] (or the legacy sso_start_url / sso_region); the cached token
// of "aws sso login", then GetRoleCredentials. Expired tokens are not refreshed (log in again).
std::unique_ptr<credentials_provider> make_sso_provider(std::string profile, env_lookup env);
// The profile's credential_process (credentials/process.cpp).
std::unique_ptr<credentials_provider> make_process_provider(std::string profile, env_lookup env);
// ECS / EKS Pod Identity container credentials (credentials/remote.cpp).
// RELATIVE_URI -> http://169.254.170.2; FULL_URI over plain http only to loopback, localhost and
// the ECS/EKS addresses, or https to any host (verified; AWS_CA_BUNDLE).
std::unique_ptr<credentials_provider> make_container_provider(env_lookup env);
// EC2 instance metadata, IMDSv2 (credentials/remote.cpp).
std::unique_ptr<credentials_provider> make_imds_provider(env_lookup env);

class credentials_chain {
public:
    void add(std::unique_ptr<credentials_provider> p) { providers_.push_back(std::move(p)); }
    bool empty() const noexcept { return providers_.empty(); }

    // Runs the leading synchronous providers. True when they settle the result (credentials found,
    // a hard error, or a chain with nothing else to try): `ec`/`out`/`why` are then the chain's
    // answer. False when the chain must go on asynchronously (call async_get).
    bool try_get_sync(resolved_credentials& out, error_code& ec, std::string& why);

    // The first provider that has credentials wins. On no_credentials, `why` lists every provider
    // tried and its reason: "Unable to locate credentials (environment: ...; container: ...)".
    boost::asio::awaitable<error_code> async_get(resolved_credentials& out, std::string& why);

private:
    error_code finish(std::string& reasons, std::string& why);
    std::vector<std::unique_ptr<credentials_provider>> providers_;
};

// The default chain for a configuration:
//  - static credentials if set (alone);
//  - else, with cfg.profile set, that profile only: assume-role, web identity, SSO, its static
//    keys, its credential_process
//    (an explicit profile drops the environment provider, as in botocore; this client also drops
//    the container and IMDS providers then, so an explicit profile never reaches the network
//    except through its own credential_process);
//  - else environment, assume-role, web identity, SSO, profile keys, profile credential_process,
//    container, IMDS.
credentials_chain default_chain(const client_config& cfg, env_lookup env);

// --- helpers shared by the providers (credentials/parse.cpp; tested in test/unit/test_credentials.cpp
// and fuzzed in test/fuzz/) ---

// Splits a command line as Python's shlex.split does in POSIX mode (botocore's credential_process):
// whitespace separates words; '...' is literal; "..." keeps \ only before \ " $ ` and newline;
// a backslash outside quotes escapes the next character. Nullopt on an unterminated quote or a
// trailing backslash (`error` says which).
std::optional<std::vector<std::string>> shell_split(std::string_view command, std::string& error);

// ISO 8601 / RFC 3339 date-time as the SDKs write Expiration: "2026-12-07T05:00:00Z",
// fractional seconds, "+hh:mm" / "-hh:mm" offsets, "+hhmm", lower-case t/z accepted. Years
// 1900-2199 only (credentials/parse.hpp iso8601_min/max): nullopt outside them.
std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view text);

// Parses the JSON a credential source answered with: AccessKeyId, SecretAccessKey (required),
// `token_key` ("SessionToken" for credential_process, "Token" for container and IMDS, optional),
// Expiration (ISO 8601, optional). `require_version`: "Version" must be the integer 1
// (credential_process). Errors (client_errc::credentials_error) name fields, never values.
error_code parse_credentials_json(std::string_view body, std::string_view token_key, bool require_version,
                                  resolved_credentials& out, std::string& why);

// The variable's value, or "" when unset.
std::string env_value(const env_lookup& env, const char* name);

}  // namespace iotjobs::detail
