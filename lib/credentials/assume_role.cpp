// Assume-role profiles: STS AssumeRole (Query protocol, XML answer) signed with SigV4 for "sts"
// with the source credentials (a source profile's keys, a chained role, or a credential_source).
#include "credentials/http_fetch.hpp"
#include "credentials/parse.hpp"
#include "credentials/provider.hpp"

#include "endpoint/profile.hpp"
#include "endpoint/resolve.hpp"
#include "sigv4/sigv4.hpp"
#include "util/encoding.hpp"
#include "util/secret.hpp"

#include <boost/asio/this_coro.hpp>

#include <openssl/evp.h>

#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace iotjobs::detail {

namespace asio = boost::asio;

namespace {

std::string form_encode(std::string_view v) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : v) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

std::string where(const ini_value& v) { return v.file + " line " + std::to_string(v.line); }

// The request for an AWS service the providers call (STS, the SSO portal): its configured endpoint
// (configured_endpoint_url), else https://{host_prefix}.{region}.amazonaws.com (.com.cn for cn-
// regions), with the CA bundle of AWS_CA_BUNDLE, else the profile's ca_bundle. On an unusable URL,
// credentials_error with `why` naming the endpoint and where it came from.
error_code service_fetch_request(const env_lookup& env, const profile_settings& p, std::string_view id,
                                 std::string_view config_key, std::string_view host_prefix, const std::string& region,
                                 http_fetch_request& req, std::string& why) {
    sourced<std::string> url;
    try {
        url = configured_endpoint_url(env, p, id, config_key, nullptr);
    } catch (const std::system_error& e) {
        return credentials_failed(why, e.what());
    }
    if (url.value.empty())
        url.value = "https://" + std::string(host_prefix) + "." + region +
                    (region.rfind("cn-", 0) == 0 ? ".amazonaws.com.cn" : ".amazonaws.com");
    bool https = false;
    std::string uwhy;
    if (!parse_fetch_url(url.value, req, https, uwhy)) {
        return credentials_failed(why, std::string(id) + " endpoint " + url.value + " (" + url.source.describe() +
                                           ") is not usable: " + uwhy);
    }
    req.tls = https;
    req.ca_bundle = ca_bundle_setting(env, p).value;
    req.env = &env;
    return {};
}

// One STS call (Query protocol, POST form body): signed with `signer` for "sts" (AssumeRole), or
// unsigned (AssumeRoleWithWebIdentity). Endpoint and region: see make_assume_role_provider.
asio::awaitable<error_code> call_sts(const env_lookup& env_, const profile_settings& p, std::string_view action,
                                     const std::string& role_arn, const std::string& body, const credentials* signer,
                                     resolved_credentials& out, std::string& why) {
    const std::string prof = p.name.empty() ? std::string("environment") : "profile " + p.name;
    // Region and endpoint (AWS-BEHAVIOUR.md d.3 order, for the service id "STS").
    std::string region;
    try {
        region = region_setting(env_, p).value;
    } catch (const std::system_error& e) {
        co_return credentials_failed(why, e.what());
    }
    if (region.empty()) region = "us-east-1";
    http_fetch_request req;
    if (error_code uec = service_fetch_request(env_, p, "STS", "sts", "sts", region, req, why)) co_return uec;
    std::string query;
    if (auto q = req.target.find('?'); q != std::string::npos) query = req.target.substr(q + 1);
    const std::string path = req.target.substr(0, req.target.find('?'));

    req.method = "POST";
    req.body = body;
    wipe_on_exit wipe_body{&req.body};  // a web identity token travels in it
    req.timeout = std::chrono::seconds(10);

    const bool v6 = req.host.find(':') != std::string::npos;
    std::string host = v6 ? "[" + req.host + "]" : req.host;
    if (req.port != (req.tls ? "443" : "80")) host += ":" + req.port;
    const auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    const std::string date = sigv4::amz_date(now);
    const std::string content_type = "application/x-www-form-urlencoded; charset=utf-8";
    req.headers = {{"Content-Type", content_type}};
    if (signer) {
        const credentials& src = *signer;
        std::vector<sigv4::header> hdrs{{"host", host}, {"content-type", content_type}, {"x-amz-date", date}};
        if (!src.session_token.empty()) hdrs.push_back({"x-amz-security-token", src.session_token});
        sigv4::signing_input in;
        in.request.method = "POST";
        in.request.path = path;
        in.request.query = query;
        in.request.headers = hdrs;
        in.request.payload = body;
        in.credentials = {src.access_key_id, src.secret_access_key, src.session_token};
        in.region = region;
        in.service = "sts";
        in.time = now;
        const sigv4::signing_result signed_req = sigv4::sign_headers(in);
        req.headers.emplace_back("X-Amz-Date", date);
        if (!src.session_token.empty()) req.headers.emplace_back("X-Amz-Security-Token", src.session_token);
        req.headers.emplace_back("Authorization", signed_req.authorization);
    }

    const std::string what =
        "STS " + std::string(action) + " of " + role_arn + " (" + prof + ", " + req.host + ":" + req.port + ")";
    http_fetch_response resp;
    const error_code ec = co_await http_fetch_retrying(req, resp);
    if (ec) co_return credentials_failed(why, what + ": " + fetch_error_text(ec, resp));
    if (resp.status != 200) {
        co_return credentials_failed(why,
                                     what + ": HTTP " + std::to_string(resp.status) + sts_error_summary(resp.body));
    }
    std::string pwhy;
    if (!parse_sts_credentials_xml(resp.body, out, pwhy)) co_return credentials_failed(why, what + ": " + pwhy);
    out.source =
        std::string(action == "AssumeRole" ? "assume-role (" : "web-identity (") + prof + ", " + role_arn + ")";
    co_return error_code{};
}

// An assume-role profile: role_arn with a source (a role_arn with web_identity_token_file and no
// source is a web identity profile).
bool is_assume_role_profile(const profile_settings& p) {
    return (p.get("role_arn") && !p.get("web_identity_token_file")) || p.get("source_profile") ||
           p.get("credential_source");
}

asio::awaitable<error_code> assume_role(const env_lookup& env, const profile_settings& p,
                                        std::set<std::string>& visited, resolved_credentials& out, std::string& why);

// The credentials named by credential_source (Environment, EcsContainer, Ec2InstanceMetadata).
asio::awaitable<error_code> from_credential_source(const env_lookup& env, const std::string& prof,
                                                   const ini_value& credential_source, resolved_credentials& source,
                                                   std::string& why) {
    const std::string kind = credential_source.value;
    std::unique_ptr<credentials_provider> sp;
    if (kind == "Environment")
        sp = make_environment_provider(env);
    else if (kind == "EcsContainer")
        sp = make_container_provider(env);
    else if (kind == "Ec2InstanceMetadata")
        sp = make_imds_provider(env);
    else
        co_return credentials_failed(why, prof + " (" + where(credential_source) +
                                              "): credential_source must be Environment, "
                                              "EcsContainer or Ec2InstanceMetadata, got \"" +
                                              kind + "\"");
    std::string swhy;
    const error_code ec = co_await sp->async_get(source, swhy);  // a synchronous provider's calls get()
    if (ec) co_return credentials_failed(why, prof + ": credential_source " + kind + " gave no credentials: " + swhy);
    co_return error_code{};
}

// The credentials of source_profile: another role (chained; a cycle is refused), its static
// keys, or its credential_process.
asio::awaitable<error_code> from_source_profile(const env_lookup& env, const profile_settings& p,
                                                const ini_value& source_profile, std::set<std::string>& visited,
                                                resolved_credentials& source, std::string& why) {
    const std::string prof = "profile " + p.name;
    const std::string& sname = source_profile.value;
    profile_settings sp;
    try {
        sp = load_profile(sname, "source_profile of " + prof, env);
    } catch (const std::system_error& e) {
        co_return credentials_failed(why, e.what());
    }
    if (sp.get("role_arn") && sname != p.name) {
        if (!visited.insert(sname).second)
            co_return credentials_failed(why, prof + " (" + where(source_profile) + "): source_profile " + sname +
                                                  " makes a cycle of assume-role profiles");
        co_return co_await assume_role(env, sp, visited, source, why);
    }
    auto key = [&](const char* k) -> const ini_value* {
        auto it = sp.credential_values.find(k);
        return it == sp.credential_values.end() || it->second.value.empty() ? nullptr : &it->second;
    };
    const ini_value* akid = key("aws_access_key_id");
    const ini_value* secret = key("aws_secret_access_key");
    if (akid && secret) {
        source.value.access_key_id = akid->value;
        source.value.secret_access_key = secret->value;
        const ini_value* token = key("aws_session_token");
        if (token) source.value.session_token = token->value;
    } else if (sp.get("credential_process")) {
        auto proc = make_process_provider(sname, env);
        std::string pwhy;
        if (error_code pec = co_await proc->async_get(source, pwhy))
            co_return credentials_failed(why, prof + ": source_profile " + sname + ": " + pwhy);
    } else {
        co_return credentials_failed(why,
                                     prof + " (" + where(source_profile) + "): source_profile " + sname +
                                         " has no aws_access_key_id / aws_secret_access_key nor credential_process "
                                         "(static keys, credential_process or another role_arn can be a source)");
    }
    co_return error_code{};
}

// The AssumeRole request body: role, session name, external_id, duration_seconds.
error_code assume_role_body(const profile_settings& p, const std::string& role_arn, std::string& body,
                            std::string& why) {
    std::string session = "iotjobs-session-" + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                                                  std::chrono::system_clock::now().time_since_epoch())
                                                                  .count());
    if (const ini_value* v = p.get("role_session_name")) session = v->value;
    body = "Action=AssumeRole&Version=2011-06-15&RoleArn=" + form_encode(role_arn) +
           "&RoleSessionName=" + form_encode(session);
    if (const ini_value* v = p.get("external_id")) body += "&ExternalId=" + form_encode(v->value);
    if (const ini_value* v = p.get("duration_seconds")) {
        try {
            profile_positive(p, "duration_seconds", *v);
        } catch (const std::system_error& e) {
            return credentials_failed(why, e.what());
        }
        body += "&DurationSeconds=" + v->value;
    }
    return {};
}

// The credentials of profile p's role (p has role_arn).
asio::awaitable<error_code> assume_role(const env_lookup& env, const profile_settings& p,
                                        std::set<std::string>& visited, resolved_credentials& out, std::string& why) {
    const ini_value* role_arn = p.get("role_arn");
    const ini_value* source_profile = p.get("source_profile");
    const ini_value* credential_source = p.get("credential_source");
    const std::string prof = "profile " + p.name;
    if (!role_arn)
        co_return credentials_failed(
            why, prof + " (" + where(*credential_source) + ") has credential_source but no role_arn");
    if (const ini_value* mfa = p.get("mfa_serial"))
        co_return credentials_failed(
            why, prof + " (" + where(*mfa) + ") uses mfa_serial: this client cannot prompt for an MFA code");
    if (source_profile && credential_source)
        co_return credentials_failed(why, prof + " has both source_profile and credential_source");
    if (!source_profile && !credential_source)
        co_return credentials_failed(
            why, prof + " (" + where(*role_arn) + ") has role_arn but neither source_profile nor credential_source");

    resolved_credentials source;
    error_code sec = credential_source ? co_await from_credential_source(env, prof, *credential_source, source, why)
                                       : co_await from_source_profile(env, p, *source_profile, visited, source, why);
    if (sec) co_return sec;
    std::string body;
    if (error_code bec = assume_role_body(p, role_arn->value, body, why)) co_return bec;
    error_code ec = co_await call_sts(env, p, "AssumeRole", role_arn->value, body, &source.value, out, why);
    co_return ec;
}

asio::awaitable<error_code> get_assume_role_credentials(const profile_settings& p, const env_lookup& env,
                                                        resolved_credentials& out, std::string& why) {
    std::set<std::string> visited{p.name};
    error_code ec = co_await assume_role(env, p, visited, out, why);
    co_return ec;
}

constexpr profile_source assume_role_source{"assume-role", is_assume_role_profile,
                                            " has no role_arn with a source_profile or credential_source",
                                            get_assume_role_credentials};

// Web identity: AWS_WEB_IDENTITY_TOKEN_FILE / AWS_ROLE_ARN / AWS_ROLE_SESSION_NAME, else the
// profile's web_identity_token_file / role_arn / role_session_name (botocore reads the variables
// first). The token file is re-read on every fetch (it rotates); the call is not signed.
class web_identity_provider final : public credentials_provider {
public:
    web_identity_provider(std::string profile, env_lookup env) : profile_(std::move(profile)), env_(std::move(env)) {}
    const char* name() const noexcept override { return "web-identity"; }

    bool nothing_to_do(std::string& why) override {
        if (!env_value(env_, "AWS_WEB_IDENTITY_TOKEN_FILE").empty()) return false;
        try {
            profile_settings p = load_profile(profile_, "client_config.profile", env_);
            if (p.get("web_identity_token_file")) return false;
        } catch (const std::system_error&) {
            // the profile's problems are reported by the providers that need it
        }
        why = "AWS_WEB_IDENTITY_TOKEN_FILE is not set and the profile has no web_identity_token_file";
        return true;
    }

    asio::awaitable<error_code> async_get(resolved_credentials& out, std::string& why) override {
        profile_settings p;
        try {
            p = load_profile(profile_, "client_config.profile", env_);
        } catch (const std::system_error&) {
            p = {};
        }
        std::string token_file = env_value(env_, "AWS_WEB_IDENTITY_TOKEN_FILE");
        std::string role_arn, session, source;
        if (!token_file.empty()) {
            role_arn = env_value(env_, "AWS_ROLE_ARN");
            session = env_value(env_, "AWS_ROLE_SESSION_NAME");
            source = "AWS_WEB_IDENTITY_TOKEN_FILE";
            if (role_arn.empty())
                co_return credentials_failed(why, "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not");
            p.name.clear();  // the variables, not the profile (messages say "environment")
        } else if (const ini_value* f = p.get("web_identity_token_file")) {
            token_file = f->value;
            const ini_value* r = p.get("role_arn");
            if (!r)
                co_return credentials_failed(
                    why, "profile " + p.name + " (" + where(*f) + ") has web_identity_token_file but no role_arn");
            role_arn = r->value;
            if (const ini_value* n = p.get("role_session_name")) session = n->value;
        } else {
            co_return no_credentials_found(
                why, "AWS_WEB_IDENTITY_TOKEN_FILE is not set and the profile has no web_identity_token_file");
        }
        std::string token;
        std::string body;
        wipe_on_exit wipe{&token, &body};  // the token, and the request body that carries it
        if (!read_secret_file(token_file, token))
            co_return credentials_failed(why, "cannot read the web identity token file " + token_file);
        while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
        if (token.empty()) co_return credentials_failed(why, "the web identity token file " + token_file + " is empty");
        if (session.empty())
            session = "iotjobs-web-identity-" + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                                                   std::chrono::system_clock::now().time_since_epoch())
                                                                   .count());
        body = "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=" + form_encode(role_arn) +
               "&RoleSessionName=" + form_encode(session) + "&WebIdentityToken=" + form_encode(token);
        error_code ec = co_await call_sts(env_, p, "AssumeRoleWithWebIdentity", role_arn, body, nullptr, out, why);
        co_return ec;
    }

private:
    std::string profile_;
    env_lookup env_;
};

// IAM Identity Center (SSO): a profile with sso_account_id / sso_role_name, its sso_start_url /
// sso_region directly (legacy) or through sso_session -> [sso-session NAME]; the access token
// from HOME/.aws/sso/cache/<sha1(session name, else start URL)>.json ("aws sso login" writes it);
// then GetRoleCredentials (unsigned; x-amz-sso_bearer_token) at AWS_ENDPOINT_URL_SSO /
// AWS_ENDPOINT_URL / [services] sso / endpoint_url, else https://portal.sso.{sso_region}.amazonaws.com.
// An expired token is not refreshed here (no SSO-OIDC CreateToken yet): the error says to log in.
bool is_sso_profile(const profile_settings& p) { return p.get("sso_account_id") || p.get("sso_role_name"); }

constexpr const char* sso_login_message =
    "The SSO session associated with this profile has expired or is otherwise invalid. To refresh this SSO "
    "session run aws sso login with the corresponding profile.";

std::string sha1_hex(std::string_view s) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(s.data(), s.size(), md, &n, EVP_sha1(), nullptr);
    return hex_lower(std::string_view(reinterpret_cast<const char*>(md), n));
}

// IAM Identity Center: the role credentials of the profile's (or its sso-session's) account and role.
asio::awaitable<error_code> get_sso_credentials(const profile_settings& p, const env_lookup& env,
                                                resolved_credentials& out, std::string& why) {
    std::map<std::string, std::string> cfg;
    for (const char* k : {"sso_start_url", "sso_region", "sso_account_id", "sso_role_name"})
        if (const ini_value* v = p.get(k)) cfg[k] = v->value;
    std::string session;
    if (const ini_value* s = p.get("sso_session")) {
        session = s->value;
        ini_sections file;
        try {
            file = read_ini_file(p.config_path);
        } catch (const std::system_error& e) {
            co_return credentials_failed(why, e.what());
        }
        auto sec = file.find("sso-session " + session);
        if (sec == file.end())
            co_return credentials_failed(why, "The specified sso-session does not exist: \"" + session +
                                                  "\" (profile " + p.name + ", " + where(*s) + ")");
        for (const auto& [k, v] : sec->second) {
            auto [it, fresh] = cfg.emplace(k, v.value);
            if (!fresh && it->second != v.value)
                co_return credentials_failed(why, "The value for " + k + " is inconsistent between profile " + p.name +
                                                      " and sso-session " + session);
        }
    }
    std::string missing;
    for (const char* k : {"sso_role_name", "sso_account_id", "sso_start_url", "sso_region"})
        if (cfg[k].empty()) missing += (missing.empty() ? "" : ", ") + std::string(k);
    if (!missing.empty())
        co_return credentials_failed(
            why, "The profile \"" + p.name +
                     "\" is configured to use SSO but is missing required configuration: " + missing);

    // The cached access token.
    const std::string home = env_value(env, "HOME");
    if (home.empty())
        co_return credentials_failed(why, "HOME is not set: cannot find the SSO token cache (~/.aws/sso/cache)");
    const std::string key = sha1_hex(session.empty() ? cfg["sso_start_url"] : session);
    const std::string path = home + "/.aws/sso/cache/" + key + ".json";
    std::string file, token;
    wipe_on_exit wipe{&file, &token};  // the cache file's text and the token (and its header, below)
    if (!read_secret_file(path, file))
        co_return credentials_failed(why, "No SSO token for " +
                                              (session.empty() ? cfg["sso_start_url"] : "sso-session " + session) +
                                              " (" + path + "): run aws sso login with profile " + p.name);
    std::optional<std::chrono::system_clock::time_point> expires;
    if (!parse_sso_token_cache(file, token, expires))
        co_return credentials_failed(why, "The SSO token cache file " + path + " is invalid (accessToken / expiresAt)");
    if (!expires || *expires <= std::chrono::system_clock::now()) co_return credentials_failed(why, sso_login_message);

    http_fetch_request req;
    if (error_code uec = service_fetch_request(env, p, "SSO", "sso", "portal.sso", cfg["sso_region"], req, why))
        co_return uec;
    std::string base = req.target.substr(0, req.target.find('?'));
    while (!base.empty() && base.back() == '/') base.pop_back();
    req.target = base + "/federation/credentials?account_id=" + form_encode(cfg["sso_account_id"]) +
                 "&role_name=" + form_encode(cfg["sso_role_name"]);
    req.headers = {{"x-amz-sso_bearer_token", token}};
    wipe_on_exit wipe_header{&req.headers.back().second};  // declared after req: runs before req goes
    req.timeout = std::chrono::seconds(10);
    const std::string what = "SSO GetRoleCredentials (profile " + p.name + ", role " + cfg["sso_role_name"] +
                             ", account " + cfg["sso_account_id"] + ", " + req.host + ":" + req.port + ")";
    http_fetch_response resp;
    const error_code ec = co_await http_fetch_retrying(req, resp);
    if (ec) co_return credentials_failed(why, what + ": " + fetch_error_text(ec, resp));
    if (resp.status == 401 || resp.status == 403)
        co_return credentials_failed(why, what + ": HTTP " + std::to_string(resp.status) + ": " + sso_login_message);
    if (resp.status != 200) co_return credentials_failed(why, what + ": HTTP " + std::to_string(resp.status));
    if (!parse_role_credentials_json(resp.body, out))
        co_return credentials_failed(
            why, what + ": the answer has no roleCredentials (accessKeyId, secretAccessKey, expiration)");
    out.source = "sso (profile " + p.name + ", role " + cfg["sso_role_name"] + ")";
    co_return error_code{};
}

constexpr profile_source sso_source{"sso", is_sso_profile, " has no sso_account_id / sso_role_name",
                                    get_sso_credentials};

}  // namespace

std::unique_ptr<credentials_provider> make_sso_provider(std::string profile, env_lookup env) {
    return std::make_unique<profile_driven_provider>(sso_source, std::move(profile), std::move(env));
}

std::unique_ptr<credentials_provider> make_web_identity_provider(std::string profile, env_lookup env) {
    return std::make_unique<web_identity_provider>(std::move(profile), std::move(env));
}

std::unique_ptr<credentials_provider> make_assume_role_provider(std::string profile, env_lookup env) {
    return std::make_unique<profile_driven_provider>(assume_role_source, std::move(profile), std::move(env));
}

}  // namespace iotjobs::detail
