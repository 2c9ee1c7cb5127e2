// iotjobs bulk-delete and iotjobs purge: many deletes through the bulk engine, with a JSON Lines
// report, a live progress line on a terminal, a summary, SIGINT handling and --skip-done.
//
// The steps, as for delete-job-execution: settings from the options (252), configuration (253),
// then the files (input and --skip-done: 252; the report: 255), the client (253/255), the run.
// The run is bulk_run, one method per step. Every run goes through bulk_delete_fanout: one
// client per (profile, region) (the configured pair's unless the input's rows or purge's
// --region / --profile values name others), made when first needed.
// Everything runs on one thread: the engines, the outcome callback (report, counters), the
// progress ticker and the SIGINT handler share one io_context, so no state needs a lock.
#include "cli/bulk.hpp"
#include "cli/output.hpp"

#include "bulk/report.hpp"
#include "endpoint/endpoint.hpp"
#include "jobs/wire.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <ext/stdio_filebuf.h>  // libstdc++: an istream over file descriptor 0

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <stdexcept>
#include <unordered_map>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace iotjobs::cli {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;

failure usage_failure(std::string message) { return failure{exit_usage, std::move(message), true}; }

std::string in_quotes(std::string_view s) { return "\"" + std::string(s) + "\""; }

bool parse_count(std::string_view text, std::uint64_t& out) {
    if (text.empty() || text.size() > 18) return false;
    for (char c : text)
        if (c < '0' || c > '9') return false;
    const auto r = std::from_chars(text.data(), text.data() + text.size(), out, 10);
    return r.ec == std::errc{} && r.ptr == text.data() + text.size();
}

bool parse_rate(std::string_view text, double& out) {
    if (text.empty() || text.size() > 32) return false;
    for (char c : text)  // plain decimal numbers only: no sign, exponent, inf or nan
        if (!((c >= '0' && c <= '9') || c == '.')) return false;
    double v = 0;
    const auto r = std::from_chars(text.data(), text.data() + text.size(), v, std::chars_format::fixed);
    if (r.ec != std::errc{} || r.ptr != text.data() + text.size() || !std::isfinite(v) || v < 0) return false;
    out = v;
    return true;
}

std::string all_statuses_text() {
    std::string s;
    for (int i = 0; i <= static_cast<int>(job_execution_status::canceled); ++i) {
        if (i) s += " | ";
        s += to_string(static_cast<job_execution_status>(i));
    }
    return s;
}

std::string trim_blanks(std::string_view item) {
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    return std::string(item);
}

std::string upper(std::string_view s) {
    std::string u(s);
    for (char& c : u)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return u;
}

std::optional<failure> parameter_problem(std::string_view field, std::string_view option, const error_code& ec,
                                         const std::string& what) {
    if (!ec) return std::nullopt;
    std::string m = "Parameter validation failed:\nInvalid value for parameter ";
    m += field;
    m += " (";
    m += option;
    m += "): ";
    std::string_view w = what;
    if (w.size() > field.size() && w.starts_with(field) && w[field.size()] == ' ') w.remove_prefix(field.size() + 1);
    m += w.empty() ? ec.message() : std::string(w);
    return failure{exit_usage, std::move(m), false};
}

// The options bulk-delete and purge share.
std::optional<failure> common_settings(const parsed_options& o, bulk_settings& s) {
    if (const std::string* v = o.value("concurrency")) {
        std::uint64_t n = 0;
        if (!parse_count(*v, n) || n < 1 || n > max_bulk_concurrency)
            return usage_failure("argument --concurrency: invalid value " + detail::quote_for_message(*v) +
                                 ": must be a whole number of requests from 1 to " +
                                 std::to_string(max_bulk_concurrency));
        s.concurrency = static_cast<std::size_t>(n);
    }
    if (const std::string* v = o.value("rate")) {
        double r = 0;
        if (!parse_rate(*v, r) || r > max_bulk_rate)
            return usage_failure("argument --rate: invalid value " + detail::quote_for_message(*v) +
                                 ": must be a number of requests per second up to 1000000 (0, the default: the "
                                 "adaptive rate limiter)");
        s.rate = r;
    }
    s.force = o.flag("force");
    if (const std::string* v = o.value("namespace-id")) {
        std::string what;
        if (auto f = parameter_problem("namespaceId", "--namespace-id", detail::validate_namespace_id(*v, &what), what))
            return f;
        s.namespace_id = *v;
    }
    if (const std::string* v = o.value("report")) {
        if (v->empty()) return usage_failure("argument --report: expected a file name (or - for standard output)");
        s.report = *v;
    }
    s.dry_run = o.flag("dry-run").value_or(false);
    return std::nullopt;
}

}  // namespace

std::variant<std::vector<job_execution_status>, failure> parse_status_list(std::string_view text) {
    std::vector<job_execution_status> out;
    std::size_t start = 0;
    for (;;) {
        const std::size_t comma = text.find(',', start);
        std::string_view item = text.substr(start, comma == std::string_view::npos ? text.npos : comma - start);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
        if (item.empty())
            return usage_failure("argument --status: an empty status name in " + detail::quote_for_message(text) +
                                 "; give one or more of " + all_statuses_text() + ", separated by commas");
        job_execution_status st{};
        if (!from_string(item, st)) {
            std::string m = "argument --status: Invalid choice " + detail::quote_for_message(item);
            job_execution_status guess{};
            if (from_string(upper(item), guess))
                m += " (status names are upper case: " + std::string(to_string(guess)) + ")";
            m += ", valid choices are:\n\n" + all_statuses_text();
            return usage_failure(std::move(m));
        }
        if (std::find(out.begin(), out.end(), st) == out.end()) out.push_back(st);
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return out;
}

std::variant<bulk_settings, failure> make_bulk_delete_settings(const parsed_options& o) {
    bulk_settings s;
    s.kind = bulk_kind::input;
    s.command = "bulk-delete";
    if (const std::string* v = o.value("input")) s.input = *v;
    if (s.input.empty()) return usage_failure("argument --input: expected a file name (or - for standard input)");
    if (const std::string* v = o.value("format")) {
        if (*v == "csv")
            s.format = input_format::csv;
        else if (*v == "jsonl")
            s.format = input_format::jsonl;
        else
            return usage_failure("argument --format: Invalid choice " + detail::quote_for_message(*v) +
                                 ", valid choices are:\n\ncsv | jsonl");
    }
    if (auto f = common_settings(o, s)) return *f;
    for (const std::string& v : o.list("skip-done")) {
        if (v.empty() || v == "-")
            return usage_failure("argument --skip-done: expected the file name of an earlier report");
        s.skip_done.push_back(v);
    }
    if (s.report && *s.report != "-") {
        if (std::find(s.skip_done.begin(), s.skip_done.end(), *s.report) != s.skip_done.end())
            return usage_failure("argument --report: " + detail::quote_for_message(*s.report) +
                                 " is the --skip-done file; write the new report to another file");
        if (*s.report == s.input)
            return usage_failure("argument --report: " + detail::quote_for_message(*s.report) +
                                 " is the --input file; write the report to another file");
    }
    return s;
}

namespace {

// The values of --NAME (repeatable) and --NAMEs (comma-separated lists, repeatable), in order,
// without repeats. 252 for an empty name or (regions) one that is not a region name.
std::optional<failure> fan_out_list(const parsed_options* globals, const parsed_options& o, std::string_view name,
                                    std::vector<std::string>& out) {
    std::vector<std::string> given;
    if (globals) given = globals->list(name);
    const std::string plural_name = std::string(name) + "s";
    for (const std::string& v : o.list(plural_name)) {
        std::size_t start = 0;
        for (;;) {
            const std::size_t comma = v.find(',', start);
            given.push_back(trim_blanks(v.substr(start, comma == std::string::npos ? v.npos : comma - start)));
            if (comma == std::string::npos) break;
            start = comma + 1;
        }
    }
    for (const std::string& v : given) {
        if (v.empty()) return usage_failure("argument --" + plural_name + ": an empty " + std::string(name) + " name");
        if (name == "region" && !detail::is_valid_region(v))
            return usage_failure("argument --" + plural_name + ": Provided region_name " +
                                 detail::quote_for_message(v) + " doesn't match a supported format.");
        if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
    }
    return std::nullopt;
}

}  // namespace

std::variant<bulk_settings, failure> make_purge_settings(const parsed_options& o, const parsed_options* globals) {
    bulk_settings s;
    s.kind = bulk_kind::purge;
    s.command = "purge";
    const std::string* job = o.value("job-id");
    const std::string* thing = o.value("thing-name");
    if (!job && !thing) return usage_failure("one of the arguments --job-id --thing-name is required");
    if (job && thing) return usage_failure("argument --thing-name: not allowed with argument --job-id");
    if (const std::string* v = o.value("status")) {
        auto st = parse_status_list(*v);
        if (auto* f = std::get_if<failure>(&st)) return *f;
        s.statuses = std::move(std::get<std::vector<job_execution_status>>(st));
    }
    if (auto f = common_settings(o, s)) return *f;
    if (auto f = fan_out_list(globals, o, "region", s.regions)) return *f;
    if (auto f = fan_out_list(globals, o, "profile", s.profiles)) return *f;
    std::string what;
    if (job) {
        if (auto f = parameter_problem("jobId", "--job-id", detail::validate_job_id(*job, &what), what)) return *f;
        s.job_id = *job;
    } else {
        if (auto f = parameter_problem("thingName", "--thing-name", detail::validate_thing_name(*thing, &what), what))
            return *f;
        s.thing_name = *thing;
    }
    return s;
}

std::optional<std::uint64_t> count_input_items(const std::string& path, input_format format) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    std::vector<char> buf(1 << 20);
    std::uint64_t lines = 0;
    bool blank = true;     // the current line has only blanks so far
    int first = -1;        // the first non-blank byte of the file
    bool at_start = true;  // for the UTF-8 BOM
    for (;;) {
        const ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            ::close(fd);
            return std::nullopt;
        }
        if (n == 0) break;
        std::size_t i = 0;
        if (at_start) {
            at_start = false;
            if (n >= 3 && std::memcmp(buf.data(), "\xEF\xBB\xBF", 3) == 0) i = 3;
        }
        for (; i < static_cast<std::size_t>(n); ++i) {
            const char c = buf[i];
            if (c == '\n') {
                if (!blank) ++lines;
                blank = true;
            } else if (blank && c != ' ' && c != '\t' && c != '\r') {
                blank = false;
                if (first < 0) first = static_cast<unsigned char>(c);
            }
        }
    }
    ::close(fd);
    if (!blank) ++lines;
    const bool csv = format == input_format::csv || (format == input_format::automatic && first != '{');
    if (csv && lines > 0) --lines;  // the header row
    return lines;
}

// ---------------------------------------------------------------------------------------------
// Progress, summary, exit code

std::string format_eta(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) return "?";
    const auto s = static_cast<std::uint64_t>(std::llround(seconds));
    char buf[48];
    if (s < 60)
        std::snprintf(buf, sizeof buf, "%llus", static_cast<unsigned long long>(s));
    else if (s < 3600)
        std::snprintf(buf, sizeof buf, "%llu:%02llu", static_cast<unsigned long long>(s / 60),
                      static_cast<unsigned long long>(s % 60));
    else
        std::snprintf(buf, sizeof buf, "%llu:%02llu:%02llu", static_cast<unsigned long long>(s / 3600),
                      static_cast<unsigned long long>(s / 60 % 60), static_cast<unsigned long long>(s % 60));
    return buf;
}

namespace {

std::string rate_text(double r) {
    char buf[32];
    if (r >= 100 || r == 0)
        std::snprintf(buf, sizeof buf, "%.0f", r);
    else
        std::snprintf(buf, sizeof buf, "%.1f", r);
    return buf;
}

}  // namespace

std::string format_progress(const progress_snapshot& p) {
    std::string s = std::to_string(p.done);
    if (p.total) {
        s += '/';
        s += std::to_string(*p.total);
        const std::uint64_t pct = *p.total == 0 ? 100 : std::min<std::uint64_t>(100, p.done * 100 / *p.total);
        s += ' ';
        s += std::to_string(pct);
        s += '%';
    } else {
        s += " done";
    }
    s += "  ";
    s += p.rate ? rate_text(*p.rate) : std::string("-");
    s += "/s";
    if (p.total) {
        s += "  ETA ";
        if (p.done >= *p.total)
            s += "0s";
        else if (p.rate && *p.rate > 0)
            s += format_eta(static_cast<double>(*p.total - p.done) / *p.rate);
        else
            s += '?';
    }
    s += "  throttled " + std::to_string(p.throttled);
    s += "  retried " + std::to_string(p.retried);
    s += "  failed " + std::to_string(p.failed);
    if (p.refused) s += "  refused " + std::to_string(p.refused);
    if (p.invalid) s += "  invalid " + std::to_string(p.invalid);
    if (p.stopping) s += "  stopping";
    if (!p.pairs.empty()) {
        s += "  |";
        for (const auto& [name, done] : p.pairs) s += "  " + name + " " + std::to_string(done);
    }
    return s;
}

namespace {

std::string input_name(const bulk_settings& s) {
    return s.input == "-" ? std::string("(standard input)") : in_quotes(s.input);
}

std::string plural(std::uint64_t n, std::string_view one, std::string_view many) {
    return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

// The run stopped on an error every remaining item would share (r.fatal set).
failure fatal_stop_failure(const bulk_result& r, std::string_view endpoint, unsigned max_attempts) {
    call_outcome o;
    o.ec = r.fatal->ec;
    o.aws_error_name = r.fatal->aws_error_name;
    o.message = r.fatal->message;
    o.attempts = r.fatal->attempts;
    failure f = describe_outcome(o, "DeleteJobExecution", request_url(endpoint, r.fatal->item.request), max_attempts);
    if (f.exit_code == exit_success) f.exit_code = exit_service;
    f.message += "\nThe run stopped early: every remaining item would fail the same way (" +
                 std::to_string(r.summary.not_attempted) + " not attempted).";
    return f;
}

// The run ended with an error that is not a cancellation: the input or the listing failed, or
// something else stopped it. Why it stopped travels as a type (bulk_stop_reason) with the failing
// call's diagnostics; stop_reason is only displayed.
failure stopped_run_failure(const bulk_result& r, const bulk_settings& s, std::string_view endpoint,
                            unsigned max_attempts) {
    const bulk_summary& m = r.summary;
    if (m.stop_kind != bulk_stop_reason::source_failed)
        return failure{exit_other, "The run stopped early: " + m.stop_reason, false};
    const std::string& reason = m.stop_detail;
    if (s.kind == bulk_kind::purge) {
        // The List call's own diagnostics (AWS error name, message, timeout phase).
        call_outcome o = make_outcome(r.ec, m.stop_diagnostics);
        if (o.aws_error_name.empty() && o.message.empty()) o.message = reason;
        std::string url(endpoint);
        while (!url.empty() && url.back() == '/') url.pop_back();
        url += s.job_id ? "/jobs/" + detail::encode_label(*s.job_id) + "/things"
                        : "/things/" + detail::encode_label(s.thing_name.value_or("")) + "/jobs";
        failure f =
            describe_outcome(o, s.job_id ? "ListJobExecutionsForJob" : "ListJobExecutionsForThing", url, max_attempts);
        if (f.exit_code == exit_success) f.exit_code = exit_other;
        if (m.items > 0) f.message += "\nThe listing stopped after " + plural(m.items, "item.", "items.");
        return f;
    }
    const bool sent_any = m.deleted + m.not_found + m.refused + m.failed > 0;
    if (r.ec == client_errc::invalid_parameter)
        return failure{sent_any ? exit_service : exit_usage,
                       "The input " + input_name(s) + " cannot be used: " + reason, false};
    return failure{exit_other, "The input " + input_name(s) + " could not be read: " + reason, false};
}

// "Not every item was deleted: ..." when some item was not (or, in a dry run, would not be).
std::optional<failure> incomplete_run_failure(const bulk_result& r, const bulk_settings& s) {
    const bulk_summary& m = r.summary;
    const std::uint64_t not_attempted = s.dry_run ? 0 : m.not_attempted;
    const std::uint64_t would_refuse = s.dry_run ? r.predicted_refused : 0;
    const std::uint64_t unknown = s.dry_run ? r.predicted_unknown : 0;
    if (!(m.refused || m.failed || m.invalid_input || not_attempted || m.stopped_early || would_refuse || unknown ||
          r.remaining))
        return std::nullopt;
    std::string msg = s.dry_run ? "Not every item would be deleted:" : "Not every item was deleted:";
    const char* sep = " ";
    auto part = [&](std::uint64_t n, std::string_view what) {
        if (!n) return;
        msg += sep + std::to_string(n) + " " + std::string(what);
        sep = ", ";
    };
    part(m.refused, "refused");
    part(m.failed, "failed");
    part(m.invalid_input, "invalid input");
    part(not_attempted, "not attempted");
    part(would_refuse, "would be refused");
    part(unknown, "could not be looked up");
    part(r.remaining,
         r.remaining == 1 ? "execution still listed after the run" : "executions still listed after the run");
    msg += '.';
    if (m.stopped_early && !m.stop_reason.empty()) msg += " The run stopped early: " + m.stop_reason;
    return failure{exit_service, std::move(msg), false};
}

}  // namespace

failure bulk_result_failure(const bulk_result& r, const bulk_settings& s, std::string_view endpoint,
                            unsigned max_attempts) {
    const bulk_summary& m = r.summary;
    if (!r.report_error.empty())
        return failure{exit_other,
                       "The report " + in_quotes(s.report.value_or("")) + " could not be written (" + r.report_error +
                           "): the run was stopped.",
                       false};
    if (r.interrupted) return failure{exit_interrupted, {}, false};
    if (r.fatal) return fatal_stop_failure(r, endpoint, max_attempts);
    if (r.ec && r.ec != asio::error::operation_aborted) return stopped_run_failure(r, s, endpoint, max_attempts);
    const std::uint64_t valid = m.items - m.invalid_input + r.skipped;
    if (m.invalid_input > 0 && valid == 0)
        return failure{exit_usage,
                       "No line of the input " + input_name(s) + " could be used (" +
                           plural(m.invalid_input, "invalid line", "invalid lines") + "); nothing was sent.",
                       false};
    if (auto f = incomplete_run_failure(r, s)) return std::move(*f);
    if (!r.verify_error.empty())
        return failure{exit_other,
                       "The purge could not be verified (listing again failed: " + r.verify_error +
                           "); run it again, or list the executions, to see whether any remain.",
                       false};
    return failure{exit_success, {}, false};
}

namespace {

// Fanned out: one line per (profile, region) with its counts and its client's.
std::string format_pairs(const bulk_result& r) {
    if (r.pairs.empty()) return {};
    std::string out = "By profile/region:\n";
    for (const auto& p : r.pairs) {
        const bulk_summary& m = p.summary;
        out += "  " + to_string(p.key) + ": " + plural(m.items, "item", "items") + ", " + std::to_string(m.deleted) +
               " deleted, " + std::to_string(m.not_found) + " not_found";
        if (m.refused) out += ", " + std::to_string(m.refused) + " refused";
        if (m.failed) out += ", " + std::to_string(m.failed) + " failed";
        if (m.not_attempted) out += ", " + std::to_string(m.not_attempted) + " not_attempted";
        out += "; " + plural(p.stats.requests, "request", "requests") + ", " + std::to_string(p.stats.throttled) +
               " throttled";
        if (m.stopped_early && !m.stop_reason.empty()) out += "; stopped early: " + m.stop_reason;
        out += '\n';
    }
    return out;
}

}  // namespace

namespace {

// purge's verification: what listing again found (or why it could not list).
void append_verification(std::string& out, const bulk_result& r, const bulk_settings& s) {
    if (r.verified) {
        if (r.remaining == 0) {
            out += "Verified: listed again, none of the executions remains.\n";
        } else {
            out += "Verified: listed again, " + plural(r.remaining, "execution remains", "executions remain") + ":\n";
            for (const auto& p : r.remaining_samples) {
                out += "  " + p.request.thing_name + " " + p.request.job_id + " " +
                       std::to_string(p.request.execution_number) + " " + std::string(to_string(p.status)) + ": " +
                       p.reason;
                if (!p.error.empty()) out += ": " + p.error;
                out += '\n';
            }
            if (r.remaining > r.remaining_samples.size())
                out += "  ... (" + std::to_string(r.remaining - r.remaining_samples.size()) + " more" +
                       (s.report ? " in the report" : "") + ")\n";
            const bool not_found = std::any_of(r.remaining_samples.begin(), r.remaining_samples.end(),
                                               [](const auto& p) { return p.reason == "not_found"; });
            if (not_found && !s.namespace_id)
                out +=
                    "Executions listed but not found by DeleteJobExecution may belong to a namespace: purge "
                    "them with --namespace-id.\n";
        }
    } else if (!r.verify_error.empty()) {
        out += "Not verified: listing again failed: " + r.verify_error + "\n";
    }
}

// Where the report went, or (without one) the first problems.
void append_report_or_problems(std::string& out, const bulk_result& r, const bulk_settings& s) {
    if (s.report) {
        out += "Report: " + (*s.report == "-" ? std::string("standard output") : *s.report) + "\n";
    } else if (!r.problems.empty()) {
        out += "First problems (--report FILE keeps every item's outcome):\n";
        for (const bulk_outcome& o : r.problems) {
            out += "  ";
            if (o.kind == bulk_outcome_kind::invalid_input && o.attempts == 0) {
                // The source's message names the line already.
                std::string msg = o.message;
                if (o.item.line && !msg.starts_with("line ")) msg = "line " + std::to_string(o.item.line) + ": " + msg;
                out += msg + " (invalid_input)\n";
                continue;
            }
            const auto& q = o.item.request;
            out += (s.kind == bulk_kind::purge ? "item " : "line ") + std::to_string(o.item.line) + " (" +
                   q.thing_name + " " + q.job_id + " " + std::to_string(q.execution_number) +
                   "): " + std::string(to_string(o.kind));
            if (!o.aws_error_name.empty()) out += ": " + o.aws_error_name;
            if (!o.message.empty()) out += ": " + o.message;
            out += '\n';
        }
    }
}

}  // namespace

std::string format_summary(const bulk_result& r, const bulk_settings& s) {
    const bulk_summary& m = r.summary;
    std::string out;
    char buf[160];
    const double secs = m.seconds;
    std::snprintf(buf, sizeof buf, secs < 10 ? "%.2f" : "%.1f", secs);
    out += std::string(s.command) + ": " + plural(m.items, "item", "items") + " in " + buf + " s";
    // The rate of the calls made (not of the items reported not_attempted or invalid at once).
    const std::uint64_t sent = m.deleted + m.not_found + m.refused + m.failed;
    if (secs > 0 && sent > 0) out += ", " + rate_text(static_cast<double>(sent) / secs) + " deletes/s";
    out += "; " + plural(r.stats.requests, "request", "requests") + " sent";
    out += ", " + plural(r.stats.retries, "retry", "retries");
    out += ", " + std::to_string(r.stats.throttled) + " throttled";
    out += ", " + plural(r.stats.connects, "connection", "connections") + " opened\n";
    auto row = [&](std::string_view name, std::uint64_t n, std::string note = {}) {
        std::snprintf(buf, sizeof buf, "  %-15s%10llu", std::string(name).c_str(), static_cast<unsigned long long>(n));
        out += buf;
        if (!note.empty()) out += "  (" + note + ")";
        out += '\n';
    };
    row("deleted", m.deleted);
    row("not_found", m.not_found,
        m.possibly_deleted_earlier
            ? std::to_string(m.possibly_deleted_earlier) + " possibly deleted by an earlier attempt of the same request"
            : std::string());
    row("refused", m.refused);
    row("failed", m.failed);
    row("not_attempted", m.not_attempted, s.dry_run ? std::string("dry run") : std::string());
    row("invalid_input", m.invalid_input);
    if (!s.skip_done.empty()) {
        std::string files;
        for (const auto& f : s.skip_done) files += (files.empty() ? "" : ", ") + f;
        row("skipped", r.skipped,
            "done in " + files + ", carried: " + std::to_string(r.carried_deleted) + " deleted, " +
                std::to_string(r.carried_not_found) + " not_found");
    }
    if (s.dry_run) {
        out += "Dry run: nothing was deleted; " + plural(r.predicted_deleted, "item", "items") + " would be deleted";
        if (r.predicted_refused) out += ", " + std::to_string(r.predicted_refused) + " would be refused";
        if (r.predicted_not_found) out += ", " + std::to_string(r.predicted_not_found) + " not found";
        if (r.predicted_unknown) out += ", " + std::to_string(r.predicted_unknown) + " could not be looked up";
        out += ".\n";
    }
    append_verification(out, r, s);
    if (m.stopped_early || r.interrupted) {
        std::string reason = m.stop_reason;
        if (r.interrupted)
            reason = "interrupted (SIGINT)";
        else if (!r.report_error.empty())
            reason = "the report could not be written";
        out += "Stopped early: " + reason + "\n";
    }
    out += format_pairs(r);
    append_report_or_problems(out, r, s);
    return out;
}

// ---------------------------------------------------------------------------------------------
// The run

namespace {

// --skip-done: passes on the items of `inner` that `done` does not hold; hands each of the others,
// with its earlier report line, to `on_skipped` (which carries it into the new report).
class skip_done_source final : public bulk_source {
public:
    using skipped_handler = std::function<void(const bulk_item&, const std::string& earlier_line)>;
    skip_done_source(bulk_source& inner, detail::done_set& done, skipped_handler on_skipped)
        : inner_(inner), done_(done), on_skipped_(std::move(on_skipped)) {}

    bool drain_on_stop() const noexcept override { return inner_.drain_on_stop(); }

    void async_next(asio::any_completion_handler<void(error_code, pull)> handler) override {
        // The stream source trampolines a call made from inside its completion, so skipping a long
        // run of items does not nest.
        inner_.async_next([this, h = std::move(handler)](error_code ec, pull p) mutable {
            if (!ec && p.item && !p.invalid) {
                if (auto earlier = done_.earlier_line(p.item->request)) {
                    on_skipped_(*p.item, *earlier);
                    async_next(std::move(h));
                    return;
                }
            }
            auto ex = asio::get_associated_executor(h);
            asio::dispatch(ex, [h = std::move(h), ec, p = std::move(p)]() mutable { std::move(h)(ec, std::move(p)); });
        });
    }

private:
    bulk_source& inner_;
    detail::done_set& done_;
    skipped_handler on_skipped_;
};

// What a purge did to each item, for its verification: the deleted ones as key hashes (8 bytes
// each), the others (normally few: refused, failed, not_found, not_attempted) with their error.
struct purge_record {
    struct note {
        bulk_outcome_kind kind;
        std::string error;
        std::string message;
    };
    std::vector<std::uint64_t> deleted;
    std::unordered_map<std::uint64_t, note> others;

    static std::uint64_t key(const delete_job_execution_request& r) {
        return detail::done_set::key_hash(r.thing_name, r.job_id, r.execution_number);
    }
    void add(const bulk_outcome& o) {
        if (o.kind == bulk_outcome_kind::deleted) {
            deleted.push_back(key(o.item.request));
            return;
        }
        note n{o.kind, o.aws_error_name.empty() && o.ec ? o.ec.message() : o.aws_error_name, o.message};
        others.insert_or_assign(key(o.item.request), std::move(n));
    }
};

// Why an execution is still listed after the purge: this run's outcome for it.
detail::still_present explain_still_present(const bulk_item& item, const purge_record& rec, const bulk_settings& s) {
    detail::still_present p;
    p.request = item.request;
    p.status = item.status.value_or(job_execution_status::queued);
    const std::uint64_t k = purge_record::key(item.request);
    if (auto it = rec.others.find(k); it != rec.others.end()) {
        p.reason = std::string(to_string(it->second.kind));
        p.error = it->second.error;
        p.message = it->second.message;
        if (it->second.kind == bulk_outcome_kind::not_found) {
            p.message = "still listed although DeleteJobExecution did not find it" +
                        std::string(s.namespace_id ? "" : " (a job in a namespace? purge with --namespace-id)") +
                        (p.message.empty() ? std::string() : ": " + p.message);
        }
    } else if (std::binary_search(rec.deleted.begin(), rec.deleted.end(), k)) {
        p.reason = "deleted";
        p.message = "still listed although DeleteJobExecution deleted it (the listing may lag)";
    } else {
        p.reason = "not_in_run";
        p.message = "not listed when the purge ran (it appeared since)";
    }
    return p;
}

inline constexpr std::size_t still_present_samples = 10;

// A --skip-done item: its earlier line, carried (into `line`, for the report), and counted.
void carry_skipped(const bulk_item& item, const std::string& earlier, std::string& line, bulk_result& r) {
    ++r.skipped;
    line.clear();
    bulk_outcome_kind kind = bulk_outcome_kind::deleted;
    if (!detail::carried_line(earlier, item.line, line, kind)) return;  // earlier_line() checked it already
    if (kind == bulk_outcome_kind::not_found)
        ++r.carried_not_found;
    else
        ++r.carried_deleted;
}

// --dry-run: the summary's counts by predicted outcome.
void count_prediction(const bulk_outcome& o, bulk_result& r) {
    if (o.kind != bulk_outcome_kind::not_attempted) return;
    if (!o.predicted)
        ++r.predicted_unknown;
    else if (*o.predicted == bulk_outcome_kind::deleted)
        ++r.predicted_deleted;
    else if (*o.predicted == bulk_outcome_kind::refused)
        ++r.predicted_refused;
    else
        ++r.predicted_not_found;
}

// purge's verification: lists again what the purge was asked to delete (same job or thing,
// statuses, namespace) and reports every execution still present: a line in the report
// (`write_report`) and the count (and the first few) in `r`. Runs `ioc` until the listing ends,
// fails (r.verify_error) or `interrupted` becomes true.
void verify_purge(asio::io_context& ioc, client& c, const bulk_settings& s, purge_record& rec,
                  const std::function<void(std::string_view)>& write_report, const bool& interrupted, bulk_result& r) {
    std::sort(rec.deleted.begin(), rec.deleted.end());
    list_source_params p;
    p.job_id = s.job_id;
    p.thing_name = s.thing_name;
    p.statuses = s.statuses;
    p.namespace_id = s.namespace_id;
    const auto src = make_list_source(c, std::move(p));
    bool done = false;
    std::string line;
    std::function<void()> pull_next = [&] {
        src->async_next(asio::bind_executor(ioc.get_executor(), [&](error_code ec, bulk_source::pull pl) {
            if (ec) {
                // The listing's own diagnostics (a typed source of the reason, not its display text).
                const diagnostics* d = src->last_diagnostics();
                r.verify_error = d && !d->aws_error_name().empty()
                                     ? std::string(d->aws_error_name()) + " " + std::string(d->message())
                                     : ec.message();
                done = true;
                return;
            }
            if (!pl.item) {
                r.verified = true;
                done = true;
                return;
            }
            detail::still_present sp = explain_still_present(*pl.item, rec, s);
            ++r.remaining;
            line.clear();
            detail::append_still_present_jsonl(line, sp);
            write_report(line);
            if (r.remaining_samples.size() < still_present_samples) r.remaining_samples.push_back(std::move(sp));
            asio::post(ioc, pull_next);  // not nested: a buffered page completes inline
        }));
    };
    pull_next();
    while (!done && !interrupted && ioc.run_one() != 0) {}
    if (!done && !interrupted) r.verify_error = "the listing never completed";
}

bool same_file(const std::string& a, const std::string& b) {
    std::error_code ec;
    if (fs::exists(a, ec) && fs::exists(b, ec)) {
        const bool same = fs::equivalent(a, b, ec);
        if (!ec) return same;
    }
    const fs::path ca = fs::weakly_canonical(a, ec);
    if (ec) return a == b;
    const fs::path cb = fs::weakly_canonical(b, ec);
    if (ec) return a == b;
    return ca == cb;
}

std::string errno_text(int e) { return e ? std::string(std::strerror(e)) : std::string("cannot open the file"); }

std::size_t terminal_columns() {
    winsize ws{};
    if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    return 80;
}

std::string describe_settings(const bulk_settings& s) {
    std::string t = std::string(s.command) + ": ";
    if (s.kind == bulk_kind::input) {
        t += "input " + (s.input == "-" ? std::string("standard input") : s.input);
        t += s.format == input_format::csv     ? " (csv)"
             : s.format == input_format::jsonl ? " (jsonl)"
                                               : " (format detected)";
    } else {
        t += s.job_id ? "job " + *s.job_id : "thing " + s.thing_name.value_or("");
        t += ", statuses ";
        if (s.statuses.empty()) t += "all";
        for (std::size_t i = 0; i < s.statuses.size(); ++i) t += (i ? "," : "") + std::string(to_string(s.statuses[i]));
    }
    t += ", concurrency " + std::to_string(s.concurrency);
    t += ", rate " + (s.rate > 0 ? rate_text(s.rate) + "/s" : std::string("adaptive"));
    if (s.force) t += *s.force ? ", force" : ", no force";
    if (s.namespace_id) t += ", namespace " + *s.namespace_id;
    if (s.report) t += ", report " + *s.report;
    for (const auto& f : s.skip_done) t += ", skip done in " + f;
    if (s.dry_run) t += ", dry run";
    return t;
}

// purge fanned out: the items of one (profile, region)'s listing, stamped with it, so that the
// report and the counts say which pair each item belongs to.
class keyed_source final : public bulk_source {
public:
    keyed_source(std::unique_ptr<bulk_source> inner, client_key key) : inner_(std::move(inner)), key_(std::move(key)) {}
    bool drain_on_stop() const noexcept override { return inner_->drain_on_stop(); }
    const diagnostics* last_diagnostics() const noexcept override { return inner_->last_diagnostics(); }
    void async_next(asio::any_completion_handler<void(error_code, pull)> handler) override {
        inner_->async_next([this, h = std::move(handler)](error_code ec, pull p) mutable {
            if (p.item) {
                p.item->profile = key_.profile;
                p.item->region = key_.region;
            }
            auto ex = asio::get_associated_executor(h);
            asio::dispatch(ex, [h = std::move(h), ec, p = std::move(p)]() mutable { std::move(h)(ec, std::move(p)); });
        });
    }

private:
    std::unique_ptr<bulk_source> inner_;
    client_key key_;
};

// One run of bulk-delete or purge, step by step (run()): the input, the --skip-done reports, the
// report file, the progress line, the clients (one per (profile, region), made when first
// needed), the deletes, purge's verification, the summary. The members the handlers refer to are
// declared before the io_context, which may still hold handlers when it is destroyed.
class bulk_run {
public:
    bulk_run(const command_context& ctx, const bulk_settings& s, const resolved_configuration& rc)
        : ctx_(ctx),
          s_(s),
          rc_(rc),
          err_(ctx.err),
          log_(ctx.log),
          defaults_{ctx.globals.profile.value_or(""), rc.config.region} {}

    int run() {
        log_.write("cli", describe_settings(s_));
        if (s_.kind == bulk_kind::input) {
            if (auto f = open_input()) return fail(*f);
            if (auto f = load_skip_done()) return fail(*f);
        }
        if (auto f = open_report()) return fail(*f);
        decide_progress();
        if (auto f = make_clients()) return fail(*f);
        make_source();
        start_signals();
        if (auto f = run_deletes()) return fail(*f);
        if (s_.kind == bulk_kind::purge && !s_.dry_run && !result_.interrupted && !result_.fatal && !result_.ec &&
            report_error_.empty())
            verify();
        return finish();
    }

private:
    int fail(const failure& f) {
        print_failure(err_, f);
        return f.exit_code;
    }

    // The input (252 when it cannot be opened: a parameter, as the AWS CLI's file:// values).
    std::optional<failure> open_input() {
        if (s_.input == "-") {
            if (ctx_.ro.standard_input) {
                in_ = ctx_.ro.standard_input;
                return std::nullopt;
            }
            // A file buffer over fd 0 (not std::cin): it reads what is available, so lines piped
            // in slowly are processed as they arrive.
            stdin_buf_ = std::make_unique<__gnu_cxx::stdio_filebuf<char>>(STDIN_FILENO, std::ios::in, 1 << 16);
            stdin_stream_ = std::make_unique<std::istream>(stdin_buf_.get());
            in_ = stdin_stream_.get();
            if (::isatty(STDIN_FILENO)) err_ << "Reading the items from the terminal; end with Ctrl-D.\n" << std::flush;
            return std::nullopt;
        }
        std::error_code ec;
        if (fs::is_directory(s_.input, ec))
            return failure{exit_usage, "The input file " + in_quotes(s_.input) + " cannot be read: it is a directory",
                           false};
        errno = 0;
        input_file_ = std::make_unique<std::ifstream>(s_.input, std::ios::binary);
        if (!*input_file_)
            return failure{exit_usage,
                           "The input file " + in_quotes(s_.input) + " cannot be read: " + errno_text(errno), false};
        in_ = input_file_.get();
        return std::nullopt;
    }

    // --skip-done (252 when one cannot be read or is not a report). The files stay open: the lines
    // of the items skipped are read again during the run, to carry them into the new report.
    std::optional<failure> load_skip_done() {
        for (const std::string& name : s_.skip_done)
            if (auto f = load_skip_done_file(name)) return f;
        return std::nullopt;
    }

    std::optional<failure> load_skip_done_file(const std::string& name) {
        if (s_.report && *s_.report != "-" && same_file(*s_.report, name))
            return failure{exit_usage,
                           "The report " + in_quotes(*s_.report) +
                               " is the --skip-done file: write the new report to another file.",
                           false};
        std::error_code ec;
        if (fs::is_directory(name, ec))
            return failure{exit_usage,
                           "The --skip-done report " + in_quotes(name) + " cannot be read: it is a directory", false};
        errno = 0;
        auto f = std::make_unique<std::ifstream>(name, std::ios::binary);
        if (!*f)
            return failure{exit_usage,
                           "The --skip-done report " + in_quotes(name) + " cannot be read: " + errno_text(errno),
                           false};
        const auto lr = done_.load(*f);
        if (f->bad())
            return failure{exit_usage, "The --skip-done report " + in_quotes(name) + " could not be read to the end",
                           false};
        if (lr.lines > 0 && lr.malformed == lr.lines)
            return failure{exit_usage,
                           "The --skip-done file " + in_quotes(name) +
                               " is not a report of iotjobs bulk-delete (no line of it is a report line).",
                           false};
        if (lr.malformed > 0)
            err_ << "warning: --skip-done " << name << ": " << plural(lr.malformed, "line is", "lines are")
                 << " not report lines (ignored).\n";
        if (lr.truncated_last_line)
            err_ << "warning: --skip-done " << name
                 << ": the last line is cut short (an interrupted run?); its item is tried again.\n";
        err_ << std::flush;
        log_.write("cli", "--skip-done " + name + ": " + std::to_string(lr.lines) + " lines, " +
                              std::to_string(lr.finished) + " done, " + std::to_string(done_.size()) +
                              " distinct items in all");
        skip_files_.push_back(std::move(f));
        return std::nullopt;
    }

    // The report (255 when it cannot be created: nothing was sent).
    std::optional<failure> open_report() {
        if (!s_.report) return std::nullopt;
        if (*s_.report == "-") {
            report_ = &ctx_.out;
            return std::nullopt;
        }
        if (s_.kind == bulk_kind::input && s_.input != "-" && same_file(*s_.report, s_.input))
            return failure{
                exit_usage,
                "The report " + in_quotes(*s_.report) + " is the --input file: write the report to another file.",
                false};
        report_file_ = std::make_unique<std::ofstream>();
        report_buffer_.reset(new char[1 << 16]);
        report_file_->rdbuf()->pubsetbuf(report_buffer_.get(), 1 << 16);
        errno = 0;
        report_file_->open(*s_.report, std::ios::binary | std::ios::trunc);
        if (!*report_file_)
            return failure{exit_other,
                           "The report file " + in_quotes(*s_.report) + " cannot be created: " + errno_text(errno),
                           false};
        report_ = report_file_.get();
        return std::nullopt;
    }

    // Progress: on a terminal only (and not with --debug, whose lines it would garble).
    void decide_progress() {
        if (ctx_.ro.progress)
            progress_ = *ctx_.ro.progress;
        else
            progress_ = !log_.enabled() && &err_ == &std::cerr && ::isatty(STDERR_FILENO);
        if (progress_ && s_.kind == bulk_kind::input && s_.input != "-") {
            struct stat st {};
            if (::stat(s_.input.c_str(), &st) == 0 && S_ISREG(st.st_mode))
                total_ = count_input_items(s_.input, s_.format);
        }
    }

    // A pair's client configuration: the resolved one for the defaults, else resolved again with
    // the pair's profile and region (throws with the 253 message when that fails).
    client_config config_for(const client_key& k) {
        client_config cfg = rc_.config;
        if (k != defaults_) {
            global_options g = ctx_.globals;
            if (!k.profile.empty()) g.profile = k.profile;
            if (!k.region.empty()) g.region = k.region;
            if (s_.kind == bulk_kind::input) {  // a pair other than the defaults' comes from the rows
                if (k.profile != defaults_.profile) g.profile_source = "the input's profile column";
                if (k.region != defaults_.region) g.region_source = "the input's region column";
            }
            auto r = resolve_configuration(g, ctx_.env);
            if (auto* f = std::get_if<failure>(&r)) throw std::runtime_error(f->message);
            auto& got = std::get<resolved_configuration>(r);
            log_.add_secret(got.config.static_credentials.secret_access_key);
            log_.add_secret(got.config.static_credentials.session_token);
            for (const auto& line : got.sources) log_.write("cli", to_string(k) + ": " + line);
            cfg = std::move(got.config);
        }
        cfg.pool.max_size = s_.concurrency;
        // The client's records: to --debug's log when it is on; the connection pool's warning
        // (out of file descriptors: once per client) also on stderr.
        std::function<void(const log_record&)> debug_sink;
        if (log_.enabled()) debug_sink = log_.record_sink("client");
        cfg.level = log_.enabled() ? log_level::debug : log_level::warn;
        cfg.structured_log = [this, debug_sink = std::move(debug_sink)](const log_record& r) {
            if (debug_sink) debug_sink(r);
            if (r.level == log_level::warn && r.component == "pool") pool_warning(r.message);
        };
        cfg.single_threaded = true;  // ioc.run() on this thread only
        return cfg;
    }

    // Called on the run's thread (the io_context's), like the progress line it clears.
    void pool_warning(std::string_view message) {
        clear_progress();
        err_ << "warning: " << message << "\n" << std::flush;
    }

    // The registry, and the configured pair's client at once when the run uses it (its
    // construction errors are the single-client ones: 253 / 255).
    std::optional<failure> make_clients() {
        if (!rc_.config.verify_peer)
            err_ << "warning: --no-verify-ssl: the server's certificate and host name are NOT verified.\n"
                 << std::flush;
        registry_.emplace(ioc_.get_executor(), [this](const client_key& k) { return config_for(k); });
        if (s_.kind == bulk_kind::purge) {
            const std::vector<std::string> profiles =
                s_.profiles.empty() ? std::vector{defaults_.profile} : s_.profiles;
            const std::vector<std::string> regions = s_.regions.empty() ? std::vector{defaults_.region} : s_.regions;
            for (const auto& p : profiles)
                for (const auto& r : regions) keys_.push_back({p, r});
            fanned_out_ = keys_.size() > 1 || keys_.front() != defaults_;
            if (std::find(keys_.begin(), keys_.end(), defaults_) == keys_.end()) return std::nullopt;
        }
        try {
            registry_->get(defaults_);
        } catch (const std::exception& e) {
            return client_construction_failure(e, rc_, log_);
        }
        return std::nullopt;
    }

    // bulk-delete: the input, behind the --skip-done filter. purge: a listing per pair (run_deletes).
    void make_source() {
        if (s_.kind != bulk_kind::input) return;
        source_ = make_stream_source(*in_, s_.format);
        src_ = source_.get();
        if (s_.skip_done.empty()) return;
        filter_ = std::make_unique<skip_done_source>(*source_, done_,
                                                     [this](const bulk_item& item, const std::string& earlier) {
                                                         carry_skipped(item, earlier, report_line_, result_);
                                                         write_report(report_line_);
                                                     });
        src_ = filter_.get();
    }

    std::unique_ptr<bulk_source> make_listing(client& c, const client_key& k) const {
        list_source_params p;
        p.job_id = s_.job_id;
        p.thing_name = s_.thing_name;
        p.statuses = s_.statuses;
        p.namespace_id = s_.namespace_id;
        auto listing = make_list_source(c, std::move(p));
        if (!fanned_out_) return listing;
        return std::make_unique<keyed_source>(std::move(listing), k);
    }

    void clear_progress() {
        if (!progress_shown_) return;
        err_ << "\r\x1b[K" << std::flush;
        progress_shown_ = false;
    }

    void report_failed() {
        report_error_ = errno ? errno_text(errno) : std::string("write error");
        stopping_ = true;
        cancel_.emit(asio::cancellation_type::partial);  // the engine posts: safe from here
    }

    void write_report(std::string_view text) {
        if (!report_ || !report_error_.empty()) return;
        report_->write(text.data(), static_cast<std::streamsize>(text.size()));
        if (!*report_) report_failed();
    }

    client_key key_of(const bulk_item& item) const {
        return {item.profile.empty() ? defaults_.profile : item.profile,
                item.region.empty() ? defaults_.region : item.region};
    }

    void on_outcome(const bulk_outcome& o) {
        ++outcomes_;
        if (o.kind == bulk_outcome_kind::failed) ++failed_;
        if (o.kind == bulk_outcome_kind::refused) ++refused_;
        if (o.kind == bulk_outcome_kind::invalid_input) ++invalid_;
        if (!o.item.profile.empty() || !o.item.region.empty()) fanned_out_ = true;
        ++done_by_pair_[key_of(o.item)];
        if (log_.enabled()) log_.write("bulk", outcome_debug_line(o, s_.kind == bulk_kind::purge));
        if (report_ && report_error_.empty()) {
            report_line_.clear();
            detail::append_outcome_jsonl(report_line_, o);
            write_report(report_line_);
        }
        if (s_.dry_run) count_prediction(o, result_);
        if (s_.kind == bulk_kind::purge && !s_.dry_run) purged_.add(o);
        if (!result_.fatal && o.ec && is_fatal_for_client(o.ec)) {
            result_.fatal = o;
            stopping_ = true;
        }
        if ((o.kind == bulk_outcome_kind::refused || o.kind == bulk_outcome_kind::failed ||
             o.kind == bulk_outcome_kind::invalid_input) &&
            result_.problems.size() < summary_problem_samples)
            result_.problems.push_back(o);
    }

    void draw_progress() {
        const auto now = std::chrono::steady_clock::now();
        samples_.emplace_back(now, outcomes_);
        while (samples_.size() > 2 && now - samples_.front().first > std::chrono::seconds(5)) samples_.pop_front();
        progress_snapshot p;
        p.done = outcomes_ + result_.skipped;
        p.total = total_;
        const double span = std::chrono::duration<double>(now - samples_.front().first).count();
        const double elapsed = std::chrono::duration<double>(now - started_).count();
        if (span >= 0.5)
            p.rate = static_cast<double>(outcomes_ - samples_.front().second) / span;
        else if (elapsed >= 0.5)
            p.rate = static_cast<double>(outcomes_) / elapsed;
        const client_stats st = registry_->stats();
        p.throttled = st.throttled;
        p.retried = st.retries;
        p.failed = failed_;
        p.refused = refused_;
        p.invalid = invalid_;
        p.stopping = stopping_;
        if (fanned_out_)
            for (const auto& [k, n] : done_by_pair_) p.pairs.emplace_back(to_string(k), n);
        std::string line = format_progress(p);
        const std::size_t cols = terminal_columns();
        if (line.size() >= cols) line.resize(cols > 1 ? cols - 1 : 0);
        err_ << '\r' << line << "\x1b[K" << std::flush;
        progress_shown_ = true;
    }

    // The progress line and the report's flushes, four times a second.
    void tick(error_code ec) {
        if (ec || finished_) return;
        if (report_ && report_error_.empty()) {
            report_->flush();
            if (!*report_) report_failed();
        }
        if (progress_) draw_progress();
        ticker_.expires_after(std::chrono::milliseconds(250));
        ticker_.async_wait([this](error_code e) { tick(e); });
    }

    void on_signal(const error_code& ec) {
        if (ec || finished_) return;
        ++interrupts_;
        clear_progress();
        if (interrupts_ == 1) {
            result_.interrupted = true;
            stopping_ = true;
            err_ << "Interrupted: finishing the requests in flight, not sending new ones (Ctrl-C again to "
                    "abort them).\n"
                 << std::flush;
            log_.write("cli", "SIGINT: partial cancellation");
            cancel_.emit(asio::cancellation_type::partial);
        } else if (interrupts_ == 2) {
            err_ << "Interrupted again: aborting the requests in flight (Ctrl-C again to exit at once).\n"
                 << std::flush;
            log_.write("cli", "SIGINT: terminal cancellation");
            cancel_.emit(asio::cancellation_type::terminal);
        } else {
            if (report_) report_->flush();
            err_ << "Interrupted a third time: exiting now; the report may lack the items in flight.\n" << std::flush;
            std::_Exit(exit_interrupted);
        }
        signals_->async_wait([this](const error_code& e, int) { on_signal(e); });
    }

    void start_signals() {
        if (!ctx_.ro.handle_sigint) return;
        signals_.emplace(ioc_, SIGINT);
        signals_->async_wait([this](const error_code& e, int) { on_signal(e); });
    }

    void on_done(error_code ec, bulk_fanout_summary summary) {
        result_.ec = ec;
        result_.summary = std::move(summary.total);
        for (auto& [k, m] : summary.keys) result_.pairs.push_back({k, std::move(m), {}});
        finished_ = true;
        ticker_.cancel();
        if (signals_) signals_->cancel();
    }

    // The deletes: every (profile, region) at once, on this thread, until the run completes.
    std::optional<failure> run_deletes() {
        bulk_fanout_options opt;
        opt.per_key.max_in_flight = s_.concurrency;
        opt.per_key.rate_limit = s_.rate;
        opt.per_key.default_force = s_.force;
        opt.per_key.default_namespace_id = s_.namespace_id;
        opt.per_key.dry_run = s_.dry_run;
        opt.defaults = defaults_;
        auto outcome = [this](const bulk_outcome& o) { on_outcome(o); };
        auto done = asio::bind_cancellation_slot(
            cancel_.slot(), [this](error_code ec, bulk_fanout_summary m) { on_done(ec, std::move(m)); });
        started_ = std::chrono::steady_clock::now();
        try {
            if (s_.kind == bulk_kind::input)
                bulk_delete_fanout(*registry_, *src_, std::move(opt), outcome, std::move(done));
            else
                bulk_delete_fanout(
                    *registry_, keys_, [this](client& c, const client_key& k) { return make_listing(c, k); },
                    std::move(opt), outcome, std::move(done));
            tick(error_code{});
            while (!finished_ && ioc_.run_one() != 0) {}
        } catch (const std::exception& e) {
            clear_progress();
            if (report_) report_->flush();
            return failure{exit_other, std::string("Internal error during the run: ") + e.what(), false};
        }
        clear_progress();
        if (!finished_) return failure{exit_other, "Internal error: the run never completed.", false};
        return std::nullopt;
    }

    // purge's verification: each pair listed again, one after the other.
    void verify() {
        bool interrupted = false;
        if (signals_)
            signals_->async_wait([&](const error_code& ec, int) {
                if (!ec) interrupted = true;
            });
        log_.write("cli", "purge: listing again to verify");
        bool all_verified = true;
        auto write = [this](std::string_view t) { write_report(t); };
        for (const client_key& k : keys_) {
            client* c = registry_->find(k);
            if (!c || interrupted) {
                all_verified = false;
                continue;
            }
            verify_purge(ioc_, *c, s_, purged_, write, interrupted, result_);
            all_verified = all_verified && result_.verified;
        }
        result_.verified = all_verified && result_.verify_error.empty();
        if (signals_) signals_->cancel();
        if (interrupted) {
            result_.interrupted = true;
            err_ << "Interrupted: the verification was stopped.\n" << std::flush;
        }
    }

    // The report closed, the summary printed, the exit code.
    int finish() {
        if (report_ && report_error_.empty()) {
            report_->flush();
            if (report_file_) report_file_->close();
            if (report_file_ ? report_file_->fail() : !*report_)
                report_error_ = errno ? errno_text(errno) : std::string("write error");
        }
        result_.report_error = report_error_;
        result_.stats = registry_->stats();
        if (fanned_out_) {
            for (auto& p : result_.pairs)
                if (client* c = registry_->find(p.key)) p.stats = c->stats();
        } else {
            result_.pairs.clear();
        }
        registry_->cancel();
        log_.write("cli",
                   "run finished: " + (result_.ec ? result_.ec.message() : std::string("no error")) +
                       (result_.summary.stop_reason.empty() ? std::string() : "; " + result_.summary.stop_reason));
        err_ << format_summary(result_, s_) << std::flush;
        const int code = fail(bulk_result_failure(result_, s_, rc_.display_endpoint, rc_.config.retry.max_attempts));
        print_bulk_json_summary(ctx_, result_, s_, code);
        return code;
    }

    const command_context& ctx_;
    const bulk_settings& s_;
    const resolved_configuration& rc_;
    std::ostream& err_;
    debug_log& log_;
    const client_key defaults_;  // the configured profile (as given, "" when not) and region
    // The files.
    std::unique_ptr<std::ifstream> input_file_;
    std::unique_ptr<__gnu_cxx::stdio_filebuf<char>> stdin_buf_;
    std::unique_ptr<std::istream> stdin_stream_;
    std::istream* in_ = nullptr;
    detail::done_set done_;
    std::vector<std::unique_ptr<std::ifstream>> skip_files_;
    std::unique_ptr<char[]> report_buffer_;
    std::unique_ptr<std::ofstream> report_file_;
    std::ostream* report_ = nullptr;
    bool progress_ = false;
    std::optional<std::uint64_t> total_;
    // What the handlers update.
    bulk_result result_;
    std::uint64_t outcomes_ = 0, failed_ = 0, refused_ = 0, invalid_ = 0;
    bool finished_ = false, progress_shown_ = false, stopping_ = false;
    int interrupts_ = 0;
    std::string report_error_;
    std::string report_line_;
    asio::cancellation_signal cancel_;
    std::unique_ptr<bulk_source> source_;
    std::unique_ptr<skip_done_source> filter_;
    bulk_source* src_ = nullptr;
    purge_record purged_;  // purge: what the run did, for the verification
    std::deque<std::pair<std::chrono::steady_clock::time_point, std::uint64_t>> samples_;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
    std::vector<client_key> keys_;  // purge: every (profile, region)
    bool fanned_out_ = false;       // several pairs, or an item that names one
    std::map<client_key, std::uint64_t> done_by_pair_;
    // The io_context, then what holds handlers or I/O objects on it (destroyed first).
    asio::io_context ioc_{1};
    std::optional<client_registry> registry_;
    asio::steady_timer ticker_{ioc_};
    std::optional<asio::signal_set> signals_;
};

int run_bulk(const command_context& ctx, const bulk_settings& s, const resolved_configuration& rc) {
    return bulk_run(ctx, s, rc).run();
}

int bulk_command(const command_context& ctx, std::variant<bulk_settings, failure> settings) {
    return configure_and_run(ctx, settings, [&](const resolved_configuration& cfg, const bulk_settings& s) {
        if (ctx.ro.before_bulk) {
            if (auto code = ctx.ro.before_bulk(cfg, s)) return *code;
        }
        return run_bulk(ctx, s, cfg);
    });
}

}  // namespace

int bulk_delete_command(const command_context& ctx) {
    return bulk_command(ctx, make_bulk_delete_settings(ctx.cl.options));
}

int purge_command(const command_context& ctx) {
    return bulk_command(ctx, make_purge_settings(ctx.cl.options, &ctx.cl.globals));
}

}  // namespace iotjobs::cli
