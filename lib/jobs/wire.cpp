// The pure wire layer of the IoT Jobs operations. See wire.hpp.
#include "jobs/wire.hpp"

#include "util/text.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>

namespace iotjobs {
namespace detail {
namespace {

// ---------------------------------------------------------------------------------------------
// Character classes (ASCII only: every byte >= 0x80 is outside every pattern of the model).

// One table of the classes, looked up per byte; each class a function object, so that
// check_pattern (which takes one) inlines it.
enum : unsigned char { thing_class = 1, job_class = 2, unreserved_class = 4 };

struct byte_class_table {
    unsigned char v[256] = {};
    constexpr byte_class_table() {
        for (int c = 0; c < 256; ++c) {
            const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
            if (alnum || c == '_' || c == '-') v[c] |= thing_class | job_class | unreserved_class;
            if (c == ':') v[c] |= thing_class;
            if (c == '.' || c == '~') v[c] |= unreserved_class;
        }
    }
};
constexpr byte_class_table byte_classes{};

template <unsigned char Class>
struct in_class {
    constexpr bool operator()(unsigned char c) const noexcept { return (byte_classes.v[c] & Class) != 0; }
};
constexpr in_class<thing_class> is_thing_char{};       // [a-zA-Z0-9:_-]
constexpr in_class<job_class> is_job_char{};           // [a-zA-Z0-9_-]
constexpr in_class<unreserved_class> is_unreserved{};  // RFC 3986 unreserved

constexpr char hex_upper[] = "0123456789ABCDEF";

void append_hex_byte(std::string& out, unsigned char c) {
    out += hex_upper[c >> 4];
    out += hex_upper[c & 0x0F];
}

// "character ' ' at offset 1 is not allowed" / "byte 0xC3 at offset 0 is not allowed".
std::string describe_bad_byte(std::string_view value, std::size_t offset) {
    const auto c = static_cast<unsigned char>(value[offset]);
    std::string s;
    if (c >= 0x20 && c < 0x7F) {
        s = "character ";
        s += quote_for_message(value.substr(offset, 1));
    } else {
        s = "byte 0x";
        append_hex_byte(s, c);
    }
    s += " at offset ";
    s += std::to_string(offset);
    s += " is not allowed";
    return s;
}

error_code fail(client_errc code, std::string* what, std::string_view field, std::string_view value,
                std::string_view rule, std::string_view detail) {
    if (what) {
        std::string m;
        m.reserve(field.size() + rule.size() + detail.size() + 96);
        m += field;
        m += ' ';
        m += quote_for_message(value);
        m += " is invalid: must be ";
        m += rule;
        if (!detail.empty()) {
            m += " (";
            m += detail;
            m += ')';
        }
        *what = std::move(m);
    }
    return make_error_code(code);
}

// Checks a string against "min..max characters of <class>" (max == 0: no upper bound).
template <class CharPred>
error_code check_pattern(std::string_view value, std::string* what, client_errc code, std::string_view field,
                         std::string_view rule, std::size_t max_len, CharPred pred) {
    if (value.empty()) return fail(code, what, field, value, rule, "it is empty");
    for (std::size_t i = 0; i < value.size(); ++i) {
        if (!pred(static_cast<unsigned char>(value[i])))
            return what ? fail(code, what, field, value, rule, describe_bad_byte(value, i)) : make_error_code(code);
    }
    if (max_len != 0 && value.size() > max_len)
        return fail(code, what, field, value, rule, "it has " + std::to_string(value.size()) + " characters");
    return {};
}

constexpr std::string_view thing_name_rule = "1-128 characters of [a-zA-Z0-9:_-]";
constexpr std::string_view job_id_rule = "1-64 characters of [a-zA-Z0-9_-]";
constexpr std::string_view namespace_id_rule = "1 or more characters of [a-zA-Z0-9_-]";

// ---------------------------------------------------------------------------------------------
// UTF-8 decoding for statusDetails values.

// Decodes one code point at `i`; returns false on malformed UTF-8 (overlong forms, surrogates,
// values above U+10FFFF, truncated sequences).
bool decode_utf8(std::string_view s, std::size_t& i, char32_t& cp) noexcept {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
        cp = b0;
        ++i;
        return true;
    }
    std::size_t len;
    char32_t min;
    if ((b0 & 0xE0) == 0xC0) {
        len = 2;
        cp = b0 & 0x1F;
        min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
        len = 3;
        cp = b0 & 0x0F;
        min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
        len = 4;
        cp = b0 & 0x07;
        min = 0x10000;
    } else {
        return false;
    }
    if (s.size() - i < len) return false;
    for (std::size_t k = 1; k < len; ++k) {
        const auto b = static_cast<unsigned char>(s[i + k]);
        if ((b & 0xC0) != 0x80) return false;
        cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
    return true;
}

// Unicode general category C, as far as it can be told without the tables of assigned code
// points: Cc, Cf, Co, Cs (never decoded) and the noncharacters (part of Cn).
bool is_category_c(char32_t cp) noexcept {
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) return true;                    // Cc
    if (cp >= 0xE000 && cp <= 0xF8FF) return true;                               // Co (BMP)
    if (cp >= 0xF0000) return true;                                              // Co (planes 15, 16)
    if ((cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE) return true;  // noncharacters
    struct range {
        char32_t lo, hi;
    };
    static constexpr range format_chars[] = {
        {0x00AD, 0x00AD},   {0x0600, 0x0605},   {0x061C, 0x061C},   {0x06DD, 0x06DD},   {0x070F, 0x070F},
        {0x0890, 0x0891},   {0x08E2, 0x08E2},   {0x180E, 0x180E},   {0x200B, 0x200F},   {0x202A, 0x202E},
        {0x2060, 0x2064},   {0x2066, 0x206F},   {0xFEFF, 0xFEFF},   {0xFFF9, 0xFFFB},   {0x110BD, 0x110BD},
        {0x110CD, 0x110CD}, {0x13430, 0x1343F}, {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A}, {0xE0001, 0xE0001},
        {0xE0020, 0xE007F},
    };
    for (const auto& r : format_chars)
        if (cp >= r.lo && cp <= r.hi) return true;
    return false;
}

// ---------------------------------------------------------------------------------------------
// Query building.

void append_query_param(std::string& query, std::string_view name, std::string_view raw_value) {
    if (!query.empty()) query += '&';
    query += name;
    query += '=';
    append_percent_encoded(query, raw_value);
}

// `more`: what the caller appends after it, reserved with the rest (one allocation unless a name
// needs escapes).
std::string things_jobs_path(std::string_view thing_name, std::string_view job_id, std::size_t more = 0) {
    std::string path;
    path.reserve(std::string_view("/things//jobs/").size() + thing_name.size() + job_id.size() + more);
    path += "/things/";
    append_percent_encoded(path, thing_name);
    path += "/jobs/";
    append_percent_encoded(path, job_id);
    return path;
}

// ---------------------------------------------------------------------------------------------
// JSON reading helpers. Each returns false (and sets the message) on a wrong type; a missing or
// null member leaves the output alone and returns true.

namespace json = boost::json;

struct json_reader {
    std::string* what;

    bool bad(std::string_view message) const {
        if (what) *what = std::string(message);
        return false;
    }

    // "<key><problem>", built without operator+ (GCC 12 -Warray-bounds false positive).
    bool bad(std::string_view key, std::string_view problem) const {
        if (what) {
            what->clear();
            what->reserve(key.size() + problem.size());
            what->append(key).append(problem);
        }
        return false;
    }

    static const json::value* member(const json::object& obj, std::string_view key) {
        const json::value* v = obj.if_contains(json::string_view(key.data(), key.size()));
        if (!v || v->is_null()) return nullptr;
        return v;
    }

    bool get_string(const json::object& obj, std::string_view key, std::string& out) const {
        const json::value* v = member(obj, key);
        if (!v) return true;
        const json::string* s = v->if_string();
        if (!s) return bad(key, " is not a string");
        out.assign(s->data(), s->size());
        return true;
    }

    bool get_bool(const json::object& obj, std::string_view key, bool& out) const {
        const json::value* v = member(obj, key);
        if (!v) return true;
        const bool* b = v->if_bool();
        if (!b) return bad(key, " is not a boolean");
        out = *b;
        return true;
    }

    // A JSON integer in [lo, hi]; an integral double in range is accepted too.
    bool get_integer(const json::object& obj, std::string_view key, std::int64_t lo, std::int64_t hi,
                     std::optional<std::int64_t>& out) const {
        const json::value* v = member(obj, key);
        if (!v) return true;
        std::int64_t n = 0;
        if (const auto* i = v->if_int64()) {
            n = *i;
        } else if (v->is_uint64()) {
            return bad(key, " is out of range");  // > INT64_MAX
        } else if (const auto* d = v->if_double()) {
            if (!std::isfinite(*d) || std::trunc(*d) != *d) return bad(key, " is not an integer");
            if (!(*d >= -9223372036854775808.0 && *d < 9223372036854775808.0)) return bad(key, " is out of range");
            n = static_cast<std::int64_t>(*d);
        } else {
            return bad(key, " is not a number");
        }
        if (n < lo || n > hi) return bad(key, " is out of range");
        out = n;
        return true;
    }

    bool get_int64(const json::object& obj, std::string_view key, std::optional<std::int64_t>& out) const {
        return get_integer(obj, key, std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max(),
                           out);
    }

    bool get_int32(const json::object& obj, std::string_view key, std::optional<std::int32_t>& out) const {
        std::optional<std::int64_t> wide;
        if (!get_integer(obj, key, std::numeric_limits<std::int32_t>::min(), std::numeric_limits<std::int32_t>::max(),
                         wide))
            return false;
        if (wide) out = static_cast<std::int32_t>(*wide);
        return true;
    }

    // Epoch seconds, possibly with a fraction.
    bool get_timestamp(const json::object& obj, std::string_view key, std::optional<double>& out) const {
        const json::value* v = member(obj, key);
        if (!v) return true;
        double t;
        if (const auto* d = v->if_double()) {
            t = *d;
        } else if (const auto* i = v->if_int64()) {
            t = static_cast<double>(*i);
        } else if (const auto* u = v->if_uint64()) {
            t = static_cast<double>(*u);
        } else {
            return bad(key, " is not a number of epoch seconds");
        }
        if (!std::isfinite(t)) return bad(key, " is not finite");
        out = t;
        return true;
    }

    bool get_status(const json::object& obj, job_execution_status& out) const {
        const json::value* v = member(obj, "status");
        if (!v) return bad("status is missing");
        const json::string* s = v->if_string();
        if (!s) return bad("status is not a string");
        if (!from_string(std::string_view(s->data(), s->size()), out))
            return bad("status " + quote_for_message(std::string_view(s->data(), s->size())) +
                       " is not a known JobExecutionStatus");
        return true;
    }

    // The JobExecutionSummary fields.
    bool read_summary(const json::object& obj, job_execution_summary& out) const {
        return get_status(obj, out.status) && get_int64(obj, "executionNumber", out.execution_number) &&
               get_int32(obj, "retryAttempt", out.retry_attempt) && get_timestamp(obj, "queuedAt", out.queued_at) &&
               get_timestamp(obj, "startedAt", out.started_at) &&
               get_timestamp(obj, "lastUpdatedAt", out.last_updated_at);
    }
};

bool parse_object(std::string_view body, json::value& storage, const json::object*& obj, std::string* what) {
    json::error_code ec;
    storage = json::parse(json::string_view(body.data(), body.size()), ec);
    if (ec) {
        if (what) *what = "the response body is not JSON: " + ec.message();
        return false;
    }
    obj = storage.if_object();
    if (!obj) {
        if (what) *what = "the response body is not a JSON object";
        return false;
    }
    return true;
}

// Runs `parse`, which may throw only std::bad_alloc (JSON values allocate), as a noexcept parser:
// an exception becomes client_errc::bad_response.
template <class Parse>
error_code parse_noexcept(std::string* what, Parse parse) noexcept {
    try {
        return parse();
    } catch (...) {
        try {
            if (what) *what = "the response could not be parsed (out of memory)";
        } catch (...) {}
        return make_error_code(client_errc::bad_response);
    }
}

// ListJobExecutionsFor{Job,Thing}; `for_job`: each entry is keyed by thingArn, else by jobId.
error_code parse_list(std::string_view body, list_job_executions_result& out, std::string* what, bool for_job) {
    json::value doc;
    const json::object* root = nullptr;
    if (!parse_object(body, doc, root, what)) return make_error_code(client_errc::bad_response);
    const json_reader r{what};
    list_job_executions_result result;

    if (const json::value* list = json_reader::member(*root, "executionSummaries")) {
        const json::array* arr = list->if_array();
        if (!arr) {
            r.bad("executionSummaries is not an array");
            return make_error_code(client_errc::bad_response);
        }
        result.executions.reserve(arr->size());
        std::size_t index = 0;
        for (const json::value& item : *arr) {
            const json::object* entry = item.if_object();
            if (!entry) {
                r.bad("executionSummaries[" + std::to_string(index) + "] is not an object");
                return make_error_code(client_errc::bad_response);
            }
            job_execution_summary summary;
            bool ok = for_job ? r.get_string(*entry, "thingArn", summary.thing_arn)
                              : r.get_string(*entry, "jobId", summary.job_id);
            // Both are returned by some servers (moto); take whichever is there.
            ok = ok && (for_job ? r.get_string(*entry, "jobId", summary.job_id)
                                : r.get_string(*entry, "thingArn", summary.thing_arn));
            if (ok) {
                const json::value* s = json_reader::member(*entry, "jobExecutionSummary");
                const json::object* sobj = s ? s->if_object() : nullptr;
                if (!sobj)
                    ok = r.bad(s ? "jobExecutionSummary is not an object" : "jobExecutionSummary is missing");
                else
                    ok = r.read_summary(*sobj, summary);
            }
            if (!ok) {
                if (what) what->insert(0, "executionSummaries[" + std::to_string(index) + "]: ");
                return make_error_code(client_errc::bad_response);
            }
            result.executions.push_back(std::move(summary));
            ++index;
        }
    }

    std::string token;
    if (!r.get_string(*root, "nextToken", token)) return make_error_code(client_errc::bad_response);
    if (!token.empty()) result.next_token = std::move(token);

    out = std::move(result);
    return {};
}

constexpr std::string_view generic_reason(unsigned status) noexcept {
    switch (status) {
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    case 506: return "Variant Also Negotiates";
    case 507: return "Insufficient Storage";
    case 508: return "Loop Detected";
    case 510: return "Not Extended";
    case 511: return "Network Authentication Required";
    default: return "";
    }
}

// A string member of the error body, or nullopt (missing, null, not a string).
std::optional<std::string_view> string_member(const json::object* obj, std::string_view key) {
    if (!obj) return std::nullopt;
    const json::value* v = obj->if_contains(json::string_view(key.data(), key.size()));
    if (!v) return std::nullopt;
    const json::string* s = v->if_string();
    if (!s) return std::nullopt;
    return std::string_view(s->data(), s->size());
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Validation

std::string quote_for_message(std::string_view value) {
    constexpr std::size_t max_shown = 64;
    std::string out;
    out.reserve(std::min(value.size(), max_shown) + 8);
    out += '\'';
    const std::size_t n = std::min(value.size(), max_shown);
    for (std::size_t i = 0; i < n; ++i) {
        const auto c = static_cast<unsigned char>(value[i]);
        if (c == '\'' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c >= 0x20 && c < 0x7F) {
            out += static_cast<char>(c);
        } else {
            out += "\\x";
            append_hex_byte(out, c);
        }
    }
    if (value.size() > max_shown) out += "...";
    out += '\'';
    return out;
}

error_code validate_thing_name(std::string_view value, std::string* what) {
    return check_pattern(value, what, client_errc::invalid_thing_name, "thingName", thing_name_rule, 128,
                         is_thing_char);
}

error_code validate_job_id(std::string_view value, std::string* what) {
    return check_pattern(value, what, client_errc::invalid_job_id, "jobId", job_id_rule, 64, is_job_char);
}

error_code validate_namespace_id(std::string_view value, std::string* what) {
    return check_pattern(value, what, client_errc::invalid_namespace_id, "namespaceId", namespace_id_rule, 0,
                         is_job_char);
}

error_code validate_max_results(int value, std::string* what) {
    if (value >= 1 && value <= 250) return {};
    if (what) *what = "maxResults " + std::to_string(value) + " is invalid: must be an integer from 1 to 250";
    return make_error_code(client_errc::invalid_parameter);
}

error_code validate_status(job_execution_status value, std::string* what) {
    if (!to_string(value).empty()) return {};
    if (what)
        *what = "status " + std::to_string(static_cast<int>(value)) +
                " is invalid: must be one of QUEUED, IN_PROGRESS, SUCCEEDED, FAILED, TIMED_OUT, REJECTED, "
                "REMOVED, CANCELED";
    return make_error_code(client_errc::invalid_parameter);
}

error_code validate_status_details(const std::map<std::string, std::string>& details, std::string* what) {
    constexpr auto code = client_errc::invalid_parameter;
    if (details.size() > 10) {
        if (what)
            *what = "statusDetails is invalid: must have at most 10 entries (it has " + std::to_string(details.size()) +
                    ")";
        return make_error_code(code);
    }
    for (const auto& [key, value] : details) {
        if (auto ec = check_pattern(key, what, code, "statusDetails key", "1-128 characters of [a-zA-Z0-9:_-]", 128,
                                    is_thing_char))
            return ec;
        constexpr std::string_view value_rule = "1 or more characters of UTF-8 text without control characters";
        const std::string field = what ? "statusDetails[" + quote_for_message(key) + "]" : std::string();
        if (value.empty()) return fail(code, what, field, value, value_rule, "it is empty");
        std::size_t i = 0;
        while (i < value.size()) {
            const std::size_t at = i;
            char32_t cp = 0;
            if (!decode_utf8(value, i, cp))
                return fail(code, what, field, value, value_rule, "malformed UTF-8 at offset " + std::to_string(at));
            if (is_category_c(cp)) {
                if (!what) return make_error_code(code);
                std::string detail = "code point U+";
                const int digits = cp > 0xFFFF ? (cp > 0xFFFFF ? 6 : 5) : 4;
                for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) detail += hex_upper[(cp >> shift) & 0xF];
                detail += " at offset " + std::to_string(at) + " is not allowed";
                return fail(code, what, field, value, value_rule, detail);
            }
        }
    }
    return {};
}

bool parse_execution_number(std::string_view text, std::int64_t& out, std::string* what) {
    constexpr std::string_view rule = "a decimal integer from -9223372036854775808 to 9223372036854775807";
    auto reject = [&](std::string_view detail) {
        if (what) fail(client_errc::invalid_execution_number, what, "executionNumber", text, rule, detail);
        return false;
    };
    if (text.empty()) return reject("it is empty");
    const std::size_t digits_from = text.front() == '-' ? 1 : 0;
    if (digits_from == text.size()) return reject("no digits");
    for (std::size_t i = digits_from; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < '0' || c > '9') return what ? reject(describe_bad_byte(text, i)) : false;
    }
    std::int64_t value = 0;
    const auto res = std::from_chars(text.data(), text.data() + text.size(), value, 10);
    if (res.ec == std::errc::result_out_of_range) return reject("out of the signed 64-bit range");
    if (res.ec != std::errc{} || res.ptr != text.data() + text.size()) return reject("not a decimal integer");
    out = value;
    return true;
}

// ---------------------------------------------------------------------------------------------
// Percent-encoding

void append_percent_encoded(std::string& out, std::string_view bytes) {
    std::size_t plain = 0;  // start of the run of unreserved bytes not appended yet
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        const auto c = static_cast<unsigned char>(bytes[i]);
        if (is_unreserved(c)) continue;
        out.append(bytes.data() + plain, i - plain);
        out += '%';
        append_hex_byte(out, c);
        plain = i + 1;
    }
    out.append(bytes.data() + plain, bytes.size() - plain);
}

std::string encode_label(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size());
    append_percent_encoded(out, bytes);
    return out;
}

std::string encode_query_value(std::string_view bytes) { return encode_label(bytes); }

// ---------------------------------------------------------------------------------------------
// Requests

namespace {

// The query parameters of the list operations, in the order the AWS CLI sends them
// (namespaceId only for ListJobExecutionsForThing).
void append_list_params(std::string& query, const std::optional<job_execution_status>& status,
                        const std::optional<std::string>& namespace_id, const std::optional<int>& max_results,
                        const std::optional<std::string>& next_token) {
    if (status) append_query_param(query, "status", to_string(*status));
    if (namespace_id) append_query_param(query, "namespaceId", *namespace_id);
    if (max_results) append_query_param(query, "maxResults", std::to_string(*max_results));
    if (next_token) append_query_param(query, "nextToken", *next_token);
}

operation_request start_request(std::string_view method, std::string_view operation_name, std::string path) {
    operation_request r;
    r.method = method;
    r.operation_name = operation_name;
    r.path = std::move(path);
    return r;
}

}  // namespace

operation_request build_request(const delete_job_execution_request& req) {
    constexpr std::string_view number_label = "/executionNumber/";
    auto r = start_request("DELETE", "DeleteJobExecution",
                           things_jobs_path(req.thing_name, req.job_id, number_label.size() + 20));
    r.path += number_label;
    append_int(r.path, req.execution_number);
    if (req.force) append_query_param(r.query, "force", *req.force ? "true" : "false");
    if (req.namespace_id) append_query_param(r.query, "namespaceId", *req.namespace_id);
    return r;
}

operation_request build_request(const list_job_executions_for_job_request& req) {
    auto r = start_request("GET", "ListJobExecutionsForJob", "/jobs/");
    append_percent_encoded(r.path, req.job_id);
    r.path += "/things";
    append_list_params(r.query, req.status, std::nullopt, req.max_results, req.next_token);
    return r;
}

operation_request build_request(const list_job_executions_for_thing_request& req) {
    auto r = start_request("GET", "ListJobExecutionsForThing", "/things/");
    append_percent_encoded(r.path, req.thing_name);
    r.path += "/jobs";
    append_list_params(r.query, req.status, req.namespace_id, req.max_results, req.next_token);
    if (req.job_id) append_query_param(r.query, "jobId", *req.job_id);
    return r;
}

operation_request build_request(const describe_job_execution_request& req) {
    auto r = start_request("GET", "DescribeJobExecution", things_jobs_path(req.thing_name, req.job_id));
    if (req.execution_number) {
        std::string number;
        append_int(number, *req.execution_number);
        append_query_param(r.query, "executionNumber", number);
    }
    return r;
}

operation_request build_request(const cancel_job_execution_request& req) {
    auto r = start_request("PUT", "CancelJobExecution", things_jobs_path(req.thing_name, req.job_id));
    r.content_type = "application/json";
    r.path += "/cancel";
    if (req.force) append_query_param(r.query, "force", *req.force ? "true" : "false");
    json::object body;
    if (req.expected_version) body["expectedVersion"] = *req.expected_version;
    if (!req.status_details.empty()) {
        json::object details;
        for (const auto& [k, v] : req.status_details)
            details[json::string_view(k.data(), k.size())] = json::string_view(v.data(), v.size());
        body["statusDetails"] = std::move(details);
    }
    r.body = json::serialize(body);
    return r;
}

// ---------------------------------------------------------------------------------------------
// Errors

std::string_view clean_error_code(std::string_view raw) noexcept {
    if (const auto colon = raw.find(':'); colon != std::string_view::npos) raw = raw.substr(0, colon);
    if (const auto hash = raw.rfind('#'); hash != std::string_view::npos) raw = raw.substr(hash + 1);
    return raw;
}

parsed_error parse_error_response(unsigned status, std::string_view reason, std::string_view x_amzn_error_type,
                                  std::string_view x_amzn_request_id, std::string_view x_amz_request_id,
                                  std::string_view body) noexcept {
    parsed_error e;
    e.http_status = status;
    try {
        e.request_id = std::string(!x_amzn_request_id.empty() ? x_amzn_request_id : x_amz_request_id);
        const std::string status_text = std::to_string(status);

        // 1. Generic (proxy/load balancer) answers.
        if (status >= 500) {
            const std::string_view stripped = trim_space(body);
            if (stripped.empty() || stripped.starts_with("<html>")) {
                e.code = status_text;
                e.message = std::string(reason.empty() ? generic_reason(status) : reason);
                return e;
            }
        }

        // 2. The JSON body, or the body text as the message.
        json::value doc;
        const json::object* obj = nullptr;
        bool body_is_text = false;
        if (!body.empty()) {
            json::error_code ec;
            json::parse_options opt;
            opt.max_depth = 256;
            doc = json::parse(json::string_view(body.data(), body.size()), ec, {}, opt);
            if (!ec) obj = doc.if_object();
            body_is_text = ec || !obj;
        }

        // 3. Message.
        if (body_is_text) {
            e.message = std::string(body);
        } else if (auto m = string_member(obj, "message")) {
            e.message = std::string(*m);
        } else if (auto m2 = string_member(obj, "Message")) {
            e.message = std::string(*m2);
        }

        // 4. Code.
        const std::optional<std::string_view> candidates[] = {
            x_amzn_error_type.empty() ? std::nullopt : std::optional<std::string_view>(x_amzn_error_type),
            string_member(obj, "code"),
            string_member(obj, "Code"),
            string_member(obj, "__type"),
        };
        for (const auto& c : candidates) {
            if (!c) continue;
            const std::string_view cleaned = clean_error_code(*c);
            if (!cleaned.empty()) {
                e.code = std::string(cleaned);
                break;
            }
        }
        if (e.code.empty()) e.code = status_text;
    } catch (...) {
        // Only std::bad_alloc can get here (a huge body); keep what is cheap to produce.
        e.message.clear();
        e.code.clear();
        try {
            e.code = std::to_string(status);
        } catch (...) {}
    }
    return e;
}

// ---------------------------------------------------------------------------------------------
// Responses

error_code parse_list_job_executions_for_job_response(std::string_view body, list_job_executions_result& out,
                                                      std::string* what) noexcept {
    return parse_noexcept(what, [&] { return parse_list(body, out, what, true); });
}

error_code parse_list_job_executions_for_thing_response(std::string_view body, list_job_executions_result& out,
                                                        std::string* what) noexcept {
    return parse_noexcept(what, [&] { return parse_list(body, out, what, false); });
}

namespace {

// DescribeJobExecution's execution.statusDetails.detailsMap (null values are left out).
bool read_status_details(const json_reader& r, const json::object& execution, std::map<std::string, std::string>& out) {
    const json::value* sd = json_reader::member(execution, "statusDetails");
    if (!sd) return true;
    const json::object* sdobj = sd->if_object();
    if (!sdobj) return r.bad("statusDetails is not an object");
    const json::value* dm = json_reader::member(*sdobj, "detailsMap");
    if (!dm) return true;
    const json::object* dmobj = dm->if_object();
    if (!dmobj) return r.bad("statusDetails.detailsMap is not an object");
    for (const auto& kv : *dmobj) {
        if (kv.value().is_null()) continue;
        const json::string* s = kv.value().if_string();
        if (!s)
            return r.bad("statusDetails.detailsMap value " +
                         quote_for_message(std::string_view(kv.key().data(), kv.key().size())) + " is not a string");
        out[std::string(kv.key().data(), kv.key().size())] = std::string(s->data(), s->size());
    }
    return true;
}

error_code parse_describe(std::string_view body, job_execution& out, std::string* what) {
    json::value doc;
    const json::object* root = nullptr;
    if (!parse_object(body, doc, root, what)) return make_error_code(client_errc::bad_response);
    const json_reader r{what};
    const json::value* ev = json_reader::member(*root, "execution");
    const json::object* eobj = ev ? ev->if_object() : nullptr;
    if (!eobj) {
        r.bad(ev ? "execution is not an object" : "execution is missing");
        return make_error_code(client_errc::bad_response);
    }
    job_execution x;
    const bool ok = r.get_string(*eobj, "jobId", x.job_id) && r.get_string(*eobj, "thingArn", x.thing_arn) &&
                    r.get_status(*eobj, x.status) && r.get_bool(*eobj, "forceCanceled", x.force_canceled) &&
                    r.get_timestamp(*eobj, "queuedAt", x.queued_at) &&
                    r.get_timestamp(*eobj, "startedAt", x.started_at) &&
                    r.get_timestamp(*eobj, "lastUpdatedAt", x.last_updated_at) &&
                    r.get_int64(*eobj, "executionNumber", x.execution_number) &&
                    r.get_int64(*eobj, "versionNumber", x.version_number) &&
                    r.get_int64(*eobj, "approximateSecondsBeforeTimedOut", x.approximate_seconds_before_timed_out) &&
                    read_status_details(r, *eobj, x.status_details);
    if (!ok) {
        if (what) what->insert(0, "execution: ");
        return make_error_code(client_errc::bad_response);
    }
    out = std::move(x);
    return {};
}

}  // namespace

error_code parse_describe_job_execution_response(std::string_view body, job_execution& out,
                                                 std::string* what) noexcept {
    return parse_noexcept(what, [&] { return parse_describe(body, out, what); });
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Public: job_execution_status names and validate() of the requests.

namespace {
constexpr std::array<std::string_view, 8> status_names{
    "QUEUED", "IN_PROGRESS", "SUCCEEDED", "FAILED", "TIMED_OUT", "REJECTED", "REMOVED", "CANCELED",
};
}  // namespace

std::string_view to_string(job_execution_status s) noexcept {
    const auto i = static_cast<std::size_t>(s);
    return i < status_names.size() ? status_names[i] : std::string_view{};
}

bool from_string(std::string_view wire_name, job_execution_status& out) noexcept {
    for (std::size_t i = 0; i < status_names.size(); ++i) {
        if (status_names[i] == wire_name) {
            out = static_cast<job_execution_status>(i);
            return true;
        }
    }
    return false;
}

namespace {

// The execution key every single-execution operation carries.
error_code validate_key(std::string_view thing_name, std::string_view job_id, std::string* what) {
    if (auto ec = detail::validate_thing_name(thing_name, what)) return ec;
    return detail::validate_job_id(job_id, what);
}

// An optional field passes when it is not set.
template <class T, class Check>
error_code if_set(const std::optional<T>& value, Check check, std::string* what) {
    return value ? check(*value, what) : error_code{};
}

}  // namespace

error_code validate(const delete_job_execution_request& req, std::string* what) {
    if (auto ec = validate_key(req.thing_name, req.job_id, what)) return ec;
    return if_set(req.namespace_id, detail::validate_namespace_id, what);
}

error_code validate(const list_job_executions_for_job_request& req, std::string* what) {
    if (auto ec = detail::validate_job_id(req.job_id, what)) return ec;
    if (auto ec = if_set(req.status, detail::validate_status, what)) return ec;
    return if_set(req.max_results, detail::validate_max_results, what);
}

error_code validate(const list_job_executions_for_thing_request& req, std::string* what) {
    if (auto ec = detail::validate_thing_name(req.thing_name, what)) return ec;
    if (auto ec = if_set(req.status, detail::validate_status, what)) return ec;
    if (auto ec = if_set(req.namespace_id, detail::validate_namespace_id, what)) return ec;
    if (auto ec = if_set(req.max_results, detail::validate_max_results, what)) return ec;
    return if_set(req.job_id, detail::validate_job_id, what);
}

error_code validate(const describe_job_execution_request& req, std::string* what) {
    return validate_key(req.thing_name, req.job_id, what);
}

error_code validate(const cancel_job_execution_request& req, std::string* what) {
    if (auto ec = validate_key(req.thing_name, req.job_id, what)) return ec;
    return detail::validate_status_details(req.status_details, what);
}

}  // namespace iotjobs
