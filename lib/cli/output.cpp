// --output json|text|table, the response JSON of the read commands, resume tokens and the bulk
// JSON summary (see output.hpp).
#include "cli/output.hpp"

#include "cli/bulk.hpp"
#include "util/encoding.hpp"
#include "util/json_text.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>
#include <map>
#include <set>

namespace iotjobs::cli {
namespace json = boost::json;

std::string iso8601_timestamp(double epoch_seconds) {
    double whole = std::floor(epoch_seconds);
    // Python rounds to the microsecond, half to even.
    auto micros = static_cast<long long>(std::nearbyint((epoch_seconds - whole) * 1e6));
    if (micros >= 1000000) {
        micros -= 1000000;
        whole += 1;
    }
    const std::time_t t = static_cast<std::time_t>(whole);
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[64];
    std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    std::string s(buf, n);
    if (micros) {
        std::snprintf(buf, sizeof buf, ".%06lld", micros);
        s += buf;
    }
    long off = tm.tm_gmtoff;
    const char sign = off < 0 ? '-' : '+';
    off = off < 0 ? -off : off;
    std::snprintf(buf, sizeof buf, "%c%02ld:%02ld", sign, off / 3600, off / 60 % 60);
    s += buf;
    if (off % 60) {
        std::snprintf(buf, sizeof buf, ":%02ld", off % 60);
        s += buf;
    }
    return s;
}

namespace {

void put_time(json::object& o, std::string_view key, const std::optional<double>& t) {
    if (t) o[key] = iso8601_timestamp(*t);
}

}  // namespace

boost::json::object summary_json(const job_execution_summary& s, bool for_job) {
    json::object inner;  // JobExecutionSummary, in model order
    inner["status"] = to_string(s.status);
    put_time(inner, "queuedAt", s.queued_at);
    put_time(inner, "startedAt", s.started_at);
    put_time(inner, "lastUpdatedAt", s.last_updated_at);
    if (s.execution_number) inner["executionNumber"] = *s.execution_number;
    if (s.retry_attempt) inner["retryAttempt"] = *s.retry_attempt;
    json::object o;
    if (for_job)
        o["thingArn"] = s.thing_arn;
    else
        o["jobId"] = s.job_id;
    o["jobExecutionSummary"] = std::move(inner);
    return o;
}

boost::json::object execution_json(const job_execution& e) {
    json::object o;  // JobExecution, in model order
    o["jobId"] = e.job_id;
    o["status"] = to_string(e.status);
    o["forceCanceled"] = e.force_canceled;
    json::object details;
    for (const auto& [k, v] : e.status_details) details[k] = v;
    o["statusDetails"] = json::object{{"detailsMap", std::move(details)}};
    o["thingArn"] = e.thing_arn;
    put_time(o, "queuedAt", e.queued_at);
    put_time(o, "startedAt", e.started_at);
    put_time(o, "lastUpdatedAt", e.last_updated_at);
    if (e.execution_number) o["executionNumber"] = *e.execution_number;
    if (e.version_number) o["versionNumber"] = *e.version_number;
    if (e.approximate_seconds_before_timed_out)
        o["approximateSecondsBeforeTimedOut"] = *e.approximate_seconds_before_timed_out;
    return o;
}

// ---------------------------------------------------------------------------------------------
// json: Python's json.dumps(indent=4, ensure_ascii=False).

namespace {

std::string python_float(double d) {
    if (std::isnan(d)) return "NaN";
    if (std::isinf(d)) return d < 0 ? "-Infinity" : "Infinity";
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, d);
    std::string s(buf, r.ptr);
    if (s.find_first_of(".e") == std::string::npos) s += ".0";
    return s;
}

using iotjobs::detail::append_json_string;  // util/json_text.hpp

void append_pretty(std::string& out, const json::value& v, std::size_t depth) {
    const std::string pad((depth + 1) * 4, ' ');
    const std::string close(depth * 4, ' ');
    if (const auto* o = v.if_object()) {
        if (o->empty()) {
            out += "{}";
            return;
        }
        out += "{\n";
        bool first = true;
        for (const auto& kv : *o) {
            if (!first) out += ",\n";
            first = false;
            out += pad;
            append_json_string(out, kv.key());
            out += ": ";
            append_pretty(out, kv.value(), depth + 1);
        }
        out += "\n" + close + "}";
    } else if (const auto* a = v.if_array()) {
        if (a->empty()) {
            out += "[]";
            return;
        }
        out += "[\n";
        for (std::size_t i = 0; i < a->size(); ++i) {
            if (i) out += ",\n";
            out += pad;
            append_pretty(out, (*a)[i], depth + 1);
        }
        out += "\n" + close + "]";
    } else if (const auto* s = v.if_string()) {
        append_json_string(out, *s);
    } else if (v.is_double()) {
        out += python_float(v.get_double());
    } else {
        out += json::serialize(v);  // integers, booleans, null
    }
}

// Python's str() of a scalar.
std::string python_str(const json::value& v) {
    if (const auto* s = v.if_string()) return std::string(*s);
    if (v.is_bool()) return v.get_bool() ? "True" : "False";
    if (v.is_null()) return "None";
    if (v.is_double()) return python_float(v.get_double());
    return json::serialize(v);
}

bool is_scalar(const json::value& v) { return !v.is_object() && !v.is_array(); }

std::string upper(std::string_view s) {
    std::string u(s);
    for (char& c : u)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return u;
}

}  // namespace

std::string format_json(const boost::json::value& v) {
    std::string out;
    append_pretty(out, v, 0);
    out += '\n';
    return out;
}

// ---------------------------------------------------------------------------------------------
// text: awscli/formatter.py's TextFormatter (awscli/text.py), rule for rule.

namespace {

void text_value(std::string& out, const json::value& v, const std::string* identifier,
                const std::vector<std::string>* scalar_keys);

void text_dict(std::string& out, const json::object& o, const std::string* identifier,
               const std::vector<std::string>* scalar_keys) {
    std::vector<std::string> scalars;
    std::vector<std::pair<std::string, const json::value*>> non_scalars;
    std::vector<std::string> keys;
    for (const auto& kv : o) keys.emplace_back(kv.key());
    std::sort(keys.begin(), keys.end());
    if (!scalar_keys) {
        for (const auto& k : keys) {
            const json::value& v = o.at(k);
            if (is_scalar(v))
                scalars.push_back(python_str(v));
            else
                non_scalars.emplace_back(k, &v);
        }
    } else {
        for (const auto& k : *scalar_keys) {
            const json::value* v = o.if_contains(k);
            scalars.push_back(v ? python_str(*v) : std::string());
        }
        for (const auto& k : keys)
            if (std::find(scalar_keys->begin(), scalar_keys->end(), k) == scalar_keys->end())
                non_scalars.emplace_back(k, &o.at(k));
    }
    if (!scalars.empty()) {
        if (identifier) scalars.insert(scalars.begin(), upper(*identifier));
        for (std::size_t i = 0; i < scalars.size(); ++i) out += (i ? "\t" : "") + scalars[i];
        out += '\n';
    }
    for (const auto& [k, v] : non_scalars) text_value(out, *v, &k, nullptr);
}

void text_scalar_list(std::string& out, const std::vector<const json::value*>& items, const std::string* identifier) {
    if (identifier) {
        for (const auto* v : items) out += upper(*identifier) + "\t" + python_str(*v) + "\n";
        return;
    }
    for (std::size_t i = 0; i < items.size(); ++i) out += (i ? "\t" : "") + python_str(*items[i]);
    out += '\n';
}

void text_list(std::string& out, const json::array& a, const std::string* identifier) {
    if (a.empty()) return;
    if (std::any_of(a.begin(), a.end(), [](const json::value& v) { return v.is_object(); })) {
        std::set<std::string> seen;
        for (const auto& el : a)
            if (const auto* o = el.if_object())
                for (const auto& kv : *o)
                    if (is_scalar(kv.value())) seen.emplace(kv.key());
        const std::vector<std::string> all(seen.begin(), seen.end());
        for (const auto& el : a) text_value(out, el, identifier, &all);
        return;
    }
    std::vector<const json::value*> scalars, others;
    for (const auto& el : a) (is_scalar(el) ? scalars : others).push_back(&el);
    if (!scalars.empty()) text_scalar_list(out, scalars, identifier);
    for (const auto* el : others) text_value(out, *el, identifier, nullptr);
}

void text_value(std::string& out, const json::value& v, const std::string* identifier,
                const std::vector<std::string>* scalar_keys) {
    if (const auto* o = v.if_object())
        text_dict(out, *o, identifier, scalar_keys);
    else if (const auto* a = v.if_array())
        text_list(out, *a, identifier);
    else
        out += python_str(v) + "\n";
}

}  // namespace

std::string format_text(const boost::json::value& v) {
    std::string out;
    text_value(out, v, nullptr, nullptr);
    return out;
}

// ---------------------------------------------------------------------------------------------
// table: boxed, with dotted column names for nested members.

namespace {

using row = std::vector<std::pair<std::string, std::string>>;  // (key, value) in first-seen order

void flatten(const json::value& v, const std::string& prefix, row& out) {
    if (const auto* o = v.if_object()) {
        for (const auto& kv : *o)
            flatten(kv.value(), prefix.empty() ? std::string(kv.key()) : prefix + "." + std::string(kv.key()), out);
    } else if (const auto* a = v.if_array()) {
        std::string joined;
        for (const auto& el : *a)
            joined += (joined.empty() ? "" : ", ") + (is_scalar(el) ? python_str(el) : json::serialize(el));
        out.emplace_back(prefix, joined);
    } else {
        out.emplace_back(prefix, python_str(v));
    }
}

std::string rule(const std::vector<std::size_t>& widths) {
    std::string s = "+";
    for (auto w : widths) s += std::string(w + 2, '-') + "+";
    return s + "\n";
}

std::string cells(const std::vector<std::string>& values, const std::vector<std::size_t>& widths) {
    std::string s = "|";
    for (std::size_t i = 0; i < widths.size(); ++i) {
        const std::string& v = i < values.size() ? values[i] : std::string();
        s += " " + v + std::string(widths[i] - v.size(), ' ') + " |";
    }
    return s + "\n";
}

std::string box(std::string_view title, const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> widths(header.size(), 0);
    for (std::size_t i = 0; i < header.size(); ++i) widths[i] = header[i].size();
    for (const auto& r : rows)
        for (std::size_t i = 0; i < r.size() && i < widths.size(); ++i) widths[i] = std::max(widths[i], r[i].size());
    std::size_t inner = 0;
    for (auto w : widths) inner += w + 3;
    inner = inner ? inner - 1 : 0;
    if (title.size() + 2 > inner) {
        if (!widths.empty()) widths.back() += title.size() + 2 - inner;
        inner = title.size() + 2;
    }
    std::string s = "+" + std::string(inner, '-') + "+\n";
    const std::size_t left = (inner - title.size()) / 2;
    s += "|" + std::string(left, ' ') + std::string(title) + std::string(inner - title.size() - left, ' ') + "|\n";
    if (widths.empty()) return s + "+" + std::string(inner, '-') + "+\n";
    s += rule(widths) + cells(header, widths) + rule(widths);
    for (const auto& r : rows) s += cells(r, widths);
    return s + rule(widths);
}

std::string table_of_objects(std::string_view title, const json::array& a) {
    std::vector<row> flat;
    std::vector<std::string> columns;
    for (const auto& el : a) {
        row r;
        flatten(el, is_scalar(el) ? std::string("value") : std::string(), r);
        for (const auto& kv : r)
            if (std::find(columns.begin(), columns.end(), kv.first) == columns.end()) columns.push_back(kv.first);
        flat.push_back(std::move(r));
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& r : flat) {
        std::vector<std::string> values(columns.size());
        for (const auto& [k, v] : r)
            values[static_cast<std::size_t>(std::find(columns.begin(), columns.end(), k) - columns.begin())] = v;
        rows.push_back(std::move(values));
    }
    return box(title, columns, rows);
}

}  // namespace

std::string format_table(const boost::json::value& v, std::string_view title) {
    const json::object* o = v.if_object();
    if (!o) {
        if (const auto* a = v.if_array()) return table_of_objects(title, *a);
        return box(title, {"value"}, {{python_str(v)}});
    }
    std::string out;
    std::vector<std::vector<std::string>> pairs;
    for (const auto& kv : *o) {
        if (const auto* a = kv.value().if_array()) {
            out += table_of_objects(kv.key(), *a);
            continue;
        }
        row r;
        flatten(kv.value(), std::string(kv.key()), r);
        for (auto& [k, val] : r) pairs.push_back({k, val});
    }
    if (!pairs.empty())
        out = box(title, {"key", "value"}, pairs) + out;
    else if (!out.empty())
        out = box(title, {}, {}) + out;
    return out;
}

std::string format_response(const boost::json::value& v, output_format f, std::string_view title) {
    if (const auto* o = v.if_object(); o && o->empty()) return {};
    switch (f) {
    case output_format::text: {
        // As awscli's paginated text output: the resume token last, on a NEXTTOKEN line.
        const auto* o = v.if_object();
        const json::value* token = o ? o->if_contains("NextToken") : nullptr;
        if (!token) return format_text(v);
        json::object rest = *o;
        rest.erase("NextToken");
        return format_text(rest) + "NEXTTOKEN\t" + python_str(*token) + "\n";
    }
    case output_format::table: return format_table(v, title);
    case output_format::json: break;
    }
    return format_json(v);
}

// ---------------------------------------------------------------------------------------------
// Resume tokens

std::string encode_resume_token(const resume_token& t) {
    // json.dumps of the dict: {"nextToken": ..., "boto_truncate_amount": N}
    std::string s = "{\"nextToken\": ";
    if (t.next_token)
        append_json_string(s, *t.next_token);
    else
        s += "null";
    if (t.truncate_amount) s += ", \"boto_truncate_amount\": " + std::to_string(t.truncate_amount);
    s += "}";
    return iotjobs::detail::base64_encode(s);
}

std::optional<resume_token> decode_resume_token(std::string_view text) {
    resume_token t;
    if (auto raw = iotjobs::detail::base64_decode(text)) {
        boost::system::error_code ec;
        json::value v = json::parse(*raw, ec);
        if (!ec && v.is_object()) {
            const auto& o = v.as_object();
            if (const auto* n = o.if_contains("nextToken"); n && n->is_string())
                t.next_token = std::string(n->get_string());
            if (const auto* a = o.if_contains("boto_truncate_amount")) {
                if (!a->is_int64() || a->get_int64() < 0) return std::nullopt;
                t.truncate_amount = static_cast<std::uint64_t>(a->get_int64());
            }
            return t;
        }
    }
    // botocore's legacy "<token>___<amount>".
    const auto sep = text.rfind("___");
    if (sep == std::string_view::npos) return std::nullopt;
    std::uint64_t amount = 0;
    const auto rest = text.substr(sep + 3);
    const auto r = std::from_chars(rest.data(), rest.data() + rest.size(), amount);
    if (r.ec != std::errc{} || r.ptr != rest.data() + rest.size()) return std::nullopt;
    if (sep) t.next_token = std::string(text.substr(0, sep));
    t.truncate_amount = amount;
    return t;
}

// ---------------------------------------------------------------------------------------------
// The bulk summary

boost::json::object bulk_summary_json(const bulk_result& r, const bulk_settings& s, int exit_code) {
    const bulk_summary& m = r.summary;
    json::object o;
    o["command"] = s.command;
    o["items"] = m.items;
    o["outcomes"] =
        json::object{{"deleted", m.deleted}, {"not_found", m.not_found},         {"refused", m.refused},
                     {"failed", m.failed},   {"not_attempted", m.not_attempted}, {"invalid_input", m.invalid_input}};
    o["possiblyDeletedEarlier"] = m.possibly_deleted_earlier;
    o["skipped"] = r.skipped;
    const bool stopped = m.stopped_early || r.interrupted;
    o["stoppedEarly"] = stopped;
    std::string reason = m.stop_reason;
    if (r.interrupted)
        reason = "interrupted (SIGINT)";
    else if (!r.report_error.empty())
        reason = "the report could not be written";
    o["stopReason"] = stopped ? json::value(reason) : json::value(nullptr);
    o["report"] = s.report ? json::value(*s.report) : json::value(nullptr);
    o["seconds"] = m.seconds;
    o["requests"] = r.stats.requests;
    o["retries"] = r.stats.retries;
    o["throttled"] = r.stats.throttled;
    if (s.dry_run)
        o["dryRun"] = json::object{{"deleted", r.predicted_deleted},
                                   {"refused", r.predicted_refused},
                                   {"not_found", r.predicted_not_found},
                                   {"unknown", r.predicted_unknown}};
    if (s.kind == bulk_kind::purge && !s.dry_run) {
        json::object v;
        v["verified"] = r.verified;
        v["remaining"] = r.remaining;
        v["error"] = r.verify_error.empty() ? json::value(nullptr) : json::value(r.verify_error);
        o["verification"] = std::move(v);
    }
    if (!r.pairs.empty()) {
        json::array pairs;
        for (const auto& p : r.pairs) {
            const bulk_summary& pm = p.summary;
            json::object x;
            x["profile"] = p.key.profile.empty() ? json::value(nullptr) : json::value(p.key.profile);
            x["region"] = p.key.region.empty() ? json::value(nullptr) : json::value(p.key.region);
            x["items"] = pm.items;
            x["seconds"] = pm.seconds;
            x["outcomes"] = json::object{
                {"deleted", pm.deleted}, {"not_found", pm.not_found},         {"refused", pm.refused},
                {"failed", pm.failed},   {"not_attempted", pm.not_attempted}, {"invalid_input", pm.invalid_input}};
            x["requests"] = p.stats.requests;
            x["retries"] = p.stats.retries;
            x["throttled"] = p.stats.throttled;
            pairs.push_back(std::move(x));
        }
        o["pairs"] = std::move(pairs);
    }
    o["exitCode"] = exit_code;
    return o;
}

void print_bulk_json_summary(const command_context& ctx, const bulk_result& r, const bulk_settings& s, int exit_code) {
    if (ctx.globals.output != output_format::json) return;
    std::ostream& to = (s.report && *s.report == "-") ? ctx.err : ctx.out;
    to << json::serialize(bulk_summary_json(r, s, exit_code)) << '\n' << std::flush;
}

std::string outcome_debug_line(const bulk_outcome& o, bool purge) {
    std::string s = (purge ? "item " : "line ") + std::to_string(o.item.line);
    if (o.kind != bulk_outcome_kind::invalid_input || o.attempts > 0) {
        const auto& q = o.item.request;
        s += " (thing=" + q.thing_name + " job=" + q.job_id + " execution=" + std::to_string(q.execution_number) + ")";
    }
    s += ": " + std::string(to_string(o.kind));
    if (o.predicted) s += " (predicted " + std::string(to_string(*o.predicted)) + ")";
    if (!o.aws_error_name.empty())
        s += ", error " + o.aws_error_name;
    else if (o.ec)
        s += ", error " + o.ec.message();
    s += ", request id " + (o.request_id.empty() ? std::string("(none)") : o.request_id);
    s += ", attempts " + std::to_string(o.attempts);
    return s;
}

}  // namespace iotjobs::cli
