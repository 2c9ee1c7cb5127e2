#include "fake/service.hpp"

#include "fake/util.hpp"
#include "util/encoding.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <cmath>
#include <cstring>
#include <ctime>
#include <thread>

namespace iotjobs::fake::detail {

namespace {

constexpr std::array<std::string_view, outcome_count> outcome_names{
    "ok",
    "InvalidRequestException",
    "InvalidStateTransitionException",
    "ResourceNotFoundException",
    "ThrottlingException",
    "ServiceUnavailableException",
    "VersionConflictException",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "IncompleteSignatureException",
    "MissingAuthenticationTokenException",
    "UnknownOperationException",
    "no_response",
};

int status_of(outcome o) noexcept {
    switch (o) {
    case outcome::ok: return 200;
    case outcome::invalid_request:
    case outcome::throttling: return 400;
    case outcome::invalid_state_transition:
    case outcome::version_conflict: return 409;
    case outcome::resource_not_found:
    case outcome::unknown_operation: return 404;
    case outcome::service_unavailable: return 503;
    case outcome::unrecognized_client:
    case outcome::invalid_signature:
    case outcome::incomplete_signature:
    case outcome::missing_authentication_token: return 403;
    case outcome::no_response: return 0;
    }
    return 500;
}

std::string_view reason_of(int status) noexcept {
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 409: return "Conflict";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
    }
}

constexpr std::string_view signature_mismatch =
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
    "Access Key and signing method. Consult the service documentation for details.";
constexpr std::string_view invalid_token = "The security token included in the request is invalid.";

// "Date: Tue, 02 Jan 2024 03:04:05 GMT", cached per thread per second.
std::string_view http_date(std::chrono::sys_seconds now) {
    thread_local std::int64_t cached = -1;
    thread_local char buf[40];
    thread_local std::size_t len = 0;
    auto secs = now.time_since_epoch().count();
    if (secs != cached) {
        std::time_t t = static_cast<std::time_t>(secs);
        std::tm tm{};
        gmtime_r(&t, &tm);
        static constexpr const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
        static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
        int n = std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
                              months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
        len = n > 0 ? static_cast<std::size_t>(n) : 0;
        cached = secs;
    }
    return {buf, len};
}

void append_request_id(std::string& out) {
    thread_local splitmix64 rng{
        static_cast<std::uint64_t>(std::hash<std::thread::id>{}(std::this_thread::get_id())) ^
        static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())};
    static constexpr char hex[] = "0123456789abcdef";
    std::uint64_t a = rng.next(), b = rng.next();
    char id[36];
    int k = 0;
    for (int i = 0; i < 32; ++i) {
        if (i == 8 || i == 12 || i == 16 || i == 20) id[k++] = '-';
        std::uint64_t w = i < 16 ? a : b;
        id[k++] = hex[(w >> ((i % 16) * 4)) & 15];
    }
    out.append(id, 36);
}

std::uint32_t token_mac(std::string_view s) {
    std::uint64_t h = 0x6a09e667f3bcc909ULL;
    for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
    return static_cast<std::uint32_t>(h ^ (h >> 32));
}

// Opaque nextToken: base64("<kind>:<id>:<number>:<mac>"). Kind 'J' (ForJob) or 'T' (ForThing).
std::string encode_token(char kind, const cursor& c) {
    std::string s(1, kind);
    s += ':' + std::to_string(c.id) + ':' + std::to_string(c.number);
    s += ':' + std::to_string(token_mac(s));
    return iotjobs::detail::base64_encode(s);
}

std::optional<cursor> decode_token(char kind, std::string_view token) {
    auto decoded = iotjobs::detail::base64_decode(token);
    if (!decoded) return std::nullopt;
    const std::string& raw = *decoded;
    auto last = raw.rfind(':');
    if (raw.size() < 2 || raw[0] != kind || last == std::string::npos) return std::nullopt;
    auto body = std::string_view(raw).substr(0, last);
    auto mac = parse_i64(std::string_view(raw).substr(last + 1));
    if (!mac || static_cast<std::uint32_t>(*mac) != token_mac(body) || *mac < 0 || *mac > UINT32_MAX)
        return std::nullopt;
    auto p1 = body.find(':');
    auto p2 = body.find(':', p1 + 1);
    if (p1 != 1 || p2 == std::string_view::npos) return std::nullopt;
    auto id = parse_i64(body.substr(p1 + 1, p2 - p1 - 1));
    auto num = parse_i64(body.substr(p2 + 1));
    if (!id || !num || *id < 0 || *id > UINT32_MAX) return std::nullopt;
    return cursor{static_cast<std::uint32_t>(*id), *num};
}

struct query_params {
    std::optional<std::string> force, namespace_id, max_results, next_token, status, job_id, execution_number;
};

// The query parameters the operations read, by their wire names; others are ignored.
constexpr std::pair<std::string_view, std::optional<std::string> query_params::*> query_fields[] = {
    {"force", &query_params::force},
    {"namespaceId", &query_params::namespace_id},
    {"maxResults", &query_params::max_results},
    {"nextToken", &query_params::next_token},
    {"status", &query_params::status},
    {"jobId", &query_params::job_id},
    {"executionNumber", &query_params::execution_number},
};

bool parse_query(std::string_view q, query_params& out) {
    std::string key, value;
    while (!q.empty()) {
        auto amp = q.find('&');
        auto part = q.substr(0, amp);
        q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
        if (part.empty()) continue;
        auto eq = part.find('=');
        if (!percent_decode(part.substr(0, eq), key)) return false;
        if (!percent_decode(eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1), value))
            return false;
        for (const auto& [name, field] : query_fields)
            if (key == name) out.*field = value;
    }
    return true;
}

void append_arn(std::string& out, std::string_view region, std::string_view account, std::string_view thing) {
    out += "\"arn:aws:iot:";
    out += region;
    out += ':';
    out += account;
    out += ":thing/";
    out += thing;  // thing names are [a-zA-Z0-9:_-]: nothing to escape
    out += '"';
}

void append_summary(std::string& out, const record& r) {
    out += '{';
    json_members m(out);
    m.string("status", to_string(r.st())).integer("queuedAt", r.queued_at);
    if (r.started_at) m.integer("startedAt", r.started_at);
    m.integer("lastUpdatedAt", r.updated_at).integer("executionNumber", r.number).integer("retryAttempt", 0);
    out += '}';
}

bool terminal(execution_status s) noexcept {
    switch (s) {
    case execution_status::succeeded:
    case execution_status::failed:
    case execution_status::rejected:
    case execution_status::removed:
    case execution_status::canceled:
    case execution_status::timed_out: return true;
    default: return false;
    }
}

std::string describe_key(std::string_view thing, std::string_view job, std::string_view number) {
    std::string s = "thingName ";
    s += thing;
    s += ", jobId ";
    s += job;
    if (!number.empty()) {
        s += ", executionNumber ";
        s += number;
    }
    return s;
}

}  // namespace

std::string_view to_string(outcome o) noexcept { return outcome_names[static_cast<int>(o)]; }

service::service(const server_options& opts)
    : credentials_(opts.credentials), account_id_(opts.account_id), max_skew_(opts.max_skew) {
    clock_offset_.store(opts.clock_offset.count());
    rate_scope_ = opts.rate_scope;
    set_rate_limits(opts.rate_limits);
    set_faults(opts.faults, opts.fault_seed);
}

std::chrono::sys_seconds service::now() const {
    return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()) +
           std::chrono::seconds(clock_offset_.load(std::memory_order_relaxed));
}

// ----------------------------------------------------------------------------- admission

void service::admit(const request_in& req, plan& p) {
    p.reset();
    auto qpos = req.target.find('?');
    auto path = req.target.substr(0, qpos);
    auto query = qpos == std::string_view::npos ? std::string_view{} : req.target.substr(qpos + 1);
    if (path.starts_with("/_fake/") || path == "/_fake") {
        p.admin = true;
        return;
    }
    // Route on the raw path's segments.
    std::array<std::string_view, 8> seg{};
    std::size_t n = 0;
    bool too_many = false;
    if (path.starts_with('/')) {
        auto rest = path.substr(1);
        while (true) {
            auto slash = rest.find('/');
            if (n == seg.size()) {
                too_many = true;
                break;
            }
            seg[n++] = rest.substr(0, slash);
            if (slash == std::string_view::npos) break;
            rest = rest.substr(slash + 1);
        }
    }
    auto decode = [](std::string_view raw, std::string& out) {
        if (!percent_decode(raw, out)) out.assign(raw);  // fails validation later
    };
    const auto& m = req.method;
    if (!too_many && n >= 3 && seg[0] == "things" && seg[2] == "jobs" && !seg[1].empty()) {
        if (n == 3 && m == "GET") {
            p.op = operation::list_job_executions_for_thing;
        } else if (n == 4 && m == "GET" && !seg[3].empty()) {
            p.op = operation::describe_job_execution;
        } else if (n == 5 && m == "PUT" && seg[4] == "cancel" && !seg[3].empty()) {
            p.op = operation::cancel_job_execution;
        } else if (n == 6 && m == "DELETE" && seg[4] == "executionNumber" && !seg[3].empty() && !seg[5].empty()) {
            p.op = operation::delete_job_execution;
            decode(seg[5], p.number);
        }
        if (p.op != operation::unknown) {
            decode(seg[1], p.thing);
            if (n > 3) decode(seg[3], p.job);
        }
    } else if (!too_many && n == 3 && seg[0] == "jobs" && seg[2] == "things" && !seg[1].empty() && m == "GET") {
        p.op = operation::list_job_executions_for_job;
        decode(seg[1], p.job);
    }

    if (!authenticate(req, path, query, p)) return;
    if (p.op == operation::unknown) {
        p.early = outcome::unknown_operation;
        p.early_message = "The requested operation is not supported: ";
        p.early_message += req.method;
        p.early_message += ' ';
        p.early_message += path;
        return;
    }
    if (throttling_on_.load(std::memory_order_relaxed) && !take_token(p.op, p.access_key_id)) {
        throttled_.fetch_add(1, std::memory_order_relaxed);
        p.early = outcome::throttling;
        p.early_message = "Rate exceeded";
        return;
    }
    if (faults_on_.load(std::memory_order_relaxed)) roll_faults(p);
}

namespace {

// The headers SigV4 verification reads; `has_*` tells an empty value from a missing header.
struct auth_headers {
    std::string_view authorization, date, token;
    bool has_auth = false, has_date = false, has_token = false;
};

auth_headers find_auth_headers(std::span<const sigv4::header> headers) {
    auth_headers a;
    for (auto& h : headers) {
        if (iequals(h.name, "authorization")) {
            a.authorization = h.value;
            a.has_auth = true;
        } else if (iequals(h.name, "x-amz-date")) {
            a.date = h.value;
            a.has_date = true;
        } else if (iequals(h.name, "x-amz-security-token")) {
            a.token = h.value;
            a.has_token = true;
        }
    }
    return a;
}

bool signs_host(std::string_view signed_headers) {
    while (!signed_headers.empty()) {
        auto semi = signed_headers.find(';');
        if (signed_headers.substr(0, semi) == "host") return true;
        signed_headers = semi == std::string_view::npos ? std::string_view{} : signed_headers.substr(semi + 1);
    }
    return false;
}

// AWS's message when X-Amz-Date is more than `max_skew` from the server's clock; empty when within.
std::string skew_error(std::string_view date, sigv4::sys_seconds when, sigv4::sys_seconds server_now,
                       std::chrono::seconds max_skew) {
    auto minutes = std::chrono::duration_cast<std::chrono::minutes>(max_skew).count();
    if (when < server_now - max_skew)
        return "Signature expired: " + std::string(date) + " is now earlier than " +
               sigv4::amz_date(server_now - max_skew) + " (" + sigv4::amz_date(server_now) + " - " +
               std::to_string(minutes) + " min.)";
    if (when > server_now + max_skew)
        return "Signature not yet current: " + std::string(date) + " is still later than " +
               sigv4::amz_date(server_now + max_skew) + " (" + sigv4::amz_date(server_now) + " + " +
               std::to_string(minutes) + " min.)";
    return {};
}

}  // namespace

bool service::authenticate(const request_in& req, std::string_view path, std::string_view query, plan& p) {
    const auth_headers h = find_auth_headers(req.headers);
    auto fail = [&](outcome o, std::string_view msg) {
        p.early = o;
        p.early_message.assign(msg);
        if (o == outcome::invalid_signature || o == outcome::unrecognized_client || o == outcome::incomplete_signature)
            signature_failures_.fetch_add(1, std::memory_order_relaxed);
        return false;
    };
    if (!h.has_auth) return fail(outcome::missing_authentication_token, "Missing Authentication Token");
    sigv4::parsed_authorization auth;
    if (!sigv4::parse_authorization(h.authorization, auth))
        return fail(outcome::incomplete_signature,
                    "Authorization header requires 'Credential' parameter. Authorization header requires "
                    "'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. "
                    "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
    auto cred = credentials_.find(auth.access_key_id);
    if (cred == credentials_.end()) return fail(outcome::unrecognized_client, invalid_token);
    const auto& c = cred->second;
    if (!c.session_token.empty()) {
        if (!h.has_token || !sigv4::constant_time_equal(h.token, c.session_token))
            return fail(outcome::unrecognized_client, invalid_token);
    } else if (h.has_token) {
        return fail(outcome::unrecognized_client, invalid_token);
    }
    sigv4::sys_seconds when;
    if (!h.has_date || !sigv4::parse_amz_date(h.date, when))
        return fail(outcome::incomplete_signature,
                    "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
    if (auth.service != "iot")
        return fail(outcome::invalid_signature, "Credential should be scoped to correct service: 'iot'. ");
    if (h.date.substr(0, 8) != auth.date) {
        std::string msg = "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '";
        msg += auth.date;
        msg += "' != '";
        msg += h.date.substr(0, 8);
        msg += "', from '";
        msg += h.date;
        msg += "'.";
        return fail(outcome::invalid_signature, msg);
    }
    if (!signs_host(auth.signed_headers))
        return fail(outcome::incomplete_signature,
                    "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
    if (auto msg = skew_error(h.date, when, now(), max_skew_); !msg.empty())
        return fail(outcome::invalid_signature, msg);
    sigv4::request_view rv;
    rv.method = req.method;
    rv.path = path;
    rv.query = query;
    rv.headers = req.headers;
    rv.payload = req.body;
    if (req.body.empty()) rv.payload_hash = sigv4::empty_payload_sha256;
    if (!sigv4::verify(rv, auth, h.date, c.secret_access_key, &key_cache_))
        return fail(outcome::invalid_signature, signature_mismatch);
    p.region.assign(auth.region);
    p.access_key_id.assign(auth.access_key_id);
    return true;
}

bool service::take_from(bucket& b) {
    if (!b.enabled) return true;
    auto t = std::chrono::steady_clock::now();
    double dt = std::chrono::duration<double>(t - b.last).count();
    b.last = t;
    b.tokens = std::min(b.burst, b.tokens + dt * b.rate);
    if (b.tokens >= 1.0) {
        b.tokens -= 1.0;
        return true;
    }
    return false;
}

// The server's bucket for `op`, or (account scope) the access key's own copy of it.
bool service::take_token(operation op, const std::string& access_key_id) {
    std::lock_guard lock(bucket_mutex_);
    const auto i = static_cast<int>(op);
    if (rate_scope_ == rate_limit_scope::server) return take_from(buckets_[i]);
    if (!buckets_[i].enabled) return true;
    auto it = accounts_.find(access_key_id);
    if (it == accounts_.end()) {
        it = accounts_.emplace(access_key_id, account_state{buckets_, {}}).first;
        for (auto& b : it->second.buckets) b.last = std::chrono::steady_clock::now();
    }
    const bool ok = take_from(it->second.buckets[i]);
    ++(ok ? it->second.counts.admitted : it->second.counts.throttled);
    return ok;
}

void service::roll_faults(plan& p) {
    std::lock_guard lock(fault_mutex_);
    for (auto& fs : rules_) {
        const auto& r = fs.rule;
        if (r.op && *r.op != p.op) continue;
        ++fs.seen;
        bool fire = false;
        switch (r.when) {
        case fault_rule::trigger::always: fire = true; break;
        case fault_rule::trigger::first: fire = fs.seen <= r.n; break;
        case fault_rule::trigger::every: fire = fs.seen % r.n == 0; break;
        case fault_rule::trigger::probability: fire = fault_rng_.uniform01() < r.probability; break;
        }
        if (!fire) continue;
        double ms = r.ms;
        if (r.kind == fault_kind::latency || r.kind == fault_kind::stall) {
            if (r.dist == fault_rule::distribution::uniform)
                ms = r.ms + (r.ms_max - r.ms) * fault_rng_.uniform01();
            else if (r.dist == fault_rule::distribution::exponential)
                ms = -r.ms * std::log(1.0 - fault_rng_.uniform01());
        }
        count_fault(r.kind);
        switch (r.kind) {
        case fault_kind::latency: p.latency_ms += ms; break;
        case fault_kind::unavailable:
            if (p.early == outcome::ok) {
                p.early = outcome::service_unavailable;
                p.early_message = "Service Unavailable";
            }
            break;
        case fault_kind::throttle:
            if (p.early == outcome::ok) {
                p.early = outcome::throttling;
                p.early_message = "Rate exceeded";
            }
            break;
        case fault_kind::reset_before: p.reset_before = true; break;
        case fault_kind::reset_after: p.reset_after = true; break;
        case fault_kind::truncate: p.truncate = true; break;
        case fault_kind::close: p.close = true; break;
        case fault_kind::stall:
            p.stall = true;
            p.stall_ms = ms;
            break;
        }
    }
}

// ----------------------------------------------------------------------------- responses

void service::write_raw(std::string& out, int status, std::string_view reason, std::string_view error_type,
                        std::string_view body, bool keep_alive) {
    out.clear();
    out += "HTTP/1.1 ";
    append_int(out, status);
    out += ' ';
    out += reason;
    out += "\r\nDate: ";
    out += http_date(now());
    out += "\r\nContent-Type: application/json\r\nContent-Length: ";
    append_int(out, static_cast<std::int64_t>(body.size()));
    out += "\r\nx-amzn-RequestId: ";
    append_request_id(out);
    if (!error_type.empty()) {
        out += "\r\nx-amzn-ErrorType: ";
        out += error_type;
    }
    if (!keep_alive) out += "\r\nConnection: close";
    out += "\r\n\r\n";
    out += body;
}

void service::write_error(std::string& out, outcome o, std::string_view message, bool keep_alive, operation op) {
    count(op, o);
    std::string body = "{\"message\":";
    append_json_string(body, message);
    body += '}';
    int status = status_of(o);
    write_raw(out, status, reason_of(status), to_string(o), body, keep_alive);
}

void service::write_ok(std::string& out, std::string_view body, bool keep_alive, operation op, bool close) {
    count(op, outcome::ok);
    write_raw(out, 200, "OK", {}, body, keep_alive && !close);
}

void service::count_no_response(const plan& p) {
    if (!p.admin) count(p.op, outcome::no_response);
}

void service::respond(const request_in& req, const plan& p, std::string& out) {
    bool keep = req.keep_alive && !p.close;
    auto qpos = req.target.find('?');
    auto path = req.target.substr(0, qpos);
    auto query = qpos == std::string_view::npos ? std::string_view{} : req.target.substr(qpos + 1);
    if (p.admin) {
        admin_requests_.fetch_add(1, std::memory_order_relaxed);
        handle_admin(req, path, query, out);
        return;
    }
    if (p.early != outcome::ok) {
        write_error(out, p.early, p.early_message, keep, p.op);
        return;
    }
    execute(req, p, query, out);
    if (!keep && out.find("\r\nConnection: close\r\n") == std::string::npos) {
        auto end = out.find("\r\n\r\n");
        out.insert(end, "\r\nConnection: close");
    }
}

// ----------------------------------------------------------------------------- operations

// One operation request being answered: its plan, its parsed query, the values the checks accepted,
// and the reply helpers every operation shares.
struct service::call {
    service& svc;
    const request_in& req;
    const plan& p;
    std::string& out;
    query_params q{};
    bool force = false;
    std::optional<execution_status> status{};
    std::size_t max_results = 50;

    void fail(outcome o, std::string_view message) { svc.write_error(out, o, message, req.keep_alive, p.op); }
    void invalid(std::string_view message) { fail(outcome::invalid_request, message); }
    void ok(std::string_view body) { svc.write_ok(out, body, req.keep_alive, p.op); }

    // The service's answer to a member that breaks the model's constraint ("Member must ...");
    // false, for the checks to return.
    bool constraint_failed(std::string_view value, std::string_view member, std::string_view constraint) {
        invalid("1 validation error detected: Value '" + std::string(value) + "' at '" + std::string(member) +
                "' failed to satisfy constraint: Member must " + std::string(constraint));
        return false;
    }

    // Each check answers the request with InvalidRequestException and returns false when its
    // parameter breaks the model's constraint.
    bool check_thing() {
        return valid_thing_name(p.thing) ||
               constraint_failed(p.thing, "thingName",
                                 "satisfy regular expression pattern: [a-zA-Z0-9:_-]+ and length 1-128");
    }
    bool check_job(const std::string& job) {
        return valid_job_id(job) ||
               constraint_failed(job, "jobId", "satisfy regular expression pattern: [a-zA-Z0-9_-]+ and length 1-64");
    }
    bool check_ns() {
        return !q.namespace_id || valid_namespace_id(*q.namespace_id) ||
               constraint_failed(*q.namespace_id, "namespaceId", "satisfy regular expression pattern: [a-zA-Z0-9_-]+");
    }
    bool check_force() {
        if (!q.force) return true;
        if (iequals(*q.force, "true"))
            force = true;
        else if (iequals(*q.force, "false"))
            force = false;
        else {
            invalid("Invalid value for parameter force: '" + *q.force + "' (expected true or false)");
            return false;
        }
        return true;
    }
    bool check_status() {
        if (!q.status) return true;
        status = parse_status(*q.status);
        return status || constraint_failed(*q.status, "status",
                                           "satisfy enum value set: [QUEUED, IN_PROGRESS, SUCCEEDED, FAILED, "
                                           "TIMED_OUT, REJECTED, REMOVED, CANCELED]");
    }
    bool check_max() {
        if (!q.max_results) return true;
        auto v = parse_i64(*q.max_results);
        if (!v) {
            invalid("Invalid value for parameter maxResults: '" + *q.max_results + "'");
            return false;
        }
        if (*v < 1 || *v > 250)
            return constraint_failed(*q.max_results, "maxResults",
                                     "have value less than or equal to 250 and greater than or equal to 1");
        max_results = static_cast<std::size_t>(*v);
        return true;
    }
    // CancelJobExecution's optional body: expectedVersion and statusDetails.
    bool read_cancel_body(std::optional<std::int64_t>& expected);
    bool check_status_details(const boost::json::value& details);
};

bool service::call::read_cancel_body(std::optional<std::int64_t>& expected) {
    if (req.body.empty()) return true;
    boost::system::error_code ec;
    auto v = boost::json::parse(req.body, ec);
    if (ec || !v.is_object()) {
        invalid("Request body is not a valid JSON object");
        return false;
    }
    auto& o = v.as_object();
    if (auto* ev = o.if_contains("expectedVersion")) {
        if (ev->is_int64())
            expected = ev->as_int64();
        else if (ev->is_uint64() && ev->as_uint64() <= INT64_MAX)
            expected = static_cast<std::int64_t>(ev->as_uint64());
        else if (!ev->is_null()) {
            invalid("expectedVersion must be a long");
            return false;
        }
    }
    auto* sd = o.if_contains("statusDetails");
    return !sd || sd->is_null() || check_status_details(*sd);
}

bool service::call::check_status_details(const boost::json::value& details) {
    if (!details.is_object()) {
        invalid("statusDetails must be a map of strings");
        return false;
    }
    for (auto& kv : details.as_object()) {
        std::string_view k = kv.key();
        if (k.empty() || k.size() > 128 || !valid_chars(k, true)) {
            invalid("statusDetails key '" + std::string(k) + "' must be 1-128 characters of [a-zA-Z0-9:_-]");
            return false;
        }
        if (!kv.value().is_string() || kv.value().as_string().empty()) {
            invalid("statusDetails value for '" + std::string(k) + "' must be a non-empty string");
            return false;
        }
        for (unsigned char c : kv.value().as_string())
            if (c < 0x20 || c == 0x7f) {
                invalid("statusDetails value for '" + std::string(k) + "' must not contain control characters");
                return false;
            }
    }
    if (details.as_object().size() > 10) {
        invalid("statusDetails may have at most 10 entries");
        return false;
    }
    return true;
}

void service::execute(const request_in& req, const plan& p, std::string_view query, std::string& out) {
    // The route table: one member function per operation, indexed by `operation`.
    static constexpr std::array<void (service::*)(call&), operation_count> routes{
        &service::delete_execution,   &service::list_executions,  // list_job_executions_for_job
        &service::list_executions,                                // list_job_executions_for_thing
        &service::describe_execution, &service::cancel_execution, &service::unknown_operation,
    };
    call c{*this, req, p, out};
    if (!parse_query(query, c.q)) return c.invalid("Malformed query string");
    (this->*routes[static_cast<std::size_t>(p.op)])(c);
}

void service::unknown_operation(call& c) {
    c.fail(outcome::unknown_operation, "The requested operation is not supported");
}

void service::delete_execution(call& c) {
    const plan& p = c.p;
    if (!c.check_thing() || !c.check_job(p.job) || !c.check_ns() || !c.check_force()) return;
    auto number = parse_i64(p.number);
    if (!number) return c.invalid("Invalid value for executionNumber: '" + p.number + "' (expected a long)");
    std::unique_lock lock(store_mutex_);
    auto* r = store_.find(p.thing, p.job, *number);
    std::string_view want_ns = c.q.namespace_id ? std::string_view(*c.q.namespace_id) : std::string_view{};
    if (!r || store_.namespace_id(*r) != want_ns) {
        lock.unlock();
        return c.fail(outcome::resource_not_found,
                      "Job execution not found: " + describe_key(p.thing, p.job, p.number) +
                          (want_ns.empty() ? std::string{} : ", namespaceId " + std::string(want_ns)));
    }
    if (!terminal(r->st()) && !c.force) {
        auto st = to_string(r->st());
        lock.unlock();
        return c.fail(outcome::invalid_state_transition,
                      "Cannot delete job execution (" + describe_key(p.thing, p.job, p.number) + ") in status " +
                          std::string(st) +
                          ": only executions in a terminal status can be deleted unless force is true");
    }
    store_.erase(r);
    lock.unlock();
    c.ok({});
}

// ListJobExecutionsForJob and ListJobExecutionsForThing: the checks, the store's filter, the page.
void service::list_executions(call& c) {
    const plan& p = c.p;
    const bool for_job = p.op == operation::list_job_executions_for_job;
    if (for_job ? !c.check_job(p.job) : !c.check_thing()) return;
    if (!c.check_status() || !c.check_max()) return;
    if (!for_job) {
        if (!c.check_ns()) return;
        if (c.q.job_id && !c.check_job(*c.q.job_id)) return;
    }
    std::optional<cursor> after;
    if (c.q.next_token) {
        after = decode_token(for_job ? 'J' : 'T', *c.q.next_token);
        if (!after) return c.invalid("Invalid nextToken");
    }
    thread_local std::vector<const record*> items;
    items.clear();
    std::shared_lock lock(store_mutex_);
    store::list_filter f;
    f.status = c.status;
    bool empty = false;
    if (!for_job) {
        // A filter on a name the store has never seen matches nothing.
        if (c.q.namespace_id) empty |= !(f.ns = store_.namespace_ref(*c.q.namespace_id));
        if (c.q.job_id) empty |= !(f.job = store_.job_ref(*c.q.job_id));
    } else if (!store_.job_ref(p.job)) {
        lock.unlock();
        return c.fail(outcome::resource_not_found, "Job " + p.job + " does not exist");
    }
    std::optional<cursor> next;
    if (!empty)
        next = for_job ? store_.list_for_job(p.job, f, after, c.max_results, items)
                       : store_.list_for_thing(p.thing, f, after, c.max_results, items);
    std::string body = list_page(p, items, next);
    lock.unlock();
    c.ok(body);
}

// The JSON page of a list operation; the caller holds the store lock (the records live in it).
std::string service::list_page(const plan& p, const std::vector<const record*>& items,
                               const std::optional<cursor>& next) const {
    const bool for_job = p.op == operation::list_job_executions_for_job;
    std::string body;
    body.reserve(64 + items.size() * 200);
    body += "{\"executionSummaries\":[";
    bool first = true;
    for (auto* r : items) {
        if (!first) body += ',';
        first = false;
        if (for_job) {
            body += "{\"thingArn\":";
            append_arn(body, p.region, account_id_, store_.thing_name(*r));
        } else {
            body += "{\"jobId\":\"";
            body += store_.job_id(*r);
            body += '"';
        }
        body += ",\"jobExecutionSummary\":";
        append_summary(body, *r);
        body += '}';
    }
    body += ']';
    if (next) {
        body += ",\"nextToken\":\"";
        body += encode_token(for_job ? 'J' : 'T', *next);
        body += '"';
    }
    body += '}';
    return body;
}

void service::describe_execution(call& c) {
    const plan& p = c.p;
    if (!c.check_thing() || !c.check_job(p.job)) return;
    std::optional<std::int64_t> number;
    if (c.q.execution_number) {
        number = parse_i64(*c.q.execution_number);
        if (!number)
            return c.invalid("Invalid value for executionNumber: '" + *c.q.execution_number + "' (expected a long)");
    }
    std::shared_lock lock(store_mutex_);
    // find/latest do not modify; the store API is non-const for the delete path.
    auto& s = const_cast<store&>(store_);
    auto* r = number ? s.find(p.thing, p.job, *number) : s.latest(p.thing, p.job);
    if (!r) {
        lock.unlock();
        return c.fail(outcome::resource_not_found,
                      "Job execution not found: " + describe_key(p.thing, p.job, c.q.execution_number.value_or("")));
    }
    std::string body = "{\"execution\":{\"jobId\":\"";
    body += p.job;
    body += "\",\"status\":\"";
    body += to_string(r->st());
    body += "\",\"forceCanceled\":";
    body += (r->flags & 2) ? "true" : "false";
    body += ",\"statusDetails\":{\"detailsMap\":{}},\"thingArn\":";
    append_arn(body, p.region, account_id_, p.thing);
    body += ",\"queuedAt\":";
    append_int(body, r->queued_at);
    if (r->started_at) {
        body += ",\"startedAt\":";
        append_int(body, r->started_at);
    }
    body += ",\"lastUpdatedAt\":";
    append_int(body, r->updated_at);
    body += ",\"executionNumber\":";
    append_int(body, r->number);
    body += ",\"versionNumber\":";
    append_int(body, r->version);
    body += "}}";
    lock.unlock();
    c.ok(body);
}

void service::cancel_execution(call& c) {
    const plan& p = c.p;
    if (!c.check_thing() || !c.check_job(p.job) || !c.check_force()) return;
    std::optional<std::int64_t> expected;
    if (!c.read_cancel_body(expected)) return;
    std::unique_lock lock(store_mutex_);
    auto* r = store_.latest(p.thing, p.job);
    if (!r) {
        lock.unlock();
        return c.fail(outcome::resource_not_found, "Job execution not found: " + describe_key(p.thing, p.job, {}));
    }
    if (expected && *expected != static_cast<std::int64_t>(r->version)) {
        lock.unlock();
        return c.fail(outcome::version_conflict, "The expected version " + std::to_string(*expected) +
                                                     " does not match the current version " +
                                                     std::to_string(r->version));
    }
    auto st = r->st();
    if (st == execution_status::queued || (st == execution_status::in_progress && c.force)) {
        r->status = static_cast<std::uint8_t>(execution_status::canceled);
        if (st == execution_status::in_progress) r->flags |= 2;
        ++r->version;
        r->updated_at = static_cast<std::uint32_t>(now().time_since_epoch().count());
        lock.unlock();
        return c.ok({});
    }
    lock.unlock();
    c.fail(outcome::invalid_state_transition,
           "Cannot cancel job execution (" + describe_key(p.thing, p.job, {}) + ") in status " +
               std::string(to_string(st)) +
               (st == execution_status::in_progress ? ": set force to true to cancel it" : ""));
}
// ----------------------------------------------------------------------------- admin

namespace {

// What an admin handler answers: status, JSON body, and x-amzn-ErrorType for errors.
struct admin_reply {
    int status = 200;
    std::string body;
    std::string_view error_type{};
};

admin_reply admin_error(int status, std::string_view type, std::string_view message) {
    std::string body = "{\"message\":";
    append_json_string(body, message);
    body += '}';
    return {status, std::move(body), type};
}

admin_reply bad_admin_request(std::string_view message) { return admin_error(400, "InvalidRequestException", message); }

std::string faults_json(const std::vector<fault_rule>& rules) {
    boost::json::array arr;
    for (auto& r : rules) arr.emplace_back(to_string(r));
    return boost::json::serialize(boost::json::object{{"faults", arr}});
}

}  // namespace

// The /_fake/ admin paths, one handler each; a friend of service for the store.
struct admin_routes {
    using handler = admin_reply (*)(service&, const request_in&, std::string_view query);
    struct route {
        std::string_view path, method;
        handler run;
    };

    // GET /_fake/executions?thingName=&jobId=&status=&limit=
    static admin_reply executions(service& svc, const request_in&, std::string_view query) {
        service::execution_filter f;
        std::string status, limit, key, value;
        for (std::string_view q = query; !q.empty();) {
            auto amp = q.find('&');
            auto part = q.substr(0, amp);
            q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
            auto eq = part.find('=');
            percent_decode(part.substr(0, eq), key);
            percent_decode(eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1), value);
            if (key == "thingName")
                f.thing = value;
            else if (key == "jobId")
                f.job = value;
            else if (key == "status")
                status = value;
            else if (key == "limit")
                limit = value;
        }
        if (!status.empty() && !(f.status = parse_status(status))) return bad_admin_request("unknown status");
        if (!limit.empty()) {
            auto l = parse_i64(limit);
            if (!l || *l < 0) return bad_admin_request("bad limit");
            f.limit = *l == 0 ? UINT64_MAX : static_cast<std::uint64_t>(*l);
        }
        return {200, svc.executions_json(f)};
    }

    static admin_reply set_faults(service& svc, const request_in& req, std::string_view) {
        auto v = boost::json::parse(req.body);
        auto* arr = v.is_object() ? v.as_object().if_contains("faults") : nullptr;
        if (!arr || !arr->is_array()) return bad_admin_request("expected {\"faults\": [...]}");
        std::vector<fault_rule> rules;
        for (auto& f : arr->as_array()) {
            if (!f.is_string()) return bad_admin_request("each fault is a string");
            std::string err;
            auto r = parse_fault(f.as_string(), err);
            if (!r) return bad_admin_request(err);
            rules.push_back(*r);
        }
        std::optional<std::uint64_t> seed;
        if (auto* s = v.as_object().if_contains("seed"); s && s->is_int64()) seed = s->as_int64();
        svc.set_faults(std::move(rules), seed);
        return {200, faults_json(svc.faults())};
    }

    static admin_reply seed(service& svc, const request_in& req, std::string_view) {
        auto added = svc.add(parse_seed_json(req.body));
        return {200, "{\"added\":" + std::to_string(added) + ",\"remaining\":" + std::to_string(svc.execution_count()) +
                         "}"};
    }

    static admin_reply set_clock(service& svc, const request_in& req, std::string_view) {
        auto v = boost::json::parse(req.body);
        auto* o = v.is_object() ? v.as_object().if_contains("offset_seconds") : nullptr;
        if (!o || !o->is_int64()) return bad_admin_request("expected {\"offset_seconds\": N}");
        // Bounded like --clock-offset, so that now() + offset cannot overflow.
        if (o->as_int64() > max_clock_offset_seconds || o->as_int64() < -max_clock_offset_seconds)
            return bad_admin_request("offset_seconds must be between -" + std::to_string(max_clock_offset_seconds) +
                                     " and " + std::to_string(max_clock_offset_seconds));
        svc.set_clock_offset(std::chrono::seconds(o->as_int64()));
        return {200, "{\"offset_seconds\":" + std::to_string(o->as_int64()) + "}"};
    }

    static admin_reply set_rate_limits(service& svc, const request_in& req, std::string_view) {
        auto v = boost::json::parse(req.body);
        if (!v.is_object()) return bad_admin_request("expected an object");
        double burst = 0;
        if (auto* b = v.as_object().if_contains("burst")) burst = b->to_number<double>();
        std::vector<rate_limit> limits;
        if (auto* l = v.as_object().if_contains("limits"); l && l->is_object()) {
            for (auto& kv : l->as_object()) {
                auto op = parse_operation(kv.key());
                if (!op) return bad_admin_request("unknown operation " + std::string(kv.key()));
                limits.push_back(rate_limit{*op, kv.value().to_number<double>(), burst});
            }
        }
        if (auto* sc = v.as_object().if_contains("scope")) {
            const auto scope = sc->is_string() ? parse_rate_limit_scope(sc->as_string()) : std::nullopt;
            if (!scope) return bad_admin_request("scope must be \"server\" or \"account\"");
            svc.set_rate_limit_scope(*scope);
        }
        svc.set_rate_limits(std::move(limits));
        return {200, "{}"};
    }

    static constexpr route table[] = {
        {"/_fake/stats", "GET",
         [](service& svc, const request_in&, std::string_view) {
             return admin_reply{200, svc.stats_json()};
         }},
        {"/_fake/executions", "GET", &executions},
        {"/_fake/faults", "GET",
         [](service& svc, const request_in&, std::string_view) {
             return admin_reply{200, faults_json(svc.faults())};
         }},
        {"/_fake/faults", "DELETE",
         [](service& svc, const request_in&, std::string_view) {
             svc.set_faults({}, std::nullopt);
             return admin_reply{200, "{\"faults\":[]}"};
         }},
        {"/_fake/faults", "POST", &set_faults},
        {"/_fake/seed", "POST", &seed},
        {"/_fake/clock", "POST", &set_clock},
        {"/_fake/rate-limits", "POST", &set_rate_limits},
    };

    static admin_reply dispatch(service& svc, const request_in& req, std::string_view path, std::string_view query) {
        for (const route& r : table) {
            if (r.path != path || r.method != req.method) continue;
            try {
                return r.run(svc, req, query);
            } catch (const std::exception& e) {
                return bad_admin_request(e.what());
            }
        }
        return admin_error(404, "UnknownOperationException",
                           "Unknown admin path; see docs/FAKE_SERVER.md (GET /_fake/stats, GET /_fake/executions, "
                           "GET|POST|DELETE /_fake/faults, POST /_fake/seed, POST /_fake/clock, POST "
                           "/_fake/rate-limits)");
    }
};

void service::handle_admin(const request_in& req, std::string_view path, std::string_view query, std::string& out) {
    auto r = admin_routes::dispatch(*this, req, path, query);
    write_raw(out, r.status, reason_of(r.status), r.error_type, r.body, req.keep_alive);
}

std::string service::executions_json(const execution_filter& f) const {
    std::string body = "{\"executions\":[";
    std::uint64_t n = 0;
    std::shared_lock lock(store_mutex_);
    store_.for_each_live([&](const record& r) {
        if (n >= f.limit) return;
        if (!f.thing.empty() && store_.thing_name(r) != f.thing) return;
        if (!f.job.empty() && store_.job_id(r) != f.job) return;
        if (f.status && r.st() != *f.status) return;
        if (n++) body += ',';
        body += "{\"thingName\":\"";
        body += store_.thing_name(r);
        body += "\",\"jobId\":\"";
        body += store_.job_id(r);
        body += "\",\"executionNumber\":";
        append_int(body, r.number);
        body += ",\"status\":\"";
        body += to_string(r.st());
        body += '"';
        if (r.ns) {
            body += ",\"namespaceId\":\"";
            body += store_.namespace_id(r);
            body += '"';
        }
        body += ",\"versionNumber\":";
        append_int(body, r.version);
        body += '}';
    });
    auto remaining = store_.live();
    lock.unlock();
    body += "],\"count\":";
    append_int(body, static_cast<std::int64_t>(n));
    body += ",\"remaining\":";
    append_int(body, static_cast<std::int64_t>(remaining));
    body += '}';
    return body;
}

// ----------------------------------------------------------------------------- state and knobs

std::size_t service::add(const std::vector<execution>& items) {
    auto t = static_cast<std::uint32_t>(now().time_since_epoch().count());
    std::unique_lock lock(store_mutex_);
    return store_.add(items, t);
}

void service::generate(const generate_options& g) {
    auto t = static_cast<std::uint32_t>(now().time_since_epoch().count());
    std::unique_lock lock(store_mutex_);
    store_.generate(g, t);
}

std::vector<execution> service::executions() const {
    std::vector<execution> out;
    std::shared_lock lock(store_mutex_);
    out.reserve(store_.live());
    store_.for_each_live([&](const record& r) { out.push_back(store_.to_execution(r)); });
    return out;
}

std::optional<execution> service::find(std::string_view thing, std::string_view job, std::int64_t number) const {
    std::shared_lock lock(store_mutex_);
    auto* r = const_cast<store&>(store_).find(thing, job, number);
    if (!r) return std::nullopt;
    return store_.to_execution(*r);
}

std::size_t service::execution_count() const {
    std::shared_lock lock(store_mutex_);
    return store_.live();
}

void service::set_faults(std::vector<fault_rule> rules, std::optional<std::uint64_t> seed) {
    std::lock_guard lock(fault_mutex_);
    rules_.clear();
    for (auto& r : rules) rules_.push_back(fault_state{r, 0});
    if (seed) fault_rng_ = splitmix64{*seed};
    faults_on_.store(!rules_.empty());
}

std::vector<fault_rule> service::faults() const {
    std::lock_guard lock(fault_mutex_);
    std::vector<fault_rule> out;
    for (auto& fs : rules_) out.push_back(fs.rule);
    return out;
}

void service::set_rate_limits(std::vector<rate_limit> limits) {
    std::lock_guard lock(bucket_mutex_);
    for (auto& b : buckets_) b = bucket{};
    for (auto& l : limits) {
        auto& b = buckets_[static_cast<int>(l.op)];
        b.enabled = true;
        b.rate = l.per_second;
        b.burst = l.burst > 0 ? l.burst : std::max(1.0, l.per_second);
        b.tokens = b.burst;
        b.last = std::chrono::steady_clock::now();
    }
    accounts_.clear();
    throttling_on_.store(!limits.empty());
}

void service::set_rate_limit_scope(rate_limit_scope scope) {
    std::lock_guard lock(bucket_mutex_);
    rate_scope_ = scope;
    accounts_.clear();
}

struct stats service::stats() const {
    struct stats s;
    for (int op = 0; op < operation_count; ++op)
        for (int o = 0; o < outcome_count; ++o) {
            auto v = requests_[op][o].load(std::memory_order_relaxed);
            if (!v) continue;
            s.requests[std::string(to_string(static_cast<operation>(op)))]
                      [std::string(to_string(static_cast<outcome>(o)))] = v;
            s.requests_total += v;
        }
    for (int k = 0; k < fault_kind_count; ++k)
        s.faults[std::string(to_string(static_cast<fault_kind>(k)))] = faults_[k].load(std::memory_order_relaxed);
    s.admin_requests = admin_requests_.load();
    s.connections_accepted = connections_.load();
    s.tls_handshakes = handshakes_.load();
    s.tls_handshake_failures = handshake_failures_.load();
    s.throttled = throttled_.load();
    s.signature_failures = signature_failures_.load();
    {
        std::lock_guard bl(bucket_mutex_);
        for (const auto& [key, a] : accounts_) s.accounts[key] = a.counts;
    }
    std::shared_lock lock(store_mutex_);
    s.executions_remaining = store_.live();
    s.executions_deleted = store_.deleted_total();
    return s;
}

std::string service::stats_json() const {
    auto s = stats();
    boost::json::object o;
    boost::json::object req;
    for (auto& [op, m] : s.requests) {
        boost::json::object x;
        for (auto& [k, v] : m) x[k] = v;
        req[op] = std::move(x);
    }
    boost::json::object f;
    for (auto& [k, v] : s.faults) f[k] = v;
    o["requests_total"] = s.requests_total;
    o["requests"] = std::move(req);
    o["admin_requests"] = s.admin_requests;
    o["connections_accepted"] = s.connections_accepted;
    o["tls_handshakes"] = s.tls_handshakes;
    o["tls_handshake_failures"] = s.tls_handshake_failures;
    o["throttled"] = s.throttled;
    o["signature_failures"] = s.signature_failures;
    o["faults_injected"] = std::move(f);
    if (!s.accounts.empty()) {
        boost::json::object acc;
        for (auto& [key, a] : s.accounts) acc[key] = {{"admitted", a.admitted}, {"throttled", a.throttled}};
        o["accounts"] = std::move(acc);
    }
    o["executions_remaining"] = s.executions_remaining;
    o["executions_deleted"] = s.executions_deleted;
    return boost::json::serialize(o);
}

}  // namespace iotjobs::fake::detail
