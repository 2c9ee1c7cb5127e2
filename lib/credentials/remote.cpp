// Container (ECS / EKS Pod Identity) and EC2 instance metadata (IMDSv2) credentials, over plain
// HTTP to link-local or loopback addresses (credentials/http_fetch.hpp). As botocore does them:
// botocore/credentials.py ContainerProvider, botocore/utils.py ContainerMetadataFetcher and IMDSFetcher.
#include "credentials/http_fetch.hpp"
#include "credentials/provider.hpp"

#include "endpoint/profile.hpp"
#include "util/secret.hpp"
#include "util/text.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>

#include <cctype>
#include <fstream>
#include <sstream>

namespace iotjobs::detail {

namespace asio = boost::asio;

namespace {

std::string describe(const error_code& ec) { return ec.message(); }

// Hosts a container endpoint may be reached at over plain http (botocore's list plus the JS SDK's
// 127.0.0.0/8): loopback, 169.254.170.2 (ECS), 169.254.170.23 and fd00:ec2::23 (EKS), localhost.
bool allowed_container_host(const std::string& host) {
    if (to_lower(host) == "localhost") return true;
    error_code ec;
    const auto a = asio::ip::make_address(host, ec);
    if (ec) return false;
    if (a.is_loopback()) return true;
    if (a.is_v4()) {
        const auto s = a.to_string();
        return s == "169.254.170.2" || s == "169.254.170.23";
    }
    return a == asio::ip::make_address("fd00:ec2::23", ec);
}

bool retryable_status(unsigned s) { return s == 429 || s >= 500; }

class container_provider final : public credentials_provider {
public:
    explicit container_provider(env_lookup env) : env_(std::move(env)) {}
    const char* name() const noexcept override { return "container"; }
    bool nothing_to_do(std::string& why) override {
        if (!env_value(env_, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI").empty() ||
            !env_value(env_, "AWS_CONTAINER_CREDENTIALS_FULL_URI").empty())
            return false;
        why = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI are not set";
        return true;
    }

    // The endpoint to ask and the variable that named it: the relative URI wins (botocore, JS).
    error_code target(http_fetch_request& req, std::string& source, std::string& why) const {
        const std::string rel = env_value(env_, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
        const std::string full = env_value(env_, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
        if (rel.empty() && full.empty()) {
            return no_credentials_found(
                why, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI are not set");
        }
        if (!rel.empty()) {
            if (rel.front() != '/')
                return credentials_failed(why, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must start with '/'");
            req.host = "169.254.170.2";
            req.port = "80";
            req.target = rel;
            source = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI";
        } else {
            bool https = false;
            std::string uwhy;
            if (!parse_fetch_url(full, req, https, uwhy))
                return credentials_failed(why, "AWS_CONTAINER_CREDENTIALS_FULL_URI is not a usable URL: " + uwhy);
            req.tls = https;
            if (https) req.ca_bundle = env_value(env_, "AWS_CA_BUNDLE");
            req.env = &env_;
            if (!https && !allowed_container_host(req.host))
                return credentials_failed(
                    why,
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI: plain http is only allowed to loopback addresses, "
                    "localhost, 169.254.170.2, 169.254.170.23 and fd00:ec2::23, not " +
                        req.host);
            source = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
        }
        return {};
    }

    asio::awaitable<error_code> async_get(resolved_credentials& out, std::string& why) override {
        http_fetch_request req;
        std::string source;
        if (error_code tec = target(req, source, why)) co_return tec;
        // The token: the file (re-read on every fetch; it wins), else the variable.
        std::string token;
        // The token and the header carrying it are wiped on every way out.
        wipe_on_exit wipe{&token};
        const std::string token_file = env_value(env_, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
        if (!token_file.empty()) {
            if (!read_secret_file(token_file, token))
                co_return credentials_failed(why, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: cannot read " + token_file);
        } else {
            token = env_value(env_, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
        }
        if (token.find_first_of("\r\n") != std::string::npos)
            co_return credentials_failed(
                why, std::string(token_file.empty() ? "AWS_CONTAINER_AUTHORIZATION_TOKEN"
                                                    : "the file named by AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") +
                         ": the token contains a CR or LF character");
        req.headers.emplace_back("Accept", "application/json");
        if (!token.empty()) {
            req.headers.emplace_back("Authorization", token);
            wipe.add(req.headers.back().second);
        }
        req.timeout = std::chrono::seconds(2);

        // botocore: 2 s timeout, 3 attempts, 1 s apart. Client errors (4xx) are not retried.
        http_fetch_response resp;
        error_code ec;
        auto ex = co_await asio::this_coro::executor;
        for (int attempt = 1;; ++attempt) {
            resp = {};
            ec = co_await http_fetch(req, resp);
            if (!ec && !retryable_status(resp.status)) break;
            if (attempt == 3) break;
            asio::steady_timer t(ex, std::chrono::seconds(1));
            error_code wec;
            co_await t.async_wait(asio::redirect_error(asio::use_awaitable, wec));
        }
        const std::string where = "container endpoint (" + source + ", " + req.host + ":" + req.port + ")";
        if (ec)
            co_return credentials_failed(why, where + " could not be reached: " +
                                                  (resp.error_detail.empty() ? describe(ec) : resp.error_detail));
        if (resp.status != 200)
            co_return credentials_failed(why, where + " answered HTTP " + std::to_string(resp.status));
        resolved_credentials r;
        std::string jwhy;
        if (error_code jec = parse_credentials_json(resp.body, "Token", false, r, jwhy)) {
            why = where + ": " + jwhy;
            co_return jec;
        }
        out.value = std::move(r.value);
        out.expiration = r.expiration;
        out.source = "container (" + source + ")";
        co_return error_code{};
    }

private:
    env_lookup env_;
};

class imds_provider final : public credentials_provider {
public:
    explicit imds_provider(env_lookup env) : env_(std::move(env)) {}
    const char* name() const noexcept override { return "imds"; }
    bool nothing_to_do(std::string& why) override {
        const char* d = env_ ? env_("AWS_EC2_METADATA_DISABLED") : nullptr;
        if (!d || to_lower(d) == "false") return false;
        why = "disabled by AWS_EC2_METADATA_DISABLED";
        return true;
    }

    asio::awaitable<error_code> async_get(resolved_credentials& out, std::string& why) override {
        // The JS SDK's rule: anything but "false" turns IMDS off (botocore: "true").
        if (const char* d = env_ ? env_("AWS_EC2_METADATA_DISABLED") : nullptr; d && to_lower(d) != "false") {
            co_return no_credentials_found(why, "disabled by AWS_EC2_METADATA_DISABLED");
        }
        http_fetch_request base;
        if (error_code ec = configure(base, why)) co_return ec;

        http_fetch_response resp;
        // (Arguments named, not temporaries: GCC 12 may destroy temporaries of a co_await
        // expression twice.)
        const std::string roles_path = "/latest/meta-data/iam/security-credentials/";
        error_code ec = co_await get(base, roles_path, resp, why);
        if (ec) co_return ec;
        if (resp.status == 404) {
            co_return no_credentials_found(why, where_ + ": no IAM role is attached to this instance (HTTP 404)");
        }
        if (resp.status != 200)
            co_return credentials_failed(
                why, where_ + ": the role name request answered HTTP " + std::to_string(resp.status));
        std::string role = resp.body.substr(0, resp.body.find_first_of("\r\n"));
        if (role.empty()) co_return credentials_failed(why, where_ + ": the role name is empty");
        const std::string role_path = roles_path + role;
        ec = co_await get(base, role_path, resp, why);
        if (ec) co_return ec;
        if (resp.status != 200)
            co_return credentials_failed(why, where_ + ": the credentials request for role " + role +
                                                  " answered HTTP " + std::to_string(resp.status));
        resolved_credentials r;
        std::string jwhy;
        if (error_code jec = parse_credentials_json(resp.body, "Token", false, r, jwhy)) {
            why = where_ + ": " + jwhy;
            co_return jec;
        }
        if (r.value.session_token.empty() || !r.expiration)
            co_return credentials_failed(why, where_ + ": the credentials have no Token or no Expiration");
        out.value = std::move(r.value);
        out.expiration = r.expiration;
        out.source = "imds (role " + role + ")";
        co_return error_code{};
    }

private:
    // The endpoint, timeout, attempts and IMDSv1 settings (each: the variable, else the profile's
    // key, botocore's names) into `base` and the members.
    error_code configure(http_fetch_request& base, std::string& why) {
        profile_settings prof;
        try {
            prof = load_profile({}, "", env_);
        } catch (const std::system_error&) {
            // a broken or missing profile leaves only the variables (its problems are reported elsewhere)
        }
        const auto setting = [&](const char* var, const char* key, std::string& from) {
            std::string v = env_value(env_, var);
            from = var;
            if (v.empty())
                if (const ini_value* pv = prof.get(key)) {
                    v = pv->value;
                    from = std::string(key) + " (profile " + prof.name + ", " + pv->file + " line " +
                           std::to_string(pv->line) + ")";
                }
            return v;
        };
        std::string endpoint_from, mode_from;
        std::string endpoint =
            setting("AWS_EC2_METADATA_SERVICE_ENDPOINT", "ec2_metadata_service_endpoint", endpoint_from);
        if (endpoint.empty()) {
            const std::string mode = to_lower(
                setting("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "ec2_metadata_service_endpoint_mode", mode_from));
            if (mode.empty() || mode == "ipv4")
                endpoint = "http://169.254.169.254";
            else if (mode == "ipv6")
                endpoint = "http://[fd00:ec2::254]";
            else
                return credentials_failed(why, mode_from + " must be IPv4 or IPv6");
        }
        bool https = false;
        std::string uwhy;
        if (!parse_fetch_url(endpoint, base, https, uwhy) || https)
            return credentials_failed(
                why, endpoint_from + " is not a usable http URL" + (uwhy.empty() ? std::string() : ": " + uwhy));
        prefix_ = base.target == "/" ? std::string() : base.target;
        while (!prefix_.empty() && prefix_.back() == '/') prefix_.pop_back();
        base.target.clear();
        unsigned timeout_s = 1, attempts = 1;
        std::string timeout_from, attempts_from, v1_from;
        const std::string timeout_text =
            setting("AWS_METADATA_SERVICE_TIMEOUT", "metadata_service_timeout", timeout_from);
        const std::string attempts_text =
            setting("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "metadata_service_num_attempts", attempts_from);
        if (!parse_positive(timeout_text, timeout_from, timeout_s, why) ||
            !parse_positive(attempts_text, attempts_from, attempts, why))
            return make_error_code(client_errc::credentials_error);
        base.timeout = std::chrono::seconds(timeout_s);
        attempts_ = attempts;
        v1_disabled_ = to_lower(setting("AWS_EC2_METADATA_V1_DISABLED", "ec2_metadata_v1_disabled", v1_from)) == "true";
        where_ = "IMDS at " + endpoint;
        if (base.host != host_ || base.port != port_) token_.clear();  // another endpoint: another token
        host_ = base.host;
        port_ = base.port;
        return {};
    }

    static bool parse_positive(const std::string& s, const std::string& var, unsigned& v, std::string& why) {
        if (s.empty()) return true;
        unsigned x = 0;
        for (char c : s) {
            if (c < '0' || c > '9' || x > 100000) {
                why = var + " must be a positive integer";
                return false;
            }
            x = x * 10 + static_cast<unsigned>(c - '0');
        }
        if (x == 0) {
            why = var + " must be a positive integer";
            return false;
        }
        v = x;
        return true;
    }

    // One request with the configured attempts; transport errors after the last attempt make IMDS
    // "not reachable" (no_credentials: not on EC2).
    asio::awaitable<error_code> fetch(const http_fetch_request& req, http_fetch_response& resp, std::string& why) {
        error_code ec;
        for (unsigned a = 1; a <= attempts_; ++a) {
            resp = {};
            ec = co_await http_fetch(req, resp);
            if (!ec && !retryable_status(resp.status)) co_return error_code{};
        }
        if (!ec) co_return error_code{};  // a 5xx after the last attempt: the caller reports the status
        last_transport_ec_ = ec;
        co_return no_credentials_found(why, where_ + " not reachable: " + describe(ec));
    }

    // The session token (IMDSv2), fetched when there is none or it is about to expire.
    asio::awaitable<error_code> ensure_token(const http_fetch_request& base, std::string& why) {
        if (!token_.empty() && std::chrono::steady_clock::now() < token_expiry_) co_return error_code{};
        token_.clear();
        http_fetch_request req = base;
        req.method = "PUT";
        req.target = prefix_ + "/latest/api/token";
        req.headers.emplace_back("x-aws-ec2-metadata-token-ttl-seconds", std::to_string(token_ttl_seconds));
        http_fetch_response resp;
        const auto asked = std::chrono::steady_clock::now();
        error_code ec = co_await fetch(req, resp, why);
        const bool timed_out = ec && last_transport_ec_ == boost::beast::error::timeout;
        if (ec && !timed_out) co_return ec;
        if (!ec && resp.status == 200 && !resp.body.empty()) {
            token_ = resp.body;
            // Renewed one minute before its TTL (measured from when it was asked for).
            token_expiry_ = asked + std::chrono::seconds(token_ttl_seconds - 60);
            co_return error_code{};
        }
        if (!ec && resp.status == 400) {
            co_return credentials_failed(why, where_ + ": the token request was refused (HTTP 400)");
        }
        // 403 / 404 / 405 or a timeout: IMDSv1 (no token), unless turned off.
        if (v1_disabled_) {
            co_return credentials_failed(
                why, where_ + ": no IMDSv2 token (" + (ec ? why : "HTTP " + std::to_string(resp.status)) +
                         ") and the IMDSv1 fallback is disabled by AWS_EC2_METADATA_V1_DISABLED");
        }
        co_return error_code{};
    }

    // GET path with the token; a 401 means the token expired: a new one, once.
    asio::awaitable<error_code> get(const http_fetch_request& base, const std::string& path, http_fetch_response& resp,
                                    std::string& why) {
        for (int round = 0; round < 2; ++round) {
            if (error_code ec = co_await ensure_token(base, why)) co_return ec;
            http_fetch_request req = base;
            req.target = prefix_ + path;
            if (!token_.empty()) req.headers.emplace_back("x-aws-ec2-metadata-token", token_);
            if (error_code ec = co_await fetch(req, resp, why)) co_return ec;
            if (resp.status != 401) co_return error_code{};
            token_.clear();
        }
        co_return error_code{};  // 401 twice: reported by the caller as that status
    }

    static constexpr unsigned token_ttl_seconds = 21600;
    env_lookup env_;
    // State across fetches (one fetch at a time: the cache's single flight).
    std::string token_;
    error_code last_transport_ec_;
    std::chrono::steady_clock::time_point token_expiry_{};
    std::string host_, port_, prefix_, where_;
    unsigned attempts_ = 1;
    bool v1_disabled_ = false;
};

}  // namespace

std::unique_ptr<credentials_provider> make_container_provider(env_lookup env) {
    return std::make_unique<container_provider>(std::move(env));
}

std::unique_ptr<credentials_provider> make_imds_provider(env_lookup env) {
    return std::make_unique<imds_provider>(std::move(env));
}

}  // namespace iotjobs::detail
