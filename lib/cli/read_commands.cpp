// list-job-executions-for-job, list-job-executions-for-thing, describe-job-execution and
// cancel-job-execution: parameters (252), configuration (253), the calls on a fresh io_context
// (SIGINT cancels: 130), the response printed as the AWS CLI prints it (output.hpp).
#include "cli/cli.hpp"
#include "cli/output.hpp"
#include "cli/read_commands.hpp"

#include "jobs/wire.hpp"

#include <iotjobs/describe_job_execution.hpp>
#include <iotjobs/list_job_executions.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>

#include <charconv>
#include <csignal>

namespace iotjobs::cli {
namespace asio = boost::asio;
namespace json = boost::json;

// ---------------------------------------------------------------------------------------------
// Parameters

namespace {

void add_problem(std::string& text, std::string_view field, std::string_view option, const error_code& ec,
                 const std::string& what) {
    text += "\nInvalid value for parameter " + std::string(field) + " (" + std::string(option) + "): ";
    std::string_view w = what;
    if (w.size() > field.size() && w.starts_with(field) && w[field.size()] == ' ') w.remove_prefix(field.size() + 1);
    text += w.empty() ? ec.message() : std::string(w);
}

// A whole number in [lo, hi], else a problem naming the option.
std::optional<std::int64_t> bounded(const parsed_options& o, std::string_view dest, std::int64_t lo, std::int64_t hi,
                                    std::string& problems) {
    const std::string* v = o.value(dest);
    if (!v) return std::nullopt;
    std::int64_t n = 0;
    const auto r = std::from_chars(v->data(), v->data() + v->size(), n);
    if (r.ec != std::errc{} || r.ptr != v->data() + v->size() || n < lo || n > hi) {
        problems += "\nInvalid value for --" + std::string(dest) + ": " + detail::quote_for_message(*v) +
                    " must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi);
        return std::nullopt;
    }
    return n;
}

void parse_status(const parsed_options& o, std::optional<job_execution_status>& into, std::string& problems) {
    const std::string* v = o.value("status");
    if (!v) return;
    job_execution_status s{};
    if (!from_string(*v, s)) {
        problems += "\nInvalid value for parameter status (--status): " + detail::quote_for_message(*v) +
                    " is not one of QUEUED, IN_PROGRESS, SUCCEEDED, FAILED, TIMED_OUT, REJECTED, REMOVED, CANCELED";
        return;
    }
    into = s;
}

void check_name(std::string& problems, error_code (*check)(std::string_view, std::string*), std::string_view value,
                std::string_view field, std::string_view option) {
    std::string what;
    if (auto ec = check(value, &what)) add_problem(problems, field, option, ec, what);
}

using name_check = error_code (*)(std::string_view, std::string*);

// A required name option (--job-id, --thing-name): copied into `out` when given, checked always.
void read_name(const parsed_options& o, std::string_view option, std::string_view field, name_check check,
               std::string& out, std::string& problems) {
    if (const std::string* v = o.value(option)) out = *v;
    check_name(problems, check, out, field, "--" + std::string(option));
}

// An optional name option: copied into `out` and checked when given.
void read_name(const parsed_options& o, std::string_view option, std::string_view field, name_check check,
               std::optional<std::string>& out, std::string& problems) {
    if (const std::string* v = o.value(option)) {
        out = *v;
        check_name(problems, check, *v, field, "--" + std::string(option));
    }
}

template <class Request>
std::variant<Request, failure> checked(Request req, const std::string& problems) {
    if (!problems.empty()) return failure{exit_usage, "Parameter validation failed:" + problems, false};
    std::string what;
    if (auto ec = validate(req, &what))
        return failure{exit_usage, "Parameter validation failed:\n" + (what.empty() ? ec.message() : what), false};
    return req;
}

paging paging_from(const parsed_options& o, std::string& problems) {
    paging p;
    if (auto n = bounded(o, "max-results", 1, 250, problems)) p.max_results = static_cast<int>(*n);
    if (const std::string* t = o.value("next-token")) p.next_token = *t;
    if (auto n = bounded(o, "page-size", 1, 250, problems)) p.page_size = static_cast<int>(*n);
    if (auto n = bounded(o, "max-items", 1, INT64_MAX, problems)) p.max_items = static_cast<std::uint64_t>(*n);
    if (const std::string* t = o.value("starting-token")) {
        p.starting = decode_resume_token(*t);
        if (!p.starting)
            problems += "\nInvalid value for --starting-token: " + detail::quote_for_message(*t) +
                        " is not a NextToken printed by an earlier command";
    }
    return p;
}

// --job-id and --thing-name: the execution key of describe and cancel.
void read_execution_key(const parsed_options& o, std::string& job_id, std::string& thing_name, std::string& problems) {
    read_name(o, "job-id", "jobId", detail::validate_job_id, job_id, problems);
    read_name(o, "thing-name", "thingName", detail::validate_thing_name, thing_name, problems);
}

// A list command's paging options copied into its request, then the whole request checked.
template <class Params>
std::variant<Params, failure> with_paging(Params out, const parsed_options& o, std::string& problems) {
    out.pages = paging_from(o, problems);
    out.request.max_results = out.pages.max_results;
    out.request.next_token = out.pages.next_token;
    auto r = checked(std::move(out.request), problems);
    if (auto* f = std::get_if<failure>(&r)) return *f;
    out.request = std::get<decltype(out.request)>(std::move(r));
    return out;
}

}  // namespace

std::variant<list_for_job_params, failure> make_list_for_job_params(const parsed_options& o) {
    list_for_job_params out;
    std::string problems;
    read_name(o, "job-id", "jobId", detail::validate_job_id, out.request.job_id, problems);
    parse_status(o, out.request.status, problems);
    return with_paging(std::move(out), o, problems);
}

std::variant<list_for_thing_params, failure> make_list_for_thing_params(const parsed_options& o) {
    list_for_thing_params out;
    std::string problems;
    read_name(o, "thing-name", "thingName", detail::validate_thing_name, out.request.thing_name, problems);
    parse_status(o, out.request.status, problems);
    read_name(o, "namespace-id", "namespaceId", detail::validate_namespace_id, out.request.namespace_id, problems);
    read_name(o, "job-id", "jobId", detail::validate_job_id, out.request.job_id, problems);
    return with_paging(std::move(out), o, problems);
}

std::variant<describe_job_execution_request, failure> make_describe_request(const parsed_options& o) {
    describe_job_execution_request req;
    std::string problems;
    read_execution_key(o, req.job_id, req.thing_name, problems);
    if (const std::string* v = o.value("execution-number")) {
        std::int64_t n = 0;
        std::string what;
        if (detail::parse_execution_number(*v, n, &what))
            req.execution_number = n;
        else
            add_problem(problems, "executionNumber", "--execution-number",
                        make_error_code(client_errc::invalid_execution_number), what);
    }
    return checked(std::move(req), problems);
}

std::optional<std::map<std::string, std::string>> parse_status_details(std::string_view text) {
    std::map<std::string, std::string> out;
    const auto first = text.find_first_not_of(" \t\n");
    if (first != std::string_view::npos && text[first] == '{') {
        boost::system::error_code ec;
        json::value v = json::parse(text, ec);
        if (ec || !v.is_object()) return std::nullopt;
        for (const auto& kv : v.as_object()) {
            if (!kv.value().is_string()) return std::nullopt;
            out[std::string(kv.key())] = std::string(kv.value().get_string());
        }
        return out;
    }
    // Shorthand: KeyName1=string,KeyName2=string
    std::size_t i = 0;
    while (i <= text.size()) {
        auto end = text.find(',', i);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view pair = text.substr(i, end - i);
        const auto eq = pair.find('=');
        if (eq == std::string_view::npos || eq == 0) return std::nullopt;
        out[std::string(pair.substr(0, eq))] = std::string(pair.substr(eq + 1));
        i = end + 1;
    }
    return out;
}

std::variant<cancel_job_execution_request, failure> make_cancel_request(const parsed_options& o) {
    cancel_job_execution_request req;
    std::string problems;
    read_execution_key(o, req.job_id, req.thing_name, problems);
    req.force = o.flag("force");
    if (auto n = bounded(o, "expected-version", INT64_MIN, INT64_MAX, problems)) req.expected_version = *n;
    if (const std::string* v = o.value("status-details")) {
        if (auto d = parse_status_details(*v))
            req.status_details = std::move(*d);
        else
            problems +=
                "\nInvalid value for --status-details: expected KeyName1=string,KeyName2=string or a "
                "JSON object of strings";
    }
    return checked(std::move(req), problems);
}

// ---------------------------------------------------------------------------------------------
// Running

namespace {

template <class Request>
std::string url_of(const resolved_configuration& rc, const Request& req) {
    const detail::operation_request r = detail::build_request(req);
    std::string url = rc.display_endpoint + r.path;
    if (!r.query.empty()) url += "?" + r.query;
    return url;
}

// One command's calls: a client on a fresh io_context, SIGINT cancelling the calls (130).
class call_runner {
public:
    call_runner(const command_context& ctx, const resolved_configuration& rc) : ctx_(ctx), rc_(rc) {}

    // Runs `body` (which makes the calls and prints) to its end; its result is the exit code.
    int run(std::function<asio::awaitable<int>(client&)> body);

    // After a call: logs it, and for an error prints it as the AWS CLI does; the exit code.
    int finish(const error_code& ec, const diagnostics& diag, std::string_view operation, const std::string& url) {
        call_outcome outcome = make_outcome(ec, diag);
        outcome.interrupted = interrupted_;
        ctx_.log.write(
            "cli",
            std::string(operation) + " " + url + ": " +
                (diag.http_status() ? "HTTP " + std::to_string(diag.http_status()) : std::string("no HTTP response")) +
                ", request id " + (outcome.request_id.empty() ? "(none)" : outcome.request_id) + ", attempts " +
                std::to_string(outcome.attempts) + (ec ? ", error " + ec.message() : std::string()));
        const failure f = describe_outcome(outcome, operation, url, rc_.config.retry.max_attempts);
        print_failure(ctx_.err, f);
        return f.exit_code;
    }
    const resolved_configuration& configuration() const { return rc_; }
    std::ostream& error_stream() const { return ctx_.err; }
    void print(const json::value& v, std::string_view title) {
        ctx_.out << format_response(v, ctx_.globals.output, title) << std::flush;
    }

private:
    const command_context& ctx_;
    const resolved_configuration& rc_;
    bool interrupted_ = false;
};

int call_runner::run(std::function<asio::awaitable<int>(client&)> body) {
    client_config cfg = command_client_config(rc_, ctx_.log, ctx_.err);
    std::optional<int> code;
    asio::cancellation_signal cancel;
    asio::io_context ioc(1);
    cfg.single_threaded = true;
    std::optional<client> c;
    try {
        c.emplace(ioc.get_executor(), std::move(cfg));
    } catch (const std::exception& e) {
        const failure f = client_construction_failure(e, rc_, ctx_.log);
        print_failure(ctx_.err, f);
        return f.exit_code;
    }
    std::optional<asio::signal_set> signals;
    if (ctx_.ro.handle_sigint) {
        signals.emplace(ioc, SIGINT);
        signals->async_wait([&](const error_code& ec, int) {
            if (ec) return;
            interrupted_ = true;
            ctx_.log.write("cli", "SIGINT received: cancelling the call");
            cancel.emit(asio::cancellation_type::terminal);
        });
    }
    asio::co_spawn(
        ioc, body(*c), asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr e, int r) {
            if (signals) signals->cancel();
            if (e) {
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& x) {
                    print_failure(ctx_.err, failure{exit_other, std::string("Internal error: ") + x.what(), false});
                }
                code = exit_other;
                return;
            }
            code = r;
        }));
    while (!code && ioc.run_one() != 0) {}
    c->cancel();
    return code.value_or(exit_other);
}

template <class Request>
asio::awaitable<std::pair<error_code, list_job_executions_result>> list_page(client& c, const Request& req,
                                                                             diagnostics& diag) {
    auto [ec, r] = co_await [&] {
        if constexpr (std::is_same_v<Request, list_job_executions_for_job_request>)
            return list_job_executions_for_job(c, req, diag, asio::as_tuple(asio::use_awaitable));
        else
            return list_job_executions_for_thing(c, req, diag, asio::as_tuple(asio::use_awaitable));
    }();
    co_return std::make_pair(ec, std::move(r));
}

// The AWS CLI's paginated list: every page (or up to --max-items), one executionSummaries list.
template <class Request>
asio::awaitable<int> run_list(call_runner& run, client& c, Request req, paging p, bool no_paginate,
                              std::string_view operation, bool for_job) {
    const bool single = no_paginate || p.max_results || p.next_token;
    if (!single) {
        req.max_results = p.page_size;
        if (p.starting) req.next_token = p.starting->next_token;
    }
    std::uint64_t skip = !single && p.starting ? p.starting->truncate_amount : 0;
    json::array items;
    std::optional<resume_token> resume;
    std::optional<std::string> service_token;
    for (;;) {
        diagnostics diag;
        const std::optional<std::string> page_token = req.next_token;
        auto [ec, page] = co_await list_page(c, req, diag);
        if (ec) co_return run.finish(ec, diag, operation, url_of(run.configuration(), req));
        run.finish(ec, diag, operation, url_of(run.configuration(), req));
        for (std::size_t k = std::min<std::uint64_t>(skip, page.executions.size()); k < page.executions.size(); ++k) {
            if (!single && p.max_items && items.size() == *p.max_items) {
                resume = resume_token{page_token, k};
                break;
            }
            items.push_back(summary_json(page.executions[k], for_job));
        }
        skip = 0;
        service_token = page.next_token;
        if (single || resume || !page.next_token) break;
        if (page.next_token == page_token) {  // botocore's PaginationError: no progress, stop
            print_failure(run.error_stream(), failure{exit_other,
                                                      "Error during pagination: The same next token was received "
                                                      "twice: " +
                                                          *page.next_token,
                                                      false});
            co_return exit_other;
        }
        req.next_token = page.next_token;
        if (p.max_items && items.size() == *p.max_items) {
            resume = resume_token{page.next_token, 0};
            break;
        }
    }
    json::object out;
    out["executionSummaries"] = std::move(items);
    if (single && service_token) out["nextToken"] = *service_token;
    if (resume) out["NextToken"] = encode_resume_token(*resume);
    run.print(out, operation);
    co_return exit_success;
}

// Prints the argument failure, or configures the client and runs `call(runner, client, request)`.
template <class Request, class Call>
int run_command(const command_context& ctx, std::variant<Request, failure> parsed, Call call) {
    return configure_and_run(ctx, parsed, [&](const resolved_configuration& cfg, const Request& request) {
        call_runner runner(ctx, cfg);
        return runner.run([&](client& c) { return call(runner, c, request); });
    });
}

template <class Params>
int list_command(const command_context& ctx, std::variant<Params, failure> params, std::string_view operation,
                 bool for_job) {
    const bool no_paginate = ctx.globals.no_paginate;
    return run_command(ctx, std::move(params), [&](call_runner& runner, client& c, const Params& p) {
        return run_list(runner, c, p.request, p.pages, no_paginate, operation, for_job);
    });
}

asio::awaitable<int> describe_call(call_runner& runner, client& c, const describe_job_execution_request& request) {
    diagnostics diag;
    auto [ec, e] = co_await describe_job_execution(c, request, diag, asio::as_tuple(asio::use_awaitable));
    const int code = runner.finish(ec, diag, "DescribeJobExecution", url_of(runner.configuration(), request));
    if (!ec) runner.print(json::object{{"execution", execution_json(e)}}, "DescribeJobExecution");
    co_return code;
}

asio::awaitable<int> cancel_call(call_runner& runner, client& c, const cancel_job_execution_request& request) {
    diagnostics diag;
    auto [ec] = co_await cancel_job_execution(c, request, diag, asio::as_tuple(asio::use_awaitable));
    // An empty response: nothing printed on success, as the AWS CLI.
    co_return runner.finish(ec, diag, "CancelJobExecution", url_of(runner.configuration(), request));
}

}  // namespace

int list_job_executions_for_job_command(const command_context& ctx) {
    return list_command(ctx, make_list_for_job_params(ctx.cl.options), "ListJobExecutionsForJob", true);
}

int list_job_executions_for_thing_command(const command_context& ctx) {
    return list_command(ctx, make_list_for_thing_params(ctx.cl.options), "ListJobExecutionsForThing", false);
}

int describe_job_execution_command(const command_context& ctx) {
    return run_command(ctx, make_describe_request(ctx.cl.options), describe_call);
}

int cancel_job_execution_command(const command_context& ctx) {
    return run_command(ctx, make_cancel_request(ctx.cl.options), cancel_call);
}

}  // namespace iotjobs::cli
