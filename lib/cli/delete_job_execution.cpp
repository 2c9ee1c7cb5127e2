// iotjobs delete-job-execution: builds the client, runs one call, maps the outcome.
#include "cli/cli.hpp"
#include "util/system_error.hpp"

#include <iotjobs/client.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/system/system_error.hpp>

#include <csignal>
#include <cstdlib>
#include <functional>
#include <optional>
#include <system_error>

namespace iotjobs::cli {
namespace {

constexpr std::string_view operation_name = "DeleteJobExecution";

// The client's constructor reports configuration problems with client_errc codes.
failure constructor_failure(int value, std::string_view category, std::string_view what,
                            const resolved_configuration& rc) {
    if (category == client_category().name()) {
        switch (static_cast<client_errc>(value)) {
        case client_errc::no_region:
            return failure{exit_config,
                           "You must specify a region. You can also configure your region with the AWS_REGION or "
                           "AWS_DEFAULT_REGION environment variable, or pass --region.",
                           false};
        case client_errc::tls_setup_failed:
            // A CA bundle the library cannot load is the user's configuration; anything else is TLS itself.
            return failure{rc.config.ca_bundle.empty() ? exit_other : exit_config, std::string(what), false};
        default: return failure{exit_config, std::string(what), false};
        }
    }
    return failure{exit_other, "Could not create the client: " + std::string(what), false};
}

std::string describe_code(const error_code& ec) {
    return std::string(ec.category().name()) + ":" + std::to_string(ec.value()) + " (" + ec.message() + ")";
}

}  // namespace

failure client_construction_failure(const std::exception& e, const resolved_configuration& rc, debug_log& log) {
    if (const auto* se = dynamic_cast<const boost::system::system_error*>(&e)) {
        log.write("cli", "client construction failed: " + describe_code(se->code()));
        return constructor_failure(se->code().value(), se->code().category().name(),
                                   detail::explanation_of(*se) + ": " + se->code().message(), rc);
    }
    if (const auto* se = dynamic_cast<const std::system_error*>(&e)) {
        log.write("cli", "client construction failed: " + std::string(se->code().category().name()) + ":" +
                             std::to_string(se->code().value()));
        return constructor_failure(se->code().value(), se->code().category().name(), se->what(), rc);
    }
    return failure{exit_other, std::string("Could not create the client: ") + e.what(), false};
}

client_config command_client_config(const resolved_configuration& rc, debug_log& log, std::ostream& err) {
    client_config cfg = rc.config;
    if (log.enabled()) {
        cfg.level = log_level::debug;
        cfg.structured_log = log.record_sink("client");
    }
    if (!cfg.verify_peer)
        err << "warning: --no-verify-ssl: the server's certificate and host name are NOT verified.\n" << std::flush;
    return cfg;
}

namespace {

// The --debug line that closes a call: status, request id, attempts, waits, result.
std::string response_summary(const call_outcome& outcome, const diagnostics& diag, const error_code& result) {
    std::string s = "response: ";
    s += outcome.http_status ? "HTTP " + std::to_string(outcome.http_status) : std::string("no HTTP response");
    s += ", request id " + (outcome.request_id.empty() ? std::string("(none)") : outcome.request_id);
    s += ", attempts " + std::to_string(outcome.attempts);
    s += ", retry wait " + std::to_string(diag.retry_wait().count()) + " ms";
    if (diag.earlier_attempt_may_have_succeeded()) s += ", an earlier attempt may have succeeded";
    s += "; result " + (result ? describe_code(result) : std::string("success"));
    if (!outcome.aws_error_name.empty()) s += ", error " + outcome.aws_error_name;
    return s;
}

// Prints what the call ended with, as the AWS CLI would, and returns the exit code.
int report_delete_outcome(const call_outcome& outcome, const diagnostics& diag, const error_code& result,
                          std::string_view url, unsigned max_attempts, std::ostream& err) {
    failure f = describe_outcome(outcome, operation_name, url, max_attempts);
    if (f.exit_code == exit_service && diag.earlier_attempt_may_have_succeeded() &&
        result == service_errc::resource_not_found)
        f.message += "\n(an earlier attempt of this call may have deleted the execution)";
    print_failure(err, f);
    return f.exit_code;
}

}  // namespace

int run_delete_job_execution(const resolved_configuration& rc, const delete_job_execution_request& req, debug_log& log,
                             std::ostream& /*out*/, std::ostream& err, const run_options& ro) {
    namespace asio = boost::asio;
    const std::string url = request_url(rc.display_endpoint, req);
    client_config cfg = command_client_config(rc, log, err);

    // Declared before the io_context: handlers it still holds at destruction may refer to them.
    diagnostics diag;
    error_code result;
    bool done = false;
    bool interrupted = false;
    asio::cancellation_signal cancel;

    asio::io_context ioc(1);
    cfg.single_threaded = true;  // ioc.run() on this thread only
    std::optional<client> c;
    try {
        c.emplace(ioc.get_executor(), std::move(cfg));
    } catch (const std::exception& e) {
        const failure f = client_construction_failure(e, rc, log);
        print_failure(err, f);
        return f.exit_code;
    }

    log.write("cli", "calling " + std::string(operation_name) + ": DELETE " + url);

    std::optional<asio::signal_set> signals;
    std::function<void(const error_code&, int)> on_signal;
    if (ro.handle_sigint) {
        signals.emplace(ioc, SIGINT);
        // First SIGINT: cancel the call (it completes with operation_aborted -> 130). A second one,
        // should the cancellation not finish, leaves at once.
        on_signal = [&](const error_code& ec, int) {
            if (ec || done) return;
            if (interrupted) {
                err << "\nInterrupted again: exiting without waiting for the call to finish.\n" << std::flush;
                std::_Exit(exit_interrupted);
            }
            interrupted = true;
            log.write("cli", "SIGINT received: cancelling the call");
            cancel.emit(asio::cancellation_type::terminal);
            signals->async_wait(on_signal);
        };
        signals->async_wait(on_signal);
    }

    try {
        delete_job_execution(*c, req, diag, asio::bind_cancellation_slot(cancel.slot(), [&](error_code ec) {
            result = ec;
            done = true;
            if (signals) signals->cancel();
        }));
        while (!done && ioc.run_one() != 0) {}
    } catch (const std::exception& e) {
        const failure f{exit_other,
                        std::string("Internal error while calling ") + std::string(operation_name) + ": " + e.what(),
                        false};
        print_failure(err, f);
        return f.exit_code;
    }
    if (!done) {
        const failure f{exit_other, "Internal error: the " + std::string(operation_name) + " call never completed.",
                        false};
        print_failure(err, f);
        return f.exit_code;
    }
    // Close pooled connections; leave the rest to the destructors (no need to drain the context).
    c->cancel();

    call_outcome outcome = make_outcome(result, diag);
    outcome.interrupted = interrupted;
    log.write("cli", response_summary(outcome, diag, result));
    return report_delete_outcome(outcome, diag, result, url, rc.config.retry.max_attempts, err);
}

std::variant<resolved_configuration, int> configure_command(const command_context& ctx) {
    auto rc = resolve_configuration(ctx.globals, ctx.env);
    if (auto* f = std::get_if<failure>(&rc)) {
        print_failure(ctx.err, *f);
        return f->exit_code;
    }
    auto& cfg = std::get<resolved_configuration>(rc);
    ctx.log.add_secret(cfg.config.static_credentials.secret_access_key);
    ctx.log.add_secret(cfg.config.static_credentials.session_token);
    for (const auto& line : cfg.sources) ctx.log.write("cli", line);
    return std::move(cfg);
}

int delete_job_execution_command(const command_context& ctx) {
    const auto parsed = make_delete_job_execution_request(ctx.cl.options);
    return configure_and_run(ctx, parsed,
                             [&](const resolved_configuration& cfg, const delete_job_execution_request& request) {
                                 if (ctx.ro.before_call) {
                                     if (auto code = ctx.ro.before_call(cfg, request)) return *code;
                                 }
                                 return run_delete_job_execution(cfg, request, ctx.log, ctx.out, ctx.err, ctx.ro);
                             });
}

}  // namespace iotjobs::cli
