// Client configuration: a plain aggregate with documented defaults. The client copies it when it
// is built (client::config() returns the copy); changing a client_config afterwards changes no
// client. Functions set in it (log sinks, environment) are called from the client's threads.
#pragma once

#include <iotjobs/log.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace iotjobs {

using duration = std::chrono::steady_clock::duration;

// AWS credentials (client_config::static_credentials). Never logged or printed by the library. The secret key and the session token
// are wiped (OPENSSL_cleanse) when a credentials object is destroyed, assigned over or moved
// from, so that released memory does not keep them. Construct as {id, secret} or {id, secret,
// token}; a plain struct otherwise (the constructors exist for the wiping, not for checking).
struct credentials {
    std::string access_key_id;
    std::string secret_access_key;
    std::string session_token;  // empty for long-term credentials

    credentials() = default;
    credentials(std::string access_key, std::string secret, std::string token = {});
    credentials(const credentials&) = default;
    credentials(credentials&& o) noexcept;
    credentials& operator=(const credentials& o);
    credentials& operator=(credentials&& o) noexcept;
    ~credentials();
};

// The AWS SDKs' retry modes (AWS_RETRY_MODE / the profile's retry_mode).
enum class retry_mode {
    standard,  // exponential backoff with full jitter and a retry quota
    adaptive,  // standard, plus a client-side rate limiter that slows down on throttling
    legacy,    // accepted for compatibility with the SDKs' setting; retried as standard
};

struct retry_config {
    retry_mode mode = retry_mode::standard;
    unsigned max_attempts = 3;                        // total attempts, the first included; 1 disables retries
    duration max_backoff = std::chrono::seconds(20);  // cap of exponential backoff
    unsigned quota_capacity = 500;                    // retry quota (token bucket); 0 disables the quota
    // Base of the full-jitter exponential backoff: the retry after attempt n waits
    // rand[0,1) * min(base_delay * 2^(n-1), max_backoff). 1 s as botocore's standard mode
    // (botocore/retries/standard.py) for every retryable kind; clock-skew retries never wait.
    // Lower it for latency-sensitive callers or tests; truncated to milliseconds.
    duration base_delay = std::chrono::seconds(1);
};

struct timeout_config {
    duration connect = std::chrono::seconds(10);        // TCP connect (all the endpoint's addresses); zero disables
    duration tls_handshake = std::chrono::seconds(10);  // zero disables
    duration attempt = std::chrono::seconds(30);        // one request/response exchange; zero disables
    duration operation = std::chrono::seconds(0);       // whole call including retries; zero disables
};

// Out of file descriptors (EMFILE/ENFILE when a connection is opened), the pool goes on with the
// connections it has: no call fails for it, calls wait for one of them, a warning is logged once
// (component "pool"), and while calls wait one more connection is tried every 500 ms.
// Calls beyond max_size at once wait in line (FIFO) before they start: a few hundred bytes each,
// nothing signed yet; acquire_timeout and the operation deadline count from when they were issued.
struct pool_config {
    std::size_t max_size = 64;                            // connections per endpoint at most
    duration idle_timeout = std::chrono::seconds(50);     // close connections idle longer than this
    duration acquire_timeout = std::chrono::seconds(60);  // wait for a free connection; zero = forever
    // How long the endpoint's resolved addresses serve new connections before the name is looked
    // up again (a failed connect looks it up again at once); zero: a lookup per new connection.
    duration dns_cache_ttl = std::chrono::seconds(60);
};

// An HTTP proxy for the service and for the credential providers' own calls (STS, SSO). Every
// connection through it is a tunnel (CONNECT host:port), then TLS to the service as usual.
// Instance metadata, container credential and loopback addresses are never proxied for the
// credential providers. The password is never printed or logged.
struct proxy_config {
    // "http://[user:password@]host[:port]" (percent-encoded user and password: Basic proxy
    // authentication). Empty: from the environment when from_environment is set, else none.
    std::string url;
    // Hosts that are reached directly: comma-separated names (a name also matches its subdomains,
    // a leading dot is optional), IP addresses, CIDR blocks, optional ":port"; "*" for all.
    // Empty: NO_PROXY / no_proxy when from_environment is set.
    std::string no_proxy;
    // Read https_proxy / HTTPS_PROXY (https:// endpoints), http_proxy / HTTP_PROXY (http://
    // endpoints) and no_proxy / NO_PROXY (lowercase first) through client_config::environment
    // for whatever url / no_proxy leave empty.
    bool from_environment = true;
};

struct client_config {
    // Region used for the endpoint and for signing, e.g. "us-east-1". Required.
    std::string region;
    // Named profile of the shared config files (~/.aws/config, ~/.aws/credentials; AWS_CONFIG_FILE /
    // AWS_SHARED_CREDENTIALS_FILE). Empty: AWS_PROFILE, else AWS_DEFAULT_PROFILE, else "default".
    // Read by config_from_environment() and, for credentials, by the client when static_credentials
    // is empty. A name set here must exist in one of the files, and its credentials win over
    // AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (the environment is then not used for credentials,
    // as botocore does for an explicit profile); otherwise the environment's keys win.
    std::string profile;
    // Endpoint URL override ("https://host:port" or "http://host:port"). Empty: the default
    // https://iot.{region}.{dnsSuffix} from the partition rules.
    std::string endpoint_url;
    // FIPS (iot-fips.{region}...) and dual-stack ({region}.api.aws...) endpoints; with a custom
    // endpoint_url either is a configuration error, as in the AWS rule set.
    bool use_fips_endpoint = false;
    bool use_dualstack_endpoint = false;
    // Static credentials. Empty: the client's default chain (README, "Credentials"): the
    // environment (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN), the profile's
    // keys, the profile's credential_process, container credentials, EC2 instance metadata.
    // Static keys (these, the environment's, the profile's) are resolved once, when the client is
    // built (a later change to the environment or the files is not seen), and when nothing is
    // found every call fails with the reason found then. Temporary credentials from
    // credential_process, a container endpoint or IMDS are fetched on the first call, cached, and
    // refreshed ahead of their expiration (one fetch shared by all calls).
    credentials static_credentials;
    // PEM CA bundle to verify the server with. Empty: the system trust store.
    std::string ca_bundle;
    // Verify the server certificate and host name (never turn off outside tests).
    bool verify_peer = true;
    retry_config retry;
    timeout_config timeouts;
    pool_config pool;
    proxy_config proxy;
    // Set when only one thread runs the client's executor (a single-threaded io_context, or a
    // strand): operations then run directly on it instead of on a strand of their own, and a call
    // issued by a completion handler runs on the coroutine that delivered that completion (it
    // starts when the handler returns), which saves CPU per call. With several threads, leave it
    // false: each operation's strand keeps cancellation from racing with the operation.
    bool single_threaded = false;
    // Logging (include/iotjobs/log.hpp for what each level holds). Records at `level` or more
    // severe go to the sinks that are set: `structured_log` receives the record with its fields
    // (operation, thing/job/execution, attempt, HTTP status, AWS error, request id, latency,
    // retry reason), `log` the formatted text (iotjobs::format). Sinks are called on the threads
    // running the client's operations, possibly concurrently: they must be thread-safe. Never
    // secrets, signing keys or Authorization values. off (the default) costs one comparison.
    log_level level = log_level::off;
    std::function<void(log_level, std::string_view)> log;
    std::function<void(const log_record&)> structured_log;
    // Metrics (client::metrics()): per-call counters and latency histograms, relaxed atomics, on by
    // default (about a hundred nanoseconds per call). false leaves the snapshot's call counters and
    // histograms at zero (the transport's counters are kept either way).
    bool metrics = true;
    // Where the client's credential providers read environment variables (AWS_ACCESS_KEY_ID,
    // AWS_CONTAINER_CREDENTIALS_*, AWS_EC2_METADATA_*, AWS_PROFILE, AWS_CONFIG_FILE, ...): returns
    // the value or null. Empty: the process environment (std::getenv). For embedding programs
    // and tests that must not change the process environment.
    std::function<const char*(const char*)> environment;
};

// Fills region, credentials, endpoint URL and CA bundle from the AWS environment variables
// (AWS_REGION / AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN,
// AWS_ENDPOINT_URL_IOT / AWS_ENDPOINT_URL (unless AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true),
// AWS_USE_FIPS_ENDPOINT, AWS_USE_DUALSTACK_ENDPOINT, AWS_CA_BUNDLE, AWS_MAX_ATTEMPTS, AWS_RETRY_MODE)
// and then from the profile (base.profile, AWS_PROFILE, AWS_DEFAULT_PROFILE or "default") of the
// shared config files: region, endpoint_url (after its services section's iot endpoint_url; both
// skipped with ignore_configured_endpoint_urls = true), use_fips_endpoint, use_dualstack_endpoint,
// ca_bundle, max_attempts, retry_mode, aws_access_key_id / aws_secret_access_key /
// aws_session_token. Precedence: non-empty string fields (and true switches) of `base` > the
// environment > the profile; for credentials, an explicitly named base.profile wins over the
// environment's keys. AWS_MAX_ATTEMPTS / AWS_RETRY_MODE, else the profile's max_attempts /
// retry_mode, when set, override base.retry (its defaults cannot be told from explicit values).
// Keys are copied into static_credentials only when the client's chain would use them first:
// with AWS_WEB_IDENTITY_TOKEN_FILE set, or a profile that is an assume-role, web identity or SSO
// profile, static_credentials stays empty and the client's chain fetches those credentials.
// Variables are read through base.environment when it is set, else the process environment.
// A malformed variable (region, endpoint URL, switch, number, mode), file, line or profile value,
// a partial set of environment or profile keys and a named profile that neither file has throw
// boost::system::system_error (client_errc::invalid_configuration) whose what() names the
// variable, or the profile, file, line and key (never a secret). Without base.environment it
// reads the process environment (std::getenv): call it before starting threads that change it.
client_config config_from_environment(client_config base = {});

}  // namespace iotjobs
