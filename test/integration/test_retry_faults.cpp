// Retries against the in-process fake endpoint's fault injection (issue 4): throttling, 503s,
// resets, a skewed server clock, stalled responses, cancellation during a backoff, errors that
// are never retried, the retry quota and the overall operation deadline. Every test asserts the
// client's diagnostics and the fake's own counts; timings are only checked with generous bounds.
#include "client_impl.hpp"
#include "fake/server.hpp"

#include <iotjobs/client.hpp>
#include <iotjobs/delete_job_execution.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace fake = iotjobs::fake;
using iotjobs::error_code;
using iotjobs::service_errc;
using namespace std::chrono_literals;

namespace {

const iotjobs::credentials test_creds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
constexpr std::string_view delete_op = "DeleteJobExecution";

fake::execution exec(std::string thing, std::int64_t n, fake::execution_status s = fake::execution_status::succeeded) {
    fake::execution e;
    e.thing_name = std::move(thing);
    e.job_id = "job-1";
    e.execution_number = n;
    e.status = s;
    return e;
}

iotjobs::delete_job_execution_request del(std::string thing, std::int64_t n) {
    return {std::move(thing), "job-1", n, {}, {}};
}

fake::fault_rule fault(std::string_view spec) {
    std::string err;
    auto r = fake::parse_fault(spec, err);
    REQUIRE_MESSAGE(r.has_value(), err);
    return *r;
}

// The debug log of a client, kept for inspection.
struct log_capture {
    std::mutex m;
    std::vector<std::string> lines;

    std::function<void(iotjobs::log_level, std::string_view)> sink() {
        return [this](iotjobs::log_level, std::string_view msg) {
            std::lock_guard lk(m);
            lines.emplace_back(msg);
        };
    }
    std::size_t count(std::string_view needle) {
        std::lock_guard lk(m);
        std::size_t n = 0;
        for (const auto& l : lines)
            if (l.find(needle) != std::string::npos) ++n;
        return n;
    }
    // The X of every "retrying (...) after X ms" line.
    std::vector<std::chrono::milliseconds> retry_delays() {
        std::lock_guard lk(m);
        std::vector<std::chrono::milliseconds> out;
        for (const auto& l : lines) {
            if (!l.starts_with("retrying (")) continue;
            auto at = l.rfind(" after ");
            if (at != std::string::npos) out.emplace_back(std::stoll(l.substr(at + 7)));
        }
        return out;
    }
};

// The X of a "retrying (...) after X ms" line, if `msg` is one.
std::optional<std::chrono::milliseconds> retry_delay_of(std::string_view msg) {
    if (!msg.starts_with("retrying (")) return std::nullopt;
    auto at = msg.rfind(" after ");
    if (at == std::string_view::npos) return std::nullopt;
    return std::chrono::milliseconds(std::stoll(std::string(msg.substr(at + 7))));
}

// Retries on, short backoff (tests stay fast), debug log captured when `log` is given.
iotjobs::client_config config_for(const fake::server& s, unsigned max_attempts = 3, log_capture* log = nullptr) {
    iotjobs::client_config cfg;
    cfg.region = "us-east-1";
    cfg.endpoint_url = s.base_url();
    cfg.static_credentials = test_creds;
    cfg.retry.max_attempts = max_attempts;
    cfg.retry.base_delay = 20ms;
    if (log) {
        cfg.level = iotjobs::log_level::debug;
        cfg.log = log->sink();
    }
    return cfg;
}

error_code run_delete(asio::io_context& ctx, iotjobs::client& c, iotjobs::delete_job_execution_request r,
                      iotjobs::diagnostics& diag) {
    error_code result = make_error_code(iotjobs::client_errc::bad_response);
    bool done = false;
    iotjobs::delete_job_execution(c, std::move(r), diag, [&](error_code ec) {
        result = ec;
        done = true;
    });
    ctx.restart();
    ctx.run_for(30s);
    REQUIRE(done);
    return result;
}

// Sends a hand-made request through the client's attempt loop (for requests the public API
// refuses to build, such as an invalid query parameter).
error_code run_raw(asio::io_context& ctx, iotjobs::client& c, iotjobs::detail::operation_request op,
                   iotjobs::diagnostics& diag) {
    error_code result = make_error_code(iotjobs::client_errc::bad_response);
    bool done = false;
    // `op` and the client outlive the coroutine (run until it is done, below).
    asio::co_spawn(ctx, iotjobs::detail::access::impl(c)->execute(op, diag), [&](std::exception_ptr ep, error_code ec) {
        result = ep ? make_error_code(iotjobs::client_errc::bad_response) : ec;
        done = true;
    });
    ctx.restart();
    ctx.run_for(30s);
    REQUIRE(done);
    return result;
}

std::chrono::milliseconds sum(const std::vector<std::chrono::milliseconds>& v) {
    std::chrono::milliseconds t{0};
    for (auto d : v) t += d;
    return t;
}

}  // namespace

TEST_CASE("retry: throttled twice, then success in 3 attempts") {
    fake::server s;
    s.start();
    s.add_execution(exec("thing-1", 1));
    s.set_faults({fault("throttle=first:2,op=DeleteJobExecution")});
    asio::io_context ctx;
    log_capture log;
    iotjobs::client c(ctx.get_executor(), config_for(s, 3, &log));
    iotjobs::diagnostics diag;

    auto ec = run_delete(ctx, c, del("thing-1", 1), diag);
    CHECK_MESSAGE(!ec, ec.message());
    CHECK(diag.attempts() == 3);
    CHECK(diag.http_status() == 200);
    CHECK(diag.aws_error_name().empty());
    CHECK(!diag.earlier_attempt_may_have_succeeded());
    auto delays = log.retry_delays();
    REQUIRE(delays.size() == 2);
    // retry_wait is the time actually spent in the two backoff timers.
    CHECK(diag.retry_wait() + 2ms >= sum(delays));
    CHECK(diag.retry_wait() < 10s);
    CHECK(!s.find("thing-1", "job-1", 1));

    auto st = s.stats();
    CHECK(st.count(delete_op, "ThrottlingException") == 2);
    CHECK(st.count(delete_op, "ok") == 1);
    CHECK(st.faults["throttle"] == 2);
    auto cs = c.stats();
    CHECK(cs.requests == 3);
    CHECK(cs.retries == 2);
    CHECK(cs.throttled == 2);
    CHECK(cs.connects == 1);  // a throttling answer keeps the connection alive
    CHECK(cs.leased == 0);
}

TEST_CASE("retry: 503 three times with max attempts 3 gives ServiceUnavailableException after 3 attempts") {
    fake::server s;
    s.start();
    s.add_execution(exec("thing-1", 1));
    s.set_faults({fault("unavailable=first:3")});
    asio::io_context ctx;
    log_capture log;
    iotjobs::client c(ctx.get_executor(), config_for(s, 3, &log));
    iotjobs::diagnostics diag;

    auto ec = run_delete(ctx, c, del("thing-1", 1), diag);
    CHECK(ec == service_errc::service_unavailable);
    CHECK(diag.attempts() == 3);
    CHECK(diag.http_status() == 503);
    CHECK(diag.aws_error_name() == "ServiceUnavailableException");
    CHECK(!diag.earlier_attempt_may_have_succeeded());
    CHECK(log.count("retrying (transient") == 2);
    CHECK(log.count("not retried: max attempts reached") == 1);
    CHECK(s.find("thing-1", "job-1", 1).has_value());  // never processed
    CHECK(s.stats().count(delete_op, "ServiceUnavailableException") == 3);
    CHECK(s.stats().count(delete_op, "ok") == 0);
    CHECK(c.stats().retries == 2);
    CHECK(c.stats().throttled == 0);

    // The fault is spent: the next call succeeds at once.
    ec = run_delete(ctx, c, del("thing-1", 1), diag);
    CHECK(!ec);
    CHECK(diag.attempts() == 1);
    CHECK(diag.retry_wait() == 0ms);
}

TEST_CASE(
    "retry: a reset after the delete was processed -> the retry's 404 says an earlier attempt may have deleted it") {
    fake::server s;
    s.start();
    s.add_execution(exec("thing-0", 0));
    s.add_execution(exec("thing-1", 1));
    asio::io_context ctx;
    log_capture log;
    iotjobs::client c(ctx.get_executor(), config_for(s, 3, &log));
    iotjobs::diagnostics diag;

    SUBCASE("on a new connection") {
        s.set_faults({fault("reset-after=first:1")});
        auto ec = run_delete(ctx, c, del("thing-1", 1), diag);
        CHECK(ec == service_errc::resource_not_found);
        CHECK(diag.attempts() == 2);
        CHECK(diag.http_status() == 404);
        CHECK(diag.earlier_attempt_may_have_succeeded());
        CHECK(log.count("attempt 1: transport error") == 1);
        CHECK(c.stats().connects == 2);  // the reset connection was not reused
    }
    SUBCASE("on a kept-alive connection") {
        REQUIRE(!run_delete(ctx, c, del("thing-0", 0), diag));
        REQUIRE(c.stats().idle == 1);
        s.set_faults({fault("reset-after=first:1")});
        auto ec = run_delete(ctx, c, del("thing-1", 1), diag);
        CHECK(ec == service_errc::resource_not_found);
        CHECK(diag.attempts() == 2);
        CHECK(diag.earlier_attempt_may_have_succeeded());
    }
    CHECK(!s.find("thing-1", "job-1", 1));  // deleted by the first attempt
    CHECK(s.stats().faults["reset-after"] == 1);
    CHECK(s.stats().count(delete_op, "ResourceNotFoundException") == 1);
    CHECK(c.stats().leased == 0);

    // A plain 404 on a first attempt is not flagged.
    auto ec = run_delete(ctx, c, del("thing-9", 9), diag);
    CHECK(ec == service_errc::resource_not_found);
    CHECK(diag.attempts() == 1);
    CHECK(!diag.earlier_attempt_may_have_succeeded());
}

TEST_CASE("retry: a reset before processing is retried and succeeds") {
    fake::server s;
    s.start();
    s.add_execution(exec("thing-1", 1));
    s.set_faults({fault("reset-before=first:1")});
    asio::io_context ctx;
    iotjobs::client c(ctx.get_executor(), config_for(s));
    iotjobs::diagnostics diag;
    auto ec = run_delete(ctx, c, del("thing-1", 1), diag);
    CHECK_MESSAGE(!ec, ec.message());
    CHECK(diag.attempts() == 2);
    CHECK(!diag.earlier_attempt_may_have_succeeded());
    CHECK(!s.find("thing-1", "job-1", 1));
    CHECK(s.stats().faults["reset-before"] == 1);
}

TEST_CASE("retry: a server clock 15 minutes off -> one correction, and the offset is kept") {
    for (auto offset : {std::chrono::seconds(15min), std::chrono::seconds(-15min)}) {
        CAPTURE(offset.count());
        fake::server s;
        s.start();
        s.add_execution(exec("thing-1", 1));
        s.add_execution(exec("thing-2", 2));
        s.set_clock_offset(offset);
        asio::io_context ctx;
        log_capture log;
        iotjobs::client c(ctx.get_executor(), config_for(s, 3, &log));
        iotjobs::diagnostics diag;

        auto ec = run_delete(ctx, c, del("thing-1", 1), diag);
        CHECK_MESSAGE(!ec, ec.message());
        CHECK(diag.attempts() == 2);
        CHECK(diag.retry_wait() == 0ms);  // a clock-skew retry does not back off
        CHECK(log.count("retrying (clock_skew") == 1);
        CHECK(log.count("clock skew corrected: offset now") == 1);
        auto kept = iotjobs::detail::access::impl(c)->clock_offset();
        CHECK(kept >= offset - 2s);
        CHECK(kept <= offset + 2s);
        CHECK(s.stats().count(delete_op, "InvalidSignatureException") == 1);
        CHECK(s.stats().signature_failures == 1);

        // A later call signs with the corrected clock at once.
        ec = run_delete(ctx, c, del("thing-2", 2), diag);
        CHECK(!ec);
        CHECK(diag.attempts() == 1);
        CHECK(s.stats().signature_failures == 1);
        CHECK(s.execution_count() == 0);
    }
}

TEST_CASE("retry: a real signature error (right clock) is not mistaken for clock skew") {
    fake::server s;
    s.start();
    s.add_execution(exec("thing-1", 1));
    asio::io_context ctx;
    auto cfg = config_for(s);
    cfg.static_credentials.secret_access_key = "not-the-secret";
    iotjobs::client c(ctx.get_executor(), cfg);
    iotjobs::diagnostics diag;
    auto ec = run_delete(ctx, c, del("thing-1", 1), diag);
    CHECK(ec == service_errc::invalid_signature);
    CHECK(diag.attempts() == 1);
    CHECK(iotjobs::detail::access::impl(c)->clock_offset() == 0s);
}

TEST_CASE("retry: a stalled response -> the per-attempt timeout fires, the connection is dropped, the retry succeeds") {
    fake::server s;
    s.start();
    for (int i = 1; i <= 3; ++i) s.add_execution(exec("thing-" + std::to_string(i), i));
    asio::io_context ctx;
    log_capture log;
    auto cfg = config_for(s, 3, &log);
    cfg.timeouts.attempt = 300ms;
    iotjobs::client c(ctx.get_executor(), cfg);
    iotjobs::diagnostics diag;

    // The first request waits 5 s on the server before it is even processed: the client gives
    // up after 300 ms and retries on a new connection.
    s.set_faults({fault("latency=first:1,ms=5000")});
    auto ec = run_delete(ctx, c, del("thing-1", 1), diag);
    CHECK_MESSAGE(!ec, ec.message());
    CHECK(diag.attempts() == 2);
    CHECK(log.count("attempt 1: transport error") == 1);  // the attempt timeout, not the stalled answer
    CHECK(c.stats().connects == 2);
    CHECK(s.stats().connections_accepted == 2);
    CHECK(c.stats().leased == 0);
    CHECK(c.stats().idle == 1);  // only the good connection went back to the pool

    // The next call reuses the good connection, not the stalled one.
    s.set_faults({});
    auto reuses = c.stats().reuses;
    ec = run_delete(ctx, c, del("thing-2", 2), diag);
    CHECK(!ec);
    CHECK(diag.attempts() == 1);
    CHECK(c.stats().reuses == reuses + 1);
    CHECK(c.stats().connects == 2);
    CHECK(s.stats().connections_accepted == 2);

    SUBCASE("processed, then never answered: the retry's 404 is flagged") {
        s.set_faults({fault("stall=first:1")});
        ec = run_delete(ctx, c, del("thing-3", 3), diag);
        CHECK(ec == service_errc::resource_not_found);
        CHECK(diag.attempts() == 2);
        CHECK(diag.earlier_attempt_may_have_succeeded());
        CHECK(!s.find("thing-3", "job-1", 3));
        CHECK(c.stats().leased == 0);
    }
}

TEST_CASE("retry: cancelling during a backoff completes with operation_aborted at once") {
    for (bool whole_client : {false, true}) {
        CAPTURE(whole_client);
        fake::server s;
        s.start();
        s.add_execution(exec("thing-1", 1));
        s.set_faults({fault("unavailable=always")});
        asio::io_context ctx;
        asio::cancellation_signal sig;
        std::optional<iotjobs::client> c;

        // Backoffs of up to 20 s; cancel during the first one of at least 2 s.
        auto cfg = config_for(s, 10);
        cfg.retry.base_delay = 20s;
        std::optional<std::chrono::milliseconds> long_backoff;
        std::chrono::steady_clock::time_point cancelled_at{};
        cfg.level = iotjobs::log_level::debug;
        cfg.log = [&](iotjobs::log_level, std::string_view msg) {
            auto d = retry_delay_of(msg);
            if (!d || *d < 2s || long_backoff) return;
            long_backoff = *d;
            // Posted: runs once the attempt loop is waiting on its backoff timer.
            asio::post(ctx, [&] {
                cancelled_at = std::chrono::steady_clock::now();
                if (whole_client)
                    c->cancel();
                else
                    sig.emit(asio::cancellation_type::terminal);
            });
        };
        c.emplace(ctx.get_executor(), cfg);

        iotjobs::diagnostics diag;
        error_code result;
        bool done = false;
        std::chrono::steady_clock::time_point completed_at{};
        iotjobs::delete_job_execution(*c, del("thing-1", 1), diag,
                                      asio::bind_cancellation_slot(sig.slot(), [&](error_code ec) {
                                          result = ec;
                                          done = true;
                                          completed_at = std::chrono::steady_clock::now();
                                      }));
        ctx.run_for(60s);
        REQUIRE(done);
        REQUIRE(long_backoff.has_value());
        CHECK(result == asio::error::operation_aborted);
        auto after_cancel = completed_at - cancelled_at;
        CHECK(after_cancel < *long_backoff / 2);  // well under the backoff delay
        CHECK(after_cancel < 1s);
        CHECK(diag.retry_wait() < *long_backoff);
        CHECK(diag.attempts() >= 1);
        CHECK(s.stats().count(delete_op, "ServiceUnavailableException") == diag.attempts());
        CHECK(c->stats().leased == 0);

        // The client stays usable.
        s.set_faults({});
        iotjobs::diagnostics d2;
        CHECK(!run_delete(ctx, *c, del("thing-1", 1), d2));
        CHECK(d2.attempts() == 1);
    }
}

TEST_CASE("retry: InvalidRequest, InvalidStateTransition, ResourceNotFound and auth errors are never retried") {
    fake::server_options o;
    o.credentials["AKIDTEMP"] = {"temp-secret", "the-token"};
    fake::server s(o);
    s.start();
    s.add_execution(exec("thing-1", 1, fake::execution_status::in_progress));
    s.add_execution(exec("thing-2", 2));
    asio::io_context ctx;
    iotjobs::diagnostics diag;
    auto cfg = config_for(s, 5);
    iotjobs::client c(ctx.get_executor(), cfg);

    CHECK(run_delete(ctx, c, del("thing-1", 1), diag) == service_errc::invalid_state_transition);
    CHECK(diag.attempts() == 1);
    CHECK(s.stats().count(delete_op, "InvalidStateTransitionException") == 1);

    CHECK(run_delete(ctx, c, del("thing-9", 9), diag) == service_errc::resource_not_found);
    CHECK(diag.attempts() == 1);
    CHECK(s.stats().count(delete_op, "ResourceNotFoundException") == 1);

    // force=maybe: refused by the service (the public API cannot build it).
    iotjobs::detail::operation_request raw;
    raw.method = "DELETE";
    raw.path = "/things/thing-2/jobs/job-1/executionNumber/2";
    raw.query = "force=maybe";
    raw.operation_name = "DeleteJobExecution";
    CHECK(run_raw(ctx, c, raw, diag) == service_errc::invalid_request);
    CHECK(diag.attempts() == 1);
    CHECK(diag.aws_error_name() == "InvalidRequestException");
    CHECK(s.stats().count(delete_op, "InvalidRequestException") == 1);
    CHECK(c.stats().retries == 0);

    struct auth_case {
        iotjobs::credentials creds;
        service_errc expected;
        std::string_view name;
    };
    for (const auto& a :
         {auth_case{{"AKIDUNKNOWN", "whatever", ""}, service_errc::unrecognized_client, "UnrecognizedClientException"},
          auth_case{
              {"AKIDEXAMPLE", "not-the-secret", ""}, service_errc::invalid_signature, "InvalidSignatureException"},
          auth_case{{"AKIDTEMP", "temp-secret", "not-the-token"},
                    service_errc::unrecognized_client,
                    "UnrecognizedClientException"}}) {
        CAPTURE(a.name);
        auto acfg = cfg;
        acfg.static_credentials = a.creds;
        iotjobs::client ac(ctx.get_executor(), acfg);
        auto before = s.stats().count(delete_op, a.name);
        CHECK(run_delete(ctx, ac, del("thing-2", 2), diag) == a.expected);
        CHECK(diag.attempts() == 1);
        CHECK(diag.aws_error_name() == a.name);
        CHECK(s.stats().count(delete_op, a.name) == before + 1);
        CHECK(ac.stats().retries == 0);
    }
    CHECK(s.find("thing-2", "job-1", 2).has_value());
}

TEST_CASE("retry: the retry quota stops retries against a failing endpoint, and refills on success") {
    fake::server s;
    s.start();
    for (int i = 1; i <= 20; ++i) s.add_execution(exec("thing-" + std::to_string(i), i));
    s.set_faults({fault("unavailable=always")});
    asio::io_context ctx;
    log_capture log;
    auto cfg = config_for(s, 3, &log);
    cfg.retry.quota_capacity = 10;  // two retries' worth
    cfg.retry.base_delay = 1ms;
    iotjobs::client c(ctx.get_executor(), cfg);
    iotjobs::diagnostics diag;

    // The first call spends the whole quota (2 retries x 5 tokens).
    CHECK(run_delete(ctx, c, del("thing-1", 1), diag) == service_errc::service_unavailable);
    CHECK(diag.attempts() == 3);
    CHECK(log.count("retry quota exhausted") == 0);

    // Later calls are not retried, and the log says why.
    for (int i = 2; i <= 4; ++i) {
        CHECK(run_delete(ctx, c, del("thing-" + std::to_string(i), i), diag) == service_errc::service_unavailable);
        CHECK(diag.attempts() == 1);
        CHECK(diag.aws_error_name() == "ServiceUnavailableException");
    }
    CHECK(log.count("not retried: retry quota exhausted") == 3);
    CHECK(s.stats().count(delete_op, "ServiceUnavailableException") == 3 + 3);
    CHECK(c.stats().retries == 2);

    // Each first-attempt success adds a token; five of them pay for one retry again.
    s.set_faults({});
    for (int i = 2; i <= 6; ++i) {
        CHECK(!run_delete(ctx, c, del("thing-" + std::to_string(i), i), diag));
        CHECK(diag.attempts() == 1);
    }
    s.set_faults({fault("unavailable=first:1")});
    CHECK(!run_delete(ctx, c, del("thing-7", 7), diag));
    CHECK(diag.attempts() == 2);
    // The success refunded the retry's cost: one more retry is affordable.
    s.set_faults({fault("unavailable=first:1")});
    CHECK(!run_delete(ctx, c, del("thing-8", 8), diag));
    CHECK(diag.attempts() == 2);
    // ...but not two in a row within one call.
    s.set_faults({fault("unavailable=first:2")});
    CHECK(run_delete(ctx, c, del("thing-9", 9), diag) == service_errc::service_unavailable);
    CHECK(diag.attempts() == 2);
    CHECK(log.count("not retried: retry quota exhausted") == 4);
}

TEST_CASE("retry: the overall operation deadline") {
    fake::server s;
    s.start();
    for (int i = 1; i <= 3; ++i) s.add_execution(exec("thing-" + std::to_string(i), i));
    asio::io_context ctx;
    log_capture log;
    auto cfg = config_for(s, 10, &log);
    cfg.timeouts.operation = 600ms;
    iotjobs::client c(ctx.get_executor(), cfg);
    iotjobs::diagnostics diag;

    SUBCASE("a stalled attempt ends at the deadline with deadline_exceeded; the connection is dropped") {
        s.set_faults({fault("latency=first:1,ms=5000")});
        auto ec = run_delete(ctx, c, del("thing-1", 1), diag);
        CHECK(ec == iotjobs::client_errc::deadline_exceeded);
        CHECK(diag.attempts() == 1);
        CHECK(diag.message().find("deadline") != std::string_view::npos);
        CHECK(c.stats().leased == 0);
        CHECK(c.stats().idle == 0);

        ec = run_delete(ctx, c, del("thing-2", 2), diag);
        CHECK(!ec);
        CHECK(diag.attempts() == 1);
        CHECK(c.stats().connects == 2);
    }
    SUBCASE("backoffs that would pass the deadline stop the retries before it") {
        s.set_faults({fault("unavailable=always")});
        c = iotjobs::client(ctx.get_executor(), [&] {
            auto k = cfg;
            k.retry.base_delay = 300ms;
            k.timeouts.operation = 1s;
            return k;
        }());
        auto ec = run_delete(ctx, c, del("thing-1", 1), diag);
        // The last service error is returned; the log says why retrying stopped.
        CHECK(ec == service_errc::service_unavailable);
        CHECK(diag.attempts() >= 1);
        CHECK(diag.attempts() < 10);
        CHECK(log.count("not retried: the operation deadline would pass before the next attempt") == 1);
    }
}
