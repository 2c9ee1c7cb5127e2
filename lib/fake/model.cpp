// Names, option parsing and seed/credential JSON for the fake server (no networking here).
#include "fake/server.hpp"
#include "fake/util.hpp"
#include "sigv4/sigv4.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <cmath>
#include <stdexcept>

namespace iotjobs::fake {

namespace {
// In the order of execution_status.
constexpr std::array<std::string_view, 8> status_names{"QUEUED",    "IN_PROGRESS", "SUCCEEDED", "FAILED",
                                                       "TIMED_OUT", "REJECTED",    "REMOVED",   "CANCELED"};
static_assert(status_names.size() == static_cast<std::size_t>(execution_status::canceled) + 1);
constexpr std::array<std::string_view, operation_count> operation_names{
    "DeleteJobExecution",   "ListJobExecutionsForJob", "ListJobExecutionsForThing",
    "DescribeJobExecution", "CancelJobExecution",      "Unknown"};
constexpr std::array<std::string_view, fault_kind_count> fault_names{
    "latency", "unavailable", "throttle", "reset-before", "reset-after", "truncate", "close", "stall"};

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    while (true) {
        auto pos = s.find(sep, start);
        out.push_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
        if (pos == std::string_view::npos) break;
        start = pos + 1;
    }
    return out;
}

std::optional<double> parse_double(std::string_view s) {
    if (s.empty()) return std::nullopt;
    std::string tmp(s);
    char* end = nullptr;
    double v = std::strtod(tmp.c_str(), &end);
    if (end != tmp.c_str() + tmp.size() || !std::isfinite(v)) return std::nullopt;
    return v;
}

std::optional<std::uint64_t> parse_u64(std::string_view s) {
    auto v = detail::parse_i64(s);
    if (!v || *v < 0) return std::nullopt;
    return static_cast<std::uint64_t>(*v);
}
}  // namespace

std::string_view to_string(execution_status s) noexcept { return status_names[static_cast<int>(s)]; }
std::optional<execution_status> parse_status(std::string_view s) noexcept {
    for (std::size_t i = 0; i < status_names.size(); ++i)
        if (status_names[i] == s) return static_cast<execution_status>(i);
    return std::nullopt;
}
std::string_view to_string(operation op) noexcept { return operation_names[static_cast<int>(op)]; }
std::optional<operation> parse_operation(std::string_view s) noexcept {
    for (int i = 0; i < operation_count - 1; ++i)
        if (operation_names[i] == s) return static_cast<operation>(i);
    return std::nullopt;
}
std::string_view to_string(fault_kind k) noexcept { return fault_names[static_cast<int>(k)]; }

std::uint64_t stats::count(std::string_view op, std::string_view outcome) const {
    auto i = requests.find(std::string(op));
    if (i == requests.end()) return 0;
    auto j = i->second.find(std::string(outcome));
    return j == i->second.end() ? 0 : j->second;
}

credentials_map default_credentials() {
    credentials_map m;
    m.emplace("AKIDEXAMPLE", credential{"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""});
    return m;
}

credentials_map parse_credentials_json(std::string_view json) {
    boost::system::error_code ec;
    auto v = boost::json::parse(json, ec);
    if (ec) throw std::runtime_error("credentials: not valid JSON: " + ec.message());
    if (!v.is_object()) throw std::runtime_error("credentials: expected an object {\"AKID\": {\"secret\": ...}}");
    credentials_map m;
    for (auto& kv : v.as_object()) {
        std::string akid(kv.key());
        if (akid.empty()) throw std::runtime_error("credentials: empty access key id");
        if (!kv.value().is_object()) throw std::runtime_error("credentials: " + akid + ": expected an object");
        auto& o = kv.value().as_object();
        auto* secret = o.if_contains("secret");
        if (!secret || !secret->is_string() || secret->as_string().empty())
            throw std::runtime_error("credentials: " + akid + ": missing \"secret\" string");
        credential c;
        c.secret_access_key = std::string(secret->as_string());
        if (auto* tok = o.if_contains("session_token")) {
            if (!tok->is_string())
                throw std::runtime_error("credentials: " + akid + ": session_token must be a string");
            c.session_token = std::string(tok->as_string());
        }
        m.emplace(std::move(akid), std::move(c));
    }
    if (m.empty()) throw std::runtime_error("credentials: no keys");
    return m;
}

execution make_execution(std::string thing_name, std::string job_id, std::int64_t execution_number,
                         execution_status status, std::string namespace_id) {
    execution e;
    e.thing_name = std::move(thing_name);
    e.job_id = std::move(job_id);
    e.execution_number = execution_number;
    e.status = status;
    e.namespace_id = std::move(namespace_id);
    return e;
}

std::vector<execution> parse_seed_json(std::string_view json) {
    boost::system::error_code ec;
    auto v = boost::json::parse(json, ec);
    if (ec) throw std::runtime_error("seed: not valid JSON: " + ec.message());
    auto* arr = v.is_object() ? v.as_object().if_contains("executions") : nullptr;
    if (!arr || !arr->is_array()) throw std::runtime_error("seed: expected {\"executions\": [...]}");
    std::vector<execution> out;
    out.reserve(arr->as_array().size());
    std::size_t index = 0;
    for (auto& item : arr->as_array()) {
        auto where = "seed: executions[" + std::to_string(index++) + "]: ";
        if (!item.is_object()) throw std::runtime_error(where + "expected an object");
        auto& o = item.as_object();
        auto str = [&](const char* key, bool required) -> std::string {
            auto* p = o.if_contains(key);
            if (!p) {
                if (required) throw std::runtime_error(where + "missing \"" + key + "\"");
                return {};
            }
            if (!p->is_string()) throw std::runtime_error(where + "\"" + key + "\" must be a string");
            return std::string(p->as_string());
        };
        execution e;
        e.thing_name = str("thingName", true);
        e.job_id = str("jobId", true);
        if (!detail::valid_thing_name(e.thing_name))
            throw std::runtime_error(where + "invalid thingName (1-128 of [a-zA-Z0-9:_-])");
        if (!detail::valid_job_id(e.job_id)) throw std::runtime_error(where + "invalid jobId (1-64 of [a-zA-Z0-9_-])");
        auto* num = o.if_contains("executionNumber");
        if (!num) throw std::runtime_error(where + "missing \"executionNumber\"");
        if (num->is_int64())
            e.execution_number = num->as_int64();
        else if (num->is_uint64() && num->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
            e.execution_number = static_cast<std::int64_t>(num->as_uint64());
        else if (num->is_string() && detail::parse_i64(num->as_string()))
            e.execution_number = *detail::parse_i64(num->as_string());
        else
            throw std::runtime_error(where + "executionNumber must be an integer");
        auto status = str("status", false);
        if (status.empty()) status = "QUEUED";
        auto st = parse_status(status);
        if (!st) throw std::runtime_error(where + "unknown status " + status);
        e.status = *st;
        e.namespace_id = str("namespaceId", false);
        if (!e.namespace_id.empty() && !detail::valid_namespace_id(e.namespace_id))
            throw std::runtime_error(where + "invalid namespaceId ([a-zA-Z0-9_-]+)");
        if (auto* vn = o.if_contains("versionNumber"); vn && vn->is_int64()) e.version_number = vn->as_int64();
        out.push_back(std::move(e));
    }
    return out;
}

namespace {

// How a "NAME=NUMBER,..." option is worded in its errors, and whether a number may be zero.
struct named_numbers_syntax {
    const char* option;       // "--status-mix"
    const char* name_kind;    // "status"
    const char* number_kind;  // "weight"
    const char* form;         // "STATUS=WEIGHT"
    bool zero_allowed;
};

// The (name's value, number) pairs of "NAME=NUMBER,..."; parse_name gives nullopt for an unknown
// name. Numbers are finite and not negative.
template <class T, class ParseName>
std::optional<std::vector<std::pair<T, double>>> parse_named_numbers(std::string_view s, ParseName parse_name,
                                                                     const named_numbers_syntax& syntax,
                                                                     std::string& error) {
    std::vector<std::pair<T, double>> out;
    for (auto part : split(s, ',')) {
        auto eq = part.find('=');
        auto name = part.substr(0, eq);
        std::optional<T> key = parse_name(name);
        if (!key) {
            error = "unknown " + std::string(syntax.name_kind) + " '" + std::string(name) + "' in " + syntax.option;
            return std::nullopt;
        }
        std::optional<double> v = eq == std::string_view::npos ? std::nullopt : parse_double(part.substr(eq + 1));
        if (!v || !std::isfinite(*v) || *v < 0 || (*v == 0 && !syntax.zero_allowed)) {
            error = "bad " + std::string(syntax.number_kind) + " for " + std::string(name) + " in " + syntax.option +
                    " (want " + syntax.form + ")";
            return std::nullopt;
        }
        out.emplace_back(*key, *v);
    }
    return out;
}

}  // namespace

std::optional<std::vector<std::pair<execution_status, double>>> parse_status_mix(std::string_view s,
                                                                                 std::string& error) {
    auto out = parse_named_numbers<execution_status>(
        s, parse_status, {"--status-mix", "status", "weight", "STATUS=WEIGHT", true}, error);
    if (!out) return std::nullopt;
    double total = 0;
    for (const auto& [status, weight] : *out) total += weight;
    if (out->empty() || total <= 0) {
        error = "--status-mix needs at least one positive weight";
        return std::nullopt;
    }
    return out;
}

std::optional<rate_limit_scope> parse_rate_limit_scope(std::string_view s) {
    if (s == "server") return rate_limit_scope::server;
    if (s == "account") return rate_limit_scope::account;
    return std::nullopt;
}

std::optional<std::vector<rate_limit>> parse_rate_limits(std::string_view s, double burst, std::string& error) {
    auto rates = parse_named_numbers<operation>(
        s, parse_operation, {"--rate-limit", "operation", "rate", "Operation=PER_SECOND", false}, error);
    if (!rates) return std::nullopt;
    std::vector<rate_limit> out;
    for (const auto& [op, rate] : *rates) out.push_back(rate_limit{op, rate, burst});
    return out;
}

namespace {

// Each reads one part of a fault spec into `r`; the problem in words, or "" when it is fine.
std::string parse_fault_trigger(std::string_view trig, fault_rule& r) {
    if (trig == "always") {
        r.when = fault_rule::trigger::always;
    } else if (trig.starts_with("first:") || trig.starts_with("every:")) {
        auto n = parse_u64(trig.substr(6));
        if (!n || *n == 0) return "first:N / every:K need a positive integer";
        r.when = trig.starts_with("first:") ? fault_rule::trigger::first : fault_rule::trigger::every;
        r.n = *n;
    } else {
        auto p = parse_double(trig);
        if (!p || *p < 0 || *p > 1) return "trigger must be a probability 0..1, always, first:N or every:K";
        r.when = fault_rule::trigger::probability;
        r.probability = *p;
    }
    return {};
}

std::string parse_fault_dist(std::string_view val, fault_rule& r) {
    auto d = split(val, ':');
    double a = -1, b = -1;
    if (d.size() > 1) a = parse_double(d[1]).value_or(-1);
    if (d.size() > 2) b = parse_double(d[2]).value_or(-1);
    if (d[0] == "uniform" && d.size() == 3 && a >= 0 && b >= a) {
        r.dist = fault_rule::distribution::uniform;
        r.ms = a;
        r.ms_max = b;
    } else if ((d[0] == "exp" || d[0] == "exponential") && d.size() == 2 && a >= 0) {
        r.dist = fault_rule::distribution::exponential;
        r.ms = a;
    } else if (d[0] == "fixed" && d.size() == 2 && a >= 0) {
        r.dist = fault_rule::distribution::fixed;
        r.ms = a;
    } else {
        return "dist must be fixed:MS, uniform:MIN:MAX or exp:MEAN";
    }
    return {};
}

// One ",key=value" option: op, ms or dist.
std::string parse_fault_option(std::string_view kv, fault_rule& r) {
    auto e = kv.find('=');
    auto key = kv.substr(0, e);
    auto val = e == std::string_view::npos ? std::string_view{} : kv.substr(e + 1);
    if (key == "op") {
        auto op = parse_operation(val);
        if (!op) return "unknown operation '" + std::string(val) + "'";
        r.op = *op;
    } else if (key == "ms") {
        auto v = parse_double(val);
        if (!v || *v < 0) return "ms must be a non-negative number";
        r.dist = fault_rule::distribution::fixed;
        r.ms = *v;
    } else if (key == "dist") {
        return parse_fault_dist(val, r);
    } else {
        return "unknown key '" + std::string(key) + "' (op, ms, dist)";
    }
    return {};
}

// The rule as a whole: bounded delays, and a latency that has one.
std::string check_fault(const fault_rule& r) {
    if (r.ms > max_fault_ms || r.ms_max > max_fault_ms)
        return "ms values must be at most " + std::to_string(std::int64_t(max_fault_ms)) + " (one day)";
    if (r.kind == fault_kind::latency && r.ms == 0 && r.dist == fault_rule::distribution::fixed)
        return "latency needs ms=N or dist=...";
    return {};
}

}  // namespace

std::optional<fault_rule> parse_fault(std::string_view s, std::string& error) {
    auto parts = split(s, ',');
    auto head = parts[0];
    auto eq = head.find('=');
    if (eq == std::string_view::npos) {
        error = "fault '" + std::string(s) + "': want KIND=TRIGGER[,op=..][,ms=..][,dist=..]";
        return std::nullopt;
    }
    fault_rule r;
    auto kind = head.substr(0, eq);
    bool found = false;
    for (int i = 0; i < fault_kind_count; ++i)
        if (fault_names[i] == kind) {
            r.kind = static_cast<fault_kind>(i);
            found = true;
        }
    if (!found) {
        error = "unknown fault kind '" + std::string(kind) +
                "' (latency unavailable throttle reset-before reset-after truncate close stall)";
        return std::nullopt;
    }
    std::string problem = parse_fault_trigger(head.substr(eq + 1), r);
    for (std::size_t i = 1; i < parts.size() && problem.empty(); ++i) problem = parse_fault_option(parts[i], r);
    if (problem.empty()) problem = check_fault(r);
    if (!problem.empty()) {
        error = "fault '" + std::string(s) + "': " + problem;
        return std::nullopt;
    }
    return r;
}

std::string to_string(const fault_rule& r) {
    std::string out(to_string(r.kind));
    out += '=';
    switch (r.when) {
    case fault_rule::trigger::always: out += "always"; break;
    case fault_rule::trigger::first: out += "first:" + std::to_string(r.n); break;
    case fault_rule::trigger::every: out += "every:" + std::to_string(r.n); break;
    case fault_rule::trigger::probability: {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%g", r.probability);
        out += buf;
        break;
    }
    }
    if (r.op) {
        out += ",op=";
        out += to_string(*r.op);
    }
    if (r.kind == fault_kind::latency || r.kind == fault_kind::stall) {
        char buf[64];
        switch (r.dist) {
        case fault_rule::distribution::fixed: std::snprintf(buf, sizeof buf, ",ms=%g", r.ms); break;
        case fault_rule::distribution::uniform:
            std::snprintf(buf, sizeof buf, ",dist=uniform:%g:%g", r.ms, r.ms_max);
            break;
        case fault_rule::distribution::exponential: std::snprintf(buf, sizeof buf, ",dist=exp:%g", r.ms); break;
        }
        out += buf;
    }
    return out;
}

std::string presign_deletes(std::string_view host, std::uint64_t count, std::uint64_t jobs,
                            std::string_view access_key_id, std::string_view secret, std::string_view region,
                            std::chrono::sys_seconds when) {
    std::string out;
    sigv4::signing_key_cache cache;
    auto date = sigv4::amz_date(when);
    if (jobs == 0) jobs = 1;
    for (std::uint64_t i = 1; i <= count; ++i) {
        std::string path = "/things/thing-" + std::to_string(i) + "/jobs/job-" + std::to_string(i % jobs) +
                           "/executionNumber/" + std::to_string(i);
        sigv4::header hs[] = {{"host", host}, {"x-amz-date", date}};
        sigv4::signing_input in;
        in.request.method = "DELETE";
        in.request.path = path;
        in.request.headers = hs;
        in.request.payload_hash = sigv4::empty_payload_sha256;
        in.credentials.access_key_id = access_key_id;
        in.credentials.secret_access_key = secret;
        in.region = region;
        in.service = "iot";
        in.time = when;
        auto res = sigv4::sign_headers(in, &cache);
        out += "DELETE\t";
        out += path;
        out += '\t';
        out += date;
        out += '\t';
        out += res.authorization;
        out += '\n';
    }
    return out;
}

}  // namespace iotjobs::fake
