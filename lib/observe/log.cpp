#include "observe/logger.hpp"

#include <charconv>

namespace iotjobs {

std::string_view to_string(log_level l) noexcept {
    switch (l) {
    case log_level::error: return "ERROR";
    case log_level::warn: return "WARN";
    case log_level::info: return "INFO";
    case log_level::debug: return "DEBUG";
    case log_level::off: break;
    }
    return "OFF";
}

std::string format(const log_record& r) {
    std::string s(r.message);
    std::size_t fields = 0;
    const auto field = [&](std::string_view key, std::string_view value) {
        if (value.empty()) return;
        s += fields++ == 0 ? " [" : " ";
        s.append(key).append("=").append(value);
    };
    const auto number = [&](std::string_view key, auto v) { field(key, std::to_string(v)); };
    field("op", r.operation);
    field("thing", r.thing_name);
    field("job", r.job_id);
    if (r.execution_number) number("execution", *r.execution_number);
    field("namespace", r.namespace_id);
    if (r.attempt) number("attempt", r.attempt);
    if (r.http_status) number("status", r.http_status);
    field("error", r.aws_error);
    if (r.error && r.aws_error.empty()) field("error", r.error.message());
    field("request_id", r.request_id);
    if (r.latency) number("latency_us", r.latency->count());
    field("reason", r.retry_reason);
    if (fields) s += ']';
    return s;
}

namespace detail {

logger::logger(log_level level, std::function<void(log_level, std::string_view)> text,
               std::function<void(const log_record&)> record)
    : threshold_(text || record ? level : log_level::off), text_(std::move(text)), record_(std::move(record)) {}

void logger::emit(const log_record& r) const {
    if (record_) record_(r);
    if (text_) text_(r.level, format(r));
}

void logger::emit(log_level l, std::string_view component, std::string_view message) const {
    log_record r;
    r.level = l;
    r.component = component;
    r.message = message;
    emit(r);
}

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

std::string percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        int hi = 0, lo = 0;
        if (s[i] == '%' && i + 2 < s.size() && (hi = hex_value(s[i + 1])) >= 0 && (lo = hex_value(s[i + 2])) >= 0) {
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

std::optional<std::int64_t> to_int(std::string_view s) {
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
    return v;
}

// Calls f(piece) for each piece of `s` between separators `sep`.
template <class F>
void split(std::string_view s, char sep, F f) {
    while (!s.empty()) {
        const auto at = s.find(sep);
        f(s.substr(0, at));
        if (at == std::string_view::npos) break;
        s.remove_prefix(at + 1);
    }
}

}  // namespace

request_identity identity_of(std::string_view path, std::string_view query) {
    request_identity id;
    std::string_view previous;
    split(path, '/', [&](std::string_view seg) {
        if (previous == "things")
            id.thing_name = percent_decode(seg);
        else if (previous == "jobs")
            id.job_id = percent_decode(seg);
        else if (previous == "executionNumber")
            id.execution_number = to_int(seg);
        previous = seg;
    });
    split(query, '&', [&](std::string_view kv) {
        const auto eq = kv.find('=');
        if (eq == std::string_view::npos) return;
        const auto key = kv.substr(0, eq), value = kv.substr(eq + 1);
        if (key == "namespaceId")
            id.namespace_id = percent_decode(value);
        else if (key == "executionNumber" && !id.execution_number)
            id.execution_number = to_int(value);
    });
    return id;
}

}  // namespace detail
}  // namespace iotjobs
